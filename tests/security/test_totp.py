"""TOTP two-factor: enrolment, log-in (API and pages), replay refusal, recovery codes,
disabling, and session rotation at log-in and at privilege changes."""

from __future__ import annotations

import re
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from reelshop.accounts import two_factor
from reelshop.accounts.models import RecoveryCode, Role, TotpFactor, User
from reelshop.security import totp
from tests.factories import PASSWORD, api_login, make_staff, make_user, page_login


def code(secret: str, offset: int = 0) -> str:
    return totp.code_for_step(secret, totp.current_step() + offset)


def enrol(client: TestClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    started = client.post("/api/v1/me/totp", headers=headers)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/reelshop:")
    assert body["qr_data_uri"].startswith("data:image/svg+xml;base64,")
    secret = body["secret"]
    confirmed = client.post("/api/v1/me/totp/confirm", json={"code": code(secret)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def password_step(client: TestClient, email: str) -> str:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 202, response.text
    assert response.json()["second_factor_required"] is True
    return str(response.json()["ticket"])


def test_matching_step_refuses_wrong_stale_and_replayed_codes() -> None:
    secret = totp.new_secret()
    now_step = totp.current_step(1_000_000.0)
    right = totp.code_for_step(secret, now_step)
    assert totp.matching_step(secret, right, after_step=0, now=1_000_000.0) == now_step
    assert totp.matching_step(secret, right, after_step=now_step, now=1_000_000.0) == 0
    stale = totp.code_for_step(secret, now_step - 2)
    assert totp.matching_step(secret, stale, after_step=0, now=1_000_000.0) == 0
    assert totp.matching_step(secret, "12345", after_step=0, now=1_000_000.0) == 0
    assert totp.matching_step(secret, "abcdef", after_step=0, now=1_000_000.0) == 0


def test_enrol_then_log_in_needs_the_code_and_a_code_works_once(
    client: TestClient, session: Session
) -> None:
    user, _ = _seller(session)
    headers = api_login(client, user.email)
    secret, recovery = enrol(client, headers)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    # The secret is sealed in the database, the recovery codes hashed.
    raw = session.execute(text("SELECT secret FROM totp_factors")).scalar_one()
    assert secret not in raw and raw.startswith("v")
    hashes = session.scalars(select(RecoveryCode.code_hash)).all()
    assert not set(hashes) & set(recovery)

    ticket = password_step(client, user.email)
    # The confirmation code's step is used up: the same code is a replay.
    replay = client.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": code(secret)})
    assert replay.status_code == 401
    fresh = code(secret, +1)
    ok = client.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": fresh})
    assert ok.status_code == 200, ok.text
    assert ok.json()["secret"].startswith("rs_")
    # The ticket is spent, and the same code on a new ticket is refused.
    again = client.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": fresh})
    assert again.status_code == 401
    ticket2 = password_step(client, user.email)
    assert (
        client.post("/api/v1/auth/login/totp", json={"ticket": ticket2, "code": fresh}).status_code
        == 401
    )


def test_recovery_codes_work_once(client: TestClient, session: Session) -> None:
    user = make_staff(session)
    headers = api_login(client, user.email)
    _secret, recovery = enrol(client, headers)
    ticket = password_step(client, user.email)
    used = recovery[0].upper().replace("-", " ")  # typed loosely
    assert (
        client.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": used}).status_code
        == 200
    )
    ticket = password_step(client, user.email)
    again = client.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": recovery[0]})
    assert again.status_code == 401
    status = client.get("/api/v1/me/totp", headers=headers).json()
    assert status == {
        "available": True,
        "enabled": True,
        "pending": False,
        "recovery_codes_left": 9,
    }


def test_a_ticket_dies_after_five_wrong_codes(client: TestClient, session: Session) -> None:
    user, _ = _seller(session)
    secret, _codes = enrol(client, api_login(client, user.email))
    ticket = password_step(client, user.email)
    for _ in range(two_factor.TICKET_MAX_ATTEMPTS):
        wrong = client.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": "000000"})
        assert wrong.status_code == 401
    right = client.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": code(secret, 1)})
    assert right.status_code == 401
    assert "expired" in right.json()["detail"]


def test_wrong_confirmation_code_keeps_it_off(client: TestClient, session: Session) -> None:
    user, _ = _seller(session)
    headers = api_login(client, user.email)
    assert client.post("/api/v1/me/totp", headers=headers).status_code == 201
    bad = client.post("/api/v1/me/totp/confirm", json={"code": "123456"}, headers=headers)
    assert bad.status_code == 422
    # Still a plain password log-in.
    assert (
        client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
        ).status_code
        == 200
    )


def test_shoppers_are_not_offered_totp(client: TestClient, session: Session) -> None:
    user = make_user(session)
    headers = api_login(client, user.email)
    assert client.post("/api/v1/me/totp", headers=headers).status_code == 403
    assert client.get("/api/v1/me/totp", headers=headers).json()["available"] is False


def test_disable_needs_password_and_code(client: TestClient, session: Session) -> None:
    user, _ = _seller(session)
    headers = api_login(client, user.email)
    secret, _codes = enrol(client, headers)
    wrong_pw = client.post(
        "/api/v1/me/totp/disable",
        json={"password": "not-the-password", "code": code(secret, 1)},
        headers=headers,
    )
    assert wrong_pw.status_code == 401
    wrong_code = client.post(
        "/api/v1/me/totp/disable", json={"password": PASSWORD, "code": "000000"}, headers=headers
    )
    assert wrong_code.status_code == 401
    ok = client.post(
        "/api/v1/me/totp/disable",
        json={"password": PASSWORD, "code": code(secret, 1)},
        headers=headers,
    )
    assert ok.status_code == 204
    session.expire_all()
    assert session.get(TotpFactor, user.id) is None
    assert not session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    api_login(client, user.email)  # plain password log-in again


def test_concurrent_use_of_one_code_lets_only_one_through(
    app: object, session: Session, backend: str
) -> None:
    user, _ = _seller(session)
    with TestClient(app) as c:  # type: ignore[arg-type]
        secret, _codes = enrol(c, api_login(c, user.email))
        tickets = [password_step(c, user.email) for _ in range(4)]
    fresh = code(secret, 1)
    results: list[int] = []
    barrier = threading.Barrier(len(tickets))

    def redeem(ticket: str) -> None:
        with TestClient(app) as tc:  # type: ignore[arg-type]
            barrier.wait()
            r = tc.post("/api/v1/auth/login/totp", json={"ticket": ticket, "code": fresh})
            results.append(r.status_code)

    threads = [threading.Thread(target=redeem, args=(t,)) for t in tickets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 401, 401, 401]


# --- pages and session rotation ----------------------------------------------------------


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "form without csrf_token"
    return found.group(1)


def test_page_enrolment_and_code_log_in(client: TestClient, session: Session) -> None:
    user, _ = _seller(session)
    csrf = page_login(client, user.email)
    page = client.get("/account/security")
    assert page.status_code == 200 and "Set up two-step log-in" in page.text
    started = client.post("/account/security/totp/start", data={"csrf_token": csrf})
    assert started.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in started.text
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', started.text)
    assert secret
    before = client.cookies.get("reelshop_session")
    confirmed = client.post(
        "/account/security/totp/confirm",
        data={"csrf_token": csrf, "code": code(secret.group(1))},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert "recovery codes" in confirmed.text
    # A privilege change: this browser gets a new session, the old cookie is dead.
    after = client.cookies.get("reelshop_session")
    assert after and after != before
    with TestClient(client.app) as old:  # type: ignore[arg-type]
        old.cookies.set("reelshop_session", before or "")
        assert old.get("/api/v1/me").status_code == 401

    # Log out and back in: the password alone does not make a session.
    client.cookies.clear()
    login = client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": _form_token(login.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/login/totp"
    assert "reelshop_session" not in response.cookies
    form = client.get("/login/totp")
    assert 'autocomplete="one-time-code"' in form.text
    wrong = client.post(
        "/login/totp",
        data={"code": "000000", "csrf_token": _form_token(form.text)},
        headers={"accept": "text/html"},
    )
    assert wrong.status_code == 401 and "not right" in wrong.text
    done = client.post(
        "/login/totp",
        data={"code": code(secret.group(1), 1), "csrf_token": _form_token(form.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/seller"
    assert client.get("/api/v1/me").json()["id"] == user.id


def test_log_in_issues_a_new_session_and_csrf_token_each_time(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    first_csrf = page_login(client, user.email)
    first = client.cookies.get("reelshop_session")
    client.cookies.delete("reelshop_session")  # the log-in form shows only when logged out
    second_csrf = page_login(client, user.email)
    second = client.cookies.get("reelshop_session")
    assert first and second and first != second
    assert first_csrf != second_csrf


def test_password_change_page_rotates_this_session_and_ends_others(
    client: TestClient, session: Session, app: object
) -> None:
    user = make_user(session)
    with TestClient(app) as other:  # type: ignore[arg-type]
        page_login(other, user.email)
        assert other.get("/api/v1/me").status_code == 200
        csrf = page_login(client, user.email)
        before = client.cookies.get("reelshop_session")
        changed = client.post(
            "/account/security/password",
            data={
                "csrf_token": csrf,
                "current_password": PASSWORD,
                "new_password": "violet kettle drums",
            },
        )
        assert changed.status_code == 200 and "Password changed." in changed.text
        assert client.cookies.get("reelshop_session") != before
        assert client.get("/api/v1/me").status_code == 200
        assert other.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("role", [Role.SELLER, Role.CREATOR])
def test_totp_is_for_sellers_and_staff(role: Role, session: Session) -> None:
    user = make_user(session, role=role)
    assert two_factor.can_enrol(user) is (role == Role.SELLER)


def _seller(session: Session) -> tuple[User, None]:
    return make_user(session, role=Role.SELLER), None
