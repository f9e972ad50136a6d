"""Security headers (HSTS only in production, framing refused, CSP without inline
script) and CSRF: every POST form in every page template carries the token, and a
cookie-authenticated POST without it is refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelshop.app import create_app
from reelshop.config import Environment, Settings
from tests.factories import make_user, page_login

TEMPLATES = Path(__file__).parents[2] / "src" / "reelshop" / "web" / "templates"
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
POST = re.compile(r"""method\s*=\s*["']?post""", re.I)


def post_forms() -> list[tuple[str, str]]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for match in FORM.finditer(text):
            tag = match.group(0)[: match.group(0).index(">") + 1]
            if POST.search(tag):
                found.append((str(path.relative_to(TEMPLATES)), match.group(0)))
    return found


def test_there_are_post_forms_to_check() -> None:
    assert len(post_forms()) > 20


@pytest.mark.parametrize(("template", "form"), post_forms(), ids=lambda v: str(v)[:60])
def test_every_post_form_carries_the_csrf_token(template: str, form: str) -> None:
    assert re.search(r'name="csrf_token"\s+value="\{\{\s*csrf_token\b[^}]*\}\}"', form), (
        f"{template}: a POST form without the csrf_token field"
    )


def test_htmx_requests_carry_the_token_from_the_page() -> None:
    base = (TEMPLATES / "base.html").read_text()
    assert 'hx-headers=\'{"X-CSRF-Token": "{{ csrf_token }}"}\'' in base


def test_a_cookie_post_without_the_token_is_refused(client: TestClient, session: Session) -> None:
    user = make_user(session)
    page_login(client, user.email)
    refused = client.post(
        "/account/security/password",
        data={"current_password": "x", "new_password": "violet kettle drums"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "csrf" in refused.json()["type"]


def _production_settings(settings: Settings) -> Settings:
    return Settings(
        env=Environment.PRODUCTION,
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        secret_key="s" * 48,
        field_encryption_keys="prod1:" + "A" * 43,
        email_hash_key="production-email-hash-key-for-the-test",
        log_json=False,
        _env_file=None,  # type: ignore[call-arg]
    )


def _headers(app: Any, path: str = "/login") -> Any:
    with TestClient(app) as c:
        return c.get(path).headers


def test_hsts_only_in_production(settings: Settings) -> None:
    assert "strict-transport-security" not in _headers(create_app(settings))
    production = _headers(create_app(_production_settings(settings)))
    assert production["strict-transport-security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", ["/login", "/api/v1/search?q=x", "/healthz"])
def test_framing_is_refused_and_scripts_are_never_inline(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


def test_production_cookies_are_secure(settings: Settings, session: Session) -> None:
    from reelshop.security import keys

    app = create_app(_production_settings(settings))
    try:
        with TestClient(app, base_url="https://testserver") as c:
            form = c.get("/login")
            assert "secure" in form.headers["set-cookie"].lower()
    finally:
        keys.configure(settings)  # back to this test database's keys
