"""The For You feed in a real browser: autoplay, swipe, events, add to cart in place."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_accounts import log_in


def test_scroll_the_feed_and_buy_without_leaving(page: Any) -> None:
    log_in(page, "shopper@demo.reelshop.dev", DEMO_PASSWORD)
    page.goto("/feed")
    first = page.locator(".slide").first
    expect(first.locator(".product-card")).to_be_visible()
    expect(page.get_by_role("link", name="For You")).to_have_class(re.compile("on"))
    page.wait_for_function(
        "() => { const v = document.querySelector('.slide video'); return v && !v.paused; }"
    )
    with page.expect_response(lambda r: r.url.endswith("/api/v1/feed/events") and r.status == 202):
        page.evaluate("document.getElementById('reel').scrollBy(0, window.innerHeight)")
    second = page.locator(".slide").nth(1)
    second.locator("summary").click()
    expect(second.locator(".sheet")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/cart/lines")) as added:
        second.get_by_role("button", name="Add to cart").click()
    assert added.value.status == 201
    expect(second.locator(".added")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/feed$"))
    assert page.errors == []
