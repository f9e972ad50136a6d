"""Pages: CSRF on every form, session cookies, each role's shell behind its role, no open
redirects, sign-up errors that keep what was typed, password change ending sessions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, StaffPermission, User
from tests.factories import PASSWORD, make_seller, make_staff, make_user, page_login

HTML = {"Accept": "text/html,application/xhtml+xml"}
SHELLS = {"shopper": "/shop", "seller": "/seller", "creator": "/creator", "staff": "/staff"}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SESSION_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


@pytest.fixture
def browser(app: Any) -> Callable[[], TestClient]:
    """A fresh browser (own cookie jar) that asks for HTML, as a real one does."""
    opened: list[TestClient] = []

    def open_browser() -> TestClient:
        c = TestClient(app, headers=HTML)
        c.__enter__()
        opened.append(c)
        return c

    yield open_browser  # type: ignore[misc]
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def web(browser: Callable[[], TestClient]) -> TestClient:
    return browser()


def form_token(page: Any) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, "form has no CSRF token"
    return found.group(1)


def make_role_user(session: Session, role: str) -> User:
    if role == "seller":
        user, _ = make_seller(session)
        return user
    if role == "staff":
        return make_staff(session, StaffPermission.ADMIN)
    return make_user(session, role=Role(role), name=f"Pat {role.title()}")


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_anonymous_forms_carry_a_csrf_token(web: TestClient, path: str) -> None:
    page = web.get(path)
    assert page.status_code == 200
    assert form_token(page)
    assert "reelshop_csrf" in web.cookies
    # The token is a timed signature of this browser's nonce, so its text may change from
    # one second to the next; what must hold is that an earlier page's token still works
    # after the browser loaded the form again.
    earlier = form_token(page)
    assert form_token(web.get(path))
    response = web.post(
        path,
        data={"csrf_token": earlier, "email": "nobody@example.com", "password": "x"},
        follow_redirects=False,
    )
    assert response.status_code != 403, response.text[:200]


@pytest.mark.parametrize("path", ["/login", "/signup"])
@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_posting_without_the_right_csrf_token_is_403(
    web: TestClient, session: Session, path: str, token: str | None
) -> None:
    make_user(session, email="csrf@example.com")
    web.get(path)
    data = {"email": "csrf@example.com", "password": PASSWORD, "name": "Csrf Person"}
    if token is not None:
        data["csrf_token"] = token
    response = web.post(path, data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "reelshop_session" not in web.cookies


def test_a_csrf_token_from_another_browser_is_refused(
    browser: Callable[[], TestClient], session: Session
) -> None:
    make_user(session, email="two@example.com")
    attacker = browser()
    stolen = form_token(attacker.get("/login"))
    victim = browser()
    victim.get("/login")
    response = victim.post(
        "/login",
        data={"email": "two@example.com", "password": PASSWORD, "csrf_token": stolen},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_form_log_in_sets_a_safe_session_cookie_and_a_fresh_csrf_token(
    web: TestClient, session: Session
) -> None:
    make_user(session, email="cookie@example.com", name="Casey Cookie")
    anonymous_token = form_token(web.get("/login"))
    response = web.post(
        "/login",
        data={
            "email": "cookie@example.com",
            "password": PASSWORD,
            "csrf_token": anonymous_token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/shop"
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    session_cookie = next(c for c in cookies if c.startswith("reelshop_session="))
    attributes = {a.strip().lower() for a in session_cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    home = web.get("/shop")
    assert home.status_code == 200 and "Casey" in home.text
    session_token = SESSION_CSRF.search(home.text)
    assert session_token and session_token.group(1) != anonymous_token
    # The page's logout form carries the session's token, not the anonymous one.
    assert form_token(home) == session_token.group(1)


def test_wrong_password_re_renders_with_the_email_kept(web: TestClient, session: Session) -> None:
    make_user(session, email="oops@example.com")
    token = form_token(web.get("/login"))
    response = web.post(
        "/login",
        data={"email": "oops@example.com", "password": "not-the-password", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "email or password is wrong" in response.text
    assert 'value="oops@example.com"' in response.text
    assert "reelshop_session" not in web.cookies


@pytest.mark.parametrize("role", list(SHELLS))
def test_each_shell_opens_for_its_role_only(
    role: str, browser: Callable[[], TestClient], session: Session
) -> None:
    user = make_role_user(session, role)
    web = browser()
    page_login(web, user.email)
    own = web.get(SHELLS[role])
    assert own.status_code == 200
    assert f'data-shell="{role if role != "shopper" else "shop"}"' in own.text or role in own.text
    for other_role, path in SHELLS.items():
        if other_role == role:
            continue
        response = web.get(path, follow_redirects=False)
        if other_role == "shopper":
            assert response.status_code == 200, "every account can shop"
            continue
        assert response.status_code == 403, (role, path)
        assert "text/html" in response.headers["content-type"]
        assert "Not allowed" in response.text


def test_staff_admin_sees_every_console_section(web: TestClient, session: Session) -> None:
    admin = make_staff(session, StaffPermission.ADMIN)
    page_login(web, admin.email)
    page = web.get("/staff")
    for section in ("Seller vetting", "Moderation queue", "Claims", "Finance", "Markets"):
        assert section in page.text


def test_staff_sections_follow_permissions(web: TestClient, session: Session) -> None:
    finance = make_staff(session, StaffPermission.FINANCE)
    page_login(web, finance.email)
    page = web.get("/staff")
    assert "Finance" in page.text
    assert "Moderation queue" not in page.text and "Seller vetting" not in page.text


@pytest.mark.parametrize("path", ["/shop", "/seller", "/creator", "/staff", "/account"])
def test_anonymous_page_requests_go_to_log_in_with_next(web: TestClient, path: str) -> None:
    response = web.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_log_in_returns_to_next(web: TestClient, session: Session) -> None:
    user, _ = make_seller(session)
    login_page = web.get("/login?next=/seller")
    assert 'name="next" value="/seller"' in login_page.text
    response = web.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": form_token(login_page),
            "next": "/seller",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/seller"


OPEN_REDIRECTS = [
    "//evil.com",
    "https://evil.com",
    "http://evil.com/shop",
    "/\\evil.com",
    "\\\\evil.com",
    "//evil.com/%2F..",
    "/\t/evil.com",
    "javascript:alert(1)",
    "evil.com",
]


def _assert_same_site(location: str) -> None:
    parts = urlsplit(location)
    assert parts.scheme == "" and parts.netloc == "", location
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and "\t" not in location, location


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_is_never_an_open_redirect(web: TestClient, session: Session, target: str) -> None:
    user = make_user(session)
    token = form_token(web.get("/login"))
    response = web.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303
    _assert_same_site(response.headers["location"])
    # Already logged in, GET /login?next=... redirects too.
    again = web.get("/login", params={"next": target}, follow_redirects=False)
    assert again.status_code == 303
    _assert_same_site(again.headers["location"])


def test_log_out_needs_the_csrf_token(web: TestClient, session: Session) -> None:
    user = make_user(session)
    token = page_login(web, user.email)
    refused = web.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    wrong = web.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert web.get("/shop").status_code == 200, "still logged in"
    done = web.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert web.get("/shop", follow_redirects=False).status_code == 303


def test_htmx_requests_send_the_token_in_a_header(web: TestClient, session: Session) -> None:
    user = make_user(session)
    token = page_login(web, user.email)
    done = web.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert done.status_code == 303


def _signup(web: TestClient, **fields: str) -> Any:
    token = form_token(web.get("/signup"))
    data = {
        "name": "Rosa Díaz",
        "email": "rosa@example.com",
        "password": PASSWORD,
        "role": "shopper",
        "csrf_token": token,
        **fields,
    }
    return web.post("/signup", data=data, follow_redirects=False)


def _user_count(session: Session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"password": "short"}, 422, "at least 12 characters"),
        ({"password": "password1234"}, 422, "common password"),
        ({"email": "not-an-email"}, 422, "valid email"),
        ({"name": "   "}, 422, "name is required"),
        ({"role": "staff"}, 422, "shopper, seller or creator"),
    ],
)
def test_sign_up_errors_re_render_with_the_typed_values(
    web: TestClient, session: Session, fields: dict[str, str], status: int, message: str
) -> None:
    before = _user_count(session)
    response = _signup(web, **fields)
    assert response.status_code == status
    assert message in response.text
    if "email" not in fields:
        assert 'value="rosa@example.com"' in response.text
    if "name" not in fields:
        assert 'value="Rosa Díaz"' in response.text
    assert 'type="password"' in response.text and PASSWORD not in response.text
    assert _user_count(session) == before
    assert "reelshop_session" not in web.cookies


def test_sign_up_with_a_taken_email_is_409(web: TestClient, session: Session) -> None:
    make_user(session, email="rosa@example.com")
    response = _signup(web, email="ROSA@example.com")
    assert response.status_code == 409
    assert "already exists" in response.text
    assert 'value="ROSA@example.com"' in response.text


@pytest.mark.parametrize("role", ["shopper", "seller", "creator"])
def test_sign_up_lands_on_the_role_home(web: TestClient, role: str) -> None:
    response = _signup(web, role=role, email=f"new-{role}@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == SHELLS[role]
    home = web.get(SHELLS[role])
    assert home.status_code == 200 and "Rosa" in home.text


def test_changing_the_password_ends_other_sessions(
    browser: Callable[[], TestClient], session: Session
) -> None:
    user = make_user(session, email="mover@example.com")
    laptop, phone = browser(), browser()
    page_login(laptop, user.email)
    page_login(phone, user.email)
    assert laptop.get("/shop").status_code == 200

    fresh = session.get(User, user.id)
    assert fresh is not None
    accounts.change_password(
        session=session, user=fresh, current=PASSWORD, new="a brand new passphrase"
    )
    session.commit()

    for device in (laptop, phone):
        response = device.get("/shop", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
    page_login(laptop, user.email, "a brand new passphrase")
    assert laptop.get("/shop").status_code == 200
