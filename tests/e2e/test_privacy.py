"""A shopper downloads their data and deletes their account; logging in afterwards fails."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accounts import log_in

PASSWORD = "a long enough passphrase"


def test_shopper_downloads_their_data_then_deletes_the_account(page: Any) -> None:
    page.goto("/signup")
    email = f"robin.{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Name").fill("Robin Delacroix")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/shop$"))

    page.goto("/account")
    page.get_by_role("link", name=re.compile("Your data")).click()
    expect(page).to_have_url(re.compile(r"/account/data$"))
    page.screenshot(path=str(ARTIFACTS / "privacy_your_data.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download JSON").click()
    data = json.loads(open(info.value.path()).read())  # noqa: SIM115
    assert data["sections"]["account"]["profile"]["email"] == email
    assert data["sections"]["account"]["profile"]["name"] == "Robin Delacroix"

    page.get_by_role("link", name="Read it here").click()
    expect(page.locator("main")).to_contain_text("Robin Delacroix")
    expect(page.locator("main")).to_contain_text(email)
    page.screenshot(path=str(ARTIFACTS / "privacy_export_view.png"), full_page=True)

    page.goto("/account/data")
    page.get_by_label("Your password").fill("not my password at all")
    page.get_by_label(re.compile("Type DELETE")).fill("DELETE")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("main [role=alert]")).to_contain_text("not your password")

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label(re.compile("Type DELETE")).fill("DELETE")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("main")).to_contain_text("Your account is deleted")
    page.screenshot(path=str(ARTIFACTS / "privacy_deleted.png"), full_page=True)

    response = page.goto("/account")
    assert response is not None
    expect(page).to_have_url(re.compile(r"/login"))
    log_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("main")).to_contain_text(re.compile("wrong|incorrect", re.I))
    # The refused deletion (422) and the refused log-in (401) are the only failed loads.
    unexpected = [e for e in page.errors if not e.startswith("Failed to load resource")]
    assert unexpected == [], page.errors
