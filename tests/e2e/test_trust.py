"""Trust and safety in a real browser: a shopper reports a listing from the product
page's dialog, a moderator finds it in the queue, reads the case and takes it down
with a strike, and the listing is gone for shoppers."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD
from tests.e2e.test_accounts import log_in


def test_report_then_queue_then_take_down(page: Any, chromium: Any, server: Any) -> None:
    log_in(page, "shopper@demo.reelshop.dev", DEMO_PASSWORD)
    page.goto("/shop/search?q=lamp")
    links = page.locator("main a[href^='/products/']")
    expect(links.first).to_be_visible()
    href = links.nth(min(2, links.count() - 1)).get_attribute("href")
    assert href
    product_path = href.split("?")[0]
    page.goto(product_path)
    title = page.locator("main h1").first.inner_text()
    page.get_by_text("Report this listing").click()
    page.get_by_label("Counterfeit or fake brand").check()
    page.get_by_label("Tell us why").fill("The logo is misspelt and the box has no serial number.")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("main")).to_contain_text("we have your report")

    staff_context = chromium.new_context(
        viewport={"width": 390, "height": 844}, base_url=server.base_url
    )
    try:
        staff = staff_context.new_page()
        log_in(staff, "trust@demo.reelshop.dev", DEMO_PASSWORD)
        staff.goto("/staff")
        staff.get_by_role("link", name=re.compile("Moderation queue")).click()
        expect(staff).to_have_url(re.compile(r"/staff/trust/cases$"))
        staff.get_by_role("link", name=title, exact=True).first.click()
        main = staff.locator("main")
        expect(main).to_contain_text("Shopper reports")
        expect(main).to_contain_text("The logo is misspelt")
        staff.get_by_label(re.compile("^Note")).fill("Counterfeit confirmed from the report photos")
        staff.get_by_role("button", name="Take down").click()
        expect(staff.locator("[data-case-status]")).to_have_text("taken_down")
        expect(staff.locator("[data-listing-status]")).to_contain_text("taken_down")
        expect(main).to_contain_text("trust.listing.take_down")
        expect(main).to_contain_text("trust.seller.strike")
        staff.screenshot(path=str(ARTIFACTS / "trust_case_taken_down.png"), full_page=True)
    finally:
        staff_context.close()

    assert not page.errors, page.errors  # before the 404 below, which the console logs
    response = page.goto(product_path)
    assert response is not None and response.status == 404
