"""Sign up, log in, log out and land on each role's home, in a real browser."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD


def log_in(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_as_a_shopper_then_log_out(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up").first.click()
    expect(page).to_have_url(re.compile(r"/signup$"))
    email = f"avery.{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Name").fill("Avery Quinlan")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/shop$"))
    expect(page.locator("header")).to_contain_text("Avery")
    page.screenshot(path=str(ARTIFACTS / "shopper_home_signed_up.png"), full_page=True)

    page.get_by_role("button", name="Log out").click()
    expect(page.locator("header")).to_contain_text("Log in")
    page.goto("/shop")
    expect(page).to_have_url(re.compile(r"/login\?next=/shop$"))
    assert page.errors == []


def test_demo_seller_logs_in_to_the_seller_center(page: Any) -> None:
    log_in(page, "seller@demo.reelshop.dev", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/seller$"))
    expect(page.locator("header")).to_contain_text("Chen")
    assert page.errors == []
    response = page.goto("/staff")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Not allowed")


def test_demo_admin_sees_every_staff_section(page: Any) -> None:
    log_in(page, "admin@demo.reelshop.dev", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/staff$"))
    main = page.locator("main")
    for section in ("Seller vetting", "Moderation queue", "Claims", "Finance", "Markets"):
        expect(main).to_contain_text(section)
    assert page.errors == []


def test_a_wrong_password_shows_the_error(page: Any) -> None:
    log_in(page, "shopper@demo.reelshop.dev", "not the password")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_contain_text("email or password is wrong")
    expect(page.get_by_label("Email")).to_have_value("shopper@demo.reelshop.dev")


def test_anonymous_visit_returns_to_the_page_after_log_in(page: Any) -> None:
    page.goto("/creator")
    expect(page).to_have_url(re.compile(r"/login\?next=/creator$"))
    page.get_by_label("Email").fill("creator@demo.reelshop.dev")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/creator$"))
