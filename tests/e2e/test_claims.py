"""Buyer protection in a real browser: the demo shopper opens a damaged-item claim with a
photo from an order page, staff uphold it in the console, and the shopper sees the
refund on the claim and on the order."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD
from tests.e2e.test_accounts import log_in


def _photo() -> dict[str, Any]:
    out = io.BytesIO()
    Image.new("RGB", (200, 150), (180, 40, 40)).save(out, format="JPEG")
    return {"name": "cracked.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def _claimable_order(page: Any) -> str:
    """The first of the demo shopper's orders on which a claim can be opened now."""
    page.goto("/orders")
    hrefs = page.locator("main a[href^='/orders/ord_']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    for href in dict.fromkeys(hrefs):
        order_id = re.search(r"ord_[a-z0-9]+", href)
        if order_id is None:
            continue
        page.goto(f"/orders/{order_id.group(0)}/claims/new")
        if page.locator("input[name='claim_type'][value='damaged']").count():
            return order_id.group(0)
    raise AssertionError("the demo shopper has no order that can take a damaged-item claim")


def test_shopper_claim_is_upheld_by_staff_and_refunded(
    page: Any, chromium: Any, server: Any
) -> None:
    log_in(page, "shopper@demo.reelshop.dev", DEMO_PASSWORD)
    order_id = _claimable_order(page)
    # The order page offers the claim (loaded into the page by htmx).
    page.goto(f"/orders/{order_id}")
    report = page.get_by_role("link", name="Report a problem with this order")
    expect(report).to_be_visible()
    report.click()
    page.locator("input[name='claim_type'][value='damaged']").check()
    page.get_by_label("Tell us what happened").fill("The case arrived cracked across the lid.")
    page.locator("input[name='photos']").set_input_files(_photo())
    page.get_by_role("button", name="Open claim").click()
    expect(page).to_have_url(re.compile(r"/claims/clm_[a-z0-9]+$"))
    expect(page.locator(".claim-summary")).to_contain_text("Waiting for the seller")
    evidence = page.locator(".evidence img")
    expect(evidence).to_have_count(1)
    evidence.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('.evidence img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    claim_id = page.url.rsplit("/", 1)[1]
    page.screenshot(path=str(ARTIFACTS / "claim_opened_phone.png"), full_page=True)
    assert not page.errors, page.errors

    staff = chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=server.base_url)
    try:
        desk = staff.new_page()
        log_in(desk, "admin@demo.reelshop.dev", DEMO_PASSWORD)
        desk.goto("/staff/claims")
        desk.locator(f"a[href='/staff/claims/{claim_id}']").click()
        desk.locator("input[name='outcome'][value='uphold_full']").check()
        desk.get_by_label("Note for the shopper and the audit trail").fill(
            "The photo shows the crack."
        )
        desk.get_by_role("button", name="Record decision").click()
        expect(desk.locator(".claim-summary")).to_contain_text("Upheld: full refund")
        desk.screenshot(path=str(ARTIFACTS / "claim_decided_desktop.png"), full_page=True)
    finally:
        staff.close()

    page.goto(f"/claims/{claim_id}")
    expect(page.locator(".claim-summary .refund")).to_contain_text("Refund:")
    page.goto(f"/orders/{order_id}")
    expect(page.locator("main")).to_contain_text("Refunded")
    page.screenshot(path=str(ARTIFACTS / "claim_refunded_phone.png"), full_page=True)
    assert not page.errors, page.errors
