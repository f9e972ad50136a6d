"""Delivery promises and delay notifications in a real browser: the shopper sees an
arrival window on a product page, the bell counts the delay notification, which
opens the tracking page with the new estimate; support sees the hot-spots."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD
from tests.e2e.test_accounts import log_in


def test_shopper_sees_the_promised_window_and_the_delay_notification(page: Any) -> None:
    log_in(page, "shopper@demo.reelshop.dev", DEMO_PASSWORD)
    page.goto("/shop/search?q=wireless+earbuds")
    product = page.locator("main a[href^='/products/']").first
    href = product.get_attribute("href")
    assert href
    page.goto(href)
    window = page.locator(".delivery-promise [data-window]")
    expect(window).to_have_text(re.compile(r"^\w{3} \d{1,2} \w{3} \u2013 \w{3} \d{1,2} \w{3}$"))
    expect(page.locator(".delivery-promise")).to_contain_text("recent deliveries")
    page.locator(".shipping-estimate").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "product_delivery_promise_phone.png"))

    bell = page.locator("header .bell")
    expect(bell.locator(".bell-count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    late = page.locator("li.note[data-kind='delivery.delayed']").first
    expect(late).to_contain_text("Your parcel is running late")
    expect(late).to_contain_text("New estimate")
    page.screenshot(path=str(ARTIFACTS / "notifications_phone.png"), full_page=True)
    late.get_by_role("button", name="Open").click()
    expect(page).to_have_url(re.compile(r"/orders/ord_\w+/tracking$"))
    expect(page.locator(".delivery-promise")).to_contain_text("Running late")
    expect(page.locator(".delivery-promise [data-current]")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "tracking_delay_phone.png"), full_page=True)
    assert not page.errors, page.errors


def test_support_sees_delay_hot_spots(page: Any) -> None:
    log_in(page, "support@demo.reelshop.dev", DEMO_PASSWORD)
    page.goto("/staff")
    page.get_by_role("link", name=re.compile("Logistics")).click()
    expect(page.locator("main h1")).to_have_text("Logistics")
    expect(page.locator("canvas[data-chart='late-share']")).to_be_visible()
    expect(page.locator("[data-stat='open-delays'] strong")).to_have_text(re.compile(r"^[1-9]"))
    expect(page.locator("table[data-table='hot-spots'] tr[data-lane='cn_us']")).to_be_visible()
    page.wait_for_timeout(300)  # let Chart.js draw before the screenshot
    page.screenshot(path=str(ARTIFACTS / "staff_logistics_phone.png"), full_page=True)
    assert not page.errors, page.errors
