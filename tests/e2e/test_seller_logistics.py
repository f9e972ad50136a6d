"""The seller's logistics pages in a real browser: Performance with its trend charts,
the packing slip PDF from an order's shipping page, and the platform-fulfilment page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD
from tests.e2e.test_accounts import log_in


def test_seller_opens_performance_and_downloads_a_packing_slip(
    page: Any, chromium: Any, server: Any
) -> None:
    log_in(page, "seller@demo.reelshop.dev", DEMO_PASSWORD)
    page.goto("/seller/performance")
    expect(page.locator("main h1")).to_have_text("Performance")
    expect(page.locator("[data-standing]")).to_be_visible()
    expect(page.locator("canvas[data-chart='perf-score']")).to_be_visible()
    expect(page.locator("table.metrics tr[data-metric='late_dispatch']")).to_contain_text("%")
    page.wait_for_timeout(300)  # let Chart.js draw before the screenshot
    page.screenshot(path=str(ARTIFACTS / "seller_performance_phone.png"), full_page=True)
    assert not page.errors, page.errors

    # A delivered order: the newest order may be one another browser test placed and has
    # not paid, or a cancelled one, and those have nothing to pack.
    page.goto("/seller/orders?status=delivered")
    first = page.locator("main a[href^='/seller/orders/ord_']").first
    href = first.get_attribute("href")
    assert href
    order_id = re.search(r"ord_[A-Za-z0-9]+", href)
    assert order_id
    page.goto(f"/seller/orders/{order_id.group(0)}/shipping")
    link = page.get_by_role("link", name="Print packing slip")
    expect(link).to_be_visible()
    slip = page.request.get(link.get_attribute("href"))
    assert slip.status == 200 and slip.headers["content-type"] == "application/pdf"
    assert slip.body().startswith(b"%PDF")
    assert order_id.group(0).encode() in slip.body()

    desktop = chromium.new_context(
        viewport={"width": 1280, "height": 900}, base_url=server.base_url
    )
    try:
        wide = desktop.new_page()
        log_in(wide, "seller@demo.reelshop.dev", DEMO_PASSWORD)
        wide.goto("/seller/performance")
        wide.wait_for_timeout(300)
        wide.screenshot(path=str(ARTIFACTS / "seller_performance_desktop.png"), full_page=True)
        wide.goto("/seller/fulfilment")
        expect(wide.locator("main h1")).to_contain_text("Fulfilled by the platform")
        wide.screenshot(path=str(ARTIFACTS / "seller_fulfilment_desktop.png"), full_page=True)
    finally:
        desktop.close()
