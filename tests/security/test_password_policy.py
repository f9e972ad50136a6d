"""Password rules: length, the bundled breached list, padded common passwords, the email."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelshop.security.password_policy import (
    MAX_LENGTH,
    MIN_LENGTH,
    common_passwords,
    password_problem,
)
from tests.factories import PASSWORD, api_login, make_user, unique_email


def test_the_bundled_list_is_large_and_lower_case() -> None:
    words = common_passwords()
    assert len(words) > 20_000
    assert "password" in words and "iloveyou" in words and "qwerty123456" in words
    assert all(w == w.lower() for w in list(words)[:500])


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pw-11", "at least 12"),
        ("x" * (MAX_LENGTH + 1), "at most 128"),
        ("qwerty123456", "breached"),
        ("1q2w3e4r5t6y", "breached"),
        ("QWERTY123456", "breached"),
        ("iloveyou2024!", "a few characters added"),
        ("!!password1234", "a few characters added"),
        ("abcabcabcabcabc", "repeats"),
        ("zzzzzzzzzzzzzz", "repeats"),
        ("mara.lopez-rocks-2026", "email"),
    ],
)
def test_refused(password: str, why: str) -> None:
    problem = password_problem(password, email="Mara.Lopez@example.com")
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "reelshop-demo-2026", "violet kettle drums at noon", "x" * 2 + "Ab3$kq9!pLm2"],
)
def test_accepted(password: str) -> None:
    assert password_problem(password, email="mara.lopez@example.com") is None


def test_lengths_are_the_documented_ones() -> None:
    assert (MIN_LENGTH, MAX_LENGTH) == (12, 128)
    assert password_problem("a1b2c3d4e5f6g7h8"[:MIN_LENGTH]) is None
    assert password_problem("a1b2c3d4e5f6g7h8"[: MIN_LENGTH - 1]) is not None
    assert password_problem(("k" + "a1b2c3d4e5f6g7h8" * 8)[:MAX_LENGTH]) is None
    assert password_problem("k" + "a1b2c3d4e5f6g7h8" * 8) is not None  # 129 characters


def test_sign_up_refuses_with_a_clear_4xx(client: TestClient) -> None:
    body = {"email": unique_email(), "name": "Mara", "password": "qwerty123456"}
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 422
    assert "breached" in response.json()["detail"]
    body["password"] = "short"
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 422
    email = unique_email("mara.lopez")
    body = {"email": email, "name": "Mara", "password": email.split("@")[0] + "-is-me!"}
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 422
    assert "email" in response.json()["detail"]


def test_sign_up_page_shows_the_reason(client: TestClient) -> None:
    import re

    form = client.get("/signup")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = client.post(
        "/signup",
        data={
            "email": unique_email(),
            "name": "Mara",
            "password": "iloveyou2024!",
            "role": "shopper",
            "csrf_token": token.group(1),
        },
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert "common breached password" in response.text


def test_password_change_applies_the_rules_and_ends_other_sessions(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    headers = api_login(client, user.email)
    bad = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "password1234"},
        headers=headers,
    )
    assert bad.status_code == 422 and "breached" in bad.json()["detail"]
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "not-the-password", "new_password": "violet kettle drums"},
        headers=headers,
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "violet kettle drums"},
        headers=headers,
    )
    assert ok.status_code == 204
    assert (
        client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
        ).status_code
        == 401
    )
    api_login(client, user.email, "violet kettle drums")
