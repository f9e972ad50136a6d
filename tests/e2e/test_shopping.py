"""Buying in a real browser: search, product page, cart, checkout, the simulated card
payment confirmed by webhook through the worker, the order in the shopper's and the
seller's lists. And the staff side of the shelf: vetting a seller application."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD
from tests.e2e.test_accounts import log_in


def _demo_seller_product(chromium: Any, server: Any) -> str:
    """An active product of the demo seller, read from the seller center."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, base_url=server.base_url)
    try:
        seller = context.new_page()
        log_in(seller, "seller@demo.reelshop.dev", DEMO_PASSWORD)
        seller.goto("/seller/products?status=active")
        link = seller.locator("main a.product-link").first
        href = link.get_attribute("href")
        assert href and href.startswith("/seller/products/prd_")
        return href.rsplit("/", 1)[1]
    finally:
        context.close()


def test_shopper_buys_and_pays_then_the_seller_sees_the_order(
    page: Any, chromium: Any, server: Any
) -> None:
    log_in(page, "shopper@demo.reelshop.dev", DEMO_PASSWORD)
    page.goto("/shop/search?q=wireless+earbuds")
    expect(page.locator("main a[href^='/products/']").first).to_be_visible()

    product_id = _demo_seller_product(chromium, server)
    page.goto(f"/products/{product_id}")
    title = page.locator("main h1").inner_text().strip()
    page.screenshot(path=str(ARTIFACTS / "buy_product_page.png"), full_page=True)

    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.locator("main")).to_contain_text(title[:30])
    page.get_by_role("link", name=re.compile("checkout", re.I)).first.click()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    if page.locator("input[name=line1]").is_visible():
        page.get_by_label("Recipient").fill("Maya Thompson")
        page.get_by_label("Street and number").fill("500 Market St")
        page.get_by_label("City").fill("San Francisco")
        page.get_by_label("State").fill("CA")
        page.get_by_label("ZIP code").fill("94105")
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(re.compile(r"/checkout/chk_[a-z0-9]+$"))
    expect(page.locator("main")).to_contain_text("Awaiting payment")
    checkout_url = page.url

    page.get_by_label(re.compile("Card number")).fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    # The processor confirms asynchronously: its signed webhook reaches the server
    # through the worker. Reload until the checkout reads paid.
    for _ in range(60):
        page.goto(checkout_url)
        if "order is paid" in page.locator("main").inner_text():
            break
        page.wait_for_timeout(500)
    expect(page.locator("main")).to_contain_text("your order is paid")
    page.screenshot(path=str(ARTIFACTS / "buy_paid.png"), full_page=True)
    page.goto("/orders")
    expect(page.locator("main")).to_contain_text(title[:30])
    assert page.errors == []

    # The seller finds the paid order in the seller center.
    context = chromium.new_context(viewport={"width": 390, "height": 844}, base_url=server.base_url)
    try:
        seller = context.new_page()
        log_in(seller, "seller@demo.reelshop.dev", DEMO_PASSWORD)
        seller.goto("/seller/orders?status=paid")
        seller.locator("main a.order-link").first.click()
        expect(seller.locator("main")).to_contain_text(title[:30])
        seller.screenshot(path=str(ARTIFACTS / "seller_order.png"), full_page=True)
    finally:
        context.close()


def test_staff_approves_a_pending_seller_application(page: Any) -> None:
    log_in(page, "trust@demo.reelshop.dev", DEMO_PASSWORD)
    page.goto("/staff")
    page.get_by_role("link", name=re.compile("Seller vetting")).click()
    expect(page).to_have_url(re.compile(r"/staff/sellers/applications"))
    applications = page.locator("main a[href^='/staff/sellers/applications/']")
    expect(applications.first).to_be_visible()
    before = applications.count()
    applications.first.click()
    expect(page.locator("main")).to_contain_text("Registration")
    page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.locator("main")).to_contain_text(re.compile("approved", re.I))
    page.screenshot(path=str(ARTIFACTS / "vetting_approved.png"), full_page=True)
    page.goto("/staff/sellers/applications")
    assert page.locator("main a[href^='/staff/sellers/applications/']").count() == before - 1
    assert page.errors == []
