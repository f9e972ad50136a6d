from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import ApiToken, User
from reelshop.outbox.models import OutboxEvent
from tests.factories import PASSWORD, api_login, make_user


def signup(client: TestClient, **overrides: object) -> dict:
    body = {"email": "ana@example.com", "password": PASSWORD, "name": "Ana Souza"}
    body.update(overrides)
    return client.post("/api/v1/auth/signup", json=body)


def test_signup_creates_user_and_outbox_event(client: TestClient, session: Session) -> None:
    response = signup(client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("usr_") and body["role"] == "shopper"
    assert body["email"] == "ana@example.com"
    user = session.get(User, body["id"])
    assert user is not None and user.name == "Ana Souza"
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.subject_id == body["id"])).all()
    assert [e.topic for e in events] == ["user.signed_up"]


def test_signup_duplicate_email_is_409_even_with_other_case(client: TestClient) -> None:
    assert signup(client).status_code == 201
    again = signup(client, email="  ANA@Example.com ")
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/email-taken"
    assert again.headers["content-type"].startswith("application/problem+json")


def test_signup_bad_input_is_422_problem_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    for bad in (
        {"email": "not-an-email"},
        {"password": "short"},
        {"name": ""},
        {"role": "staff"},
        {"market": "XX"},
        {"unexpected": 1},
    ):
        response = signup(client, **bad)
        assert 400 <= response.status_code < 500, (bad, response.text)
        assert response.json()["status"] == response.status_code
    assert session.scalars(select(User)).all() == []


def test_common_password_is_refused(client: TestClient) -> None:
    response = signup(client, password="password1234")
    assert response.status_code == 422
    assert "common" in response.json()["detail"]


def test_login_me_logout_cycle(client: TestClient, session: Session) -> None:
    user = make_user(session, email="lee@example.com")
    headers = api_login(client, "lee@example.com")
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == user.id
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["type"] == "/problems/unauthenticated"


def test_wrong_password_and_unknown_email_look_the_same(
    client: TestClient, session: Session
) -> None:
    make_user(session, email="kim@example.com")
    wrong = client.post(
        "/api/v1/auth/login", json={"email": "kim@example.com", "password": "nope-nope-1"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "who@example.com", "password": "nope-nope-1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_tokens_are_scoped_listed_and_revocable(client: TestClient, session: Session) -> None:
    make_user(session, email="sam@example.com")
    headers = api_login(client, "sam@example.com")
    created = client.post(
        "/api/v1/me/tokens", json={"name": "read only", "scopes": ["profile:read"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    token_id = created.json()["token"]["id"]
    readonly = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me/addresses", headers=readonly).status_code == 200
    denied = client.post(
        "/api/v1/me/addresses",
        json={
            "recipient": "Sam",
            "line1": "1 Main St",
            "city": "Austin",
            "region": "TX",
            "postal_code": "78701",
            "country": "US",
        },
        headers=readonly,
    )
    assert denied.status_code == 403
    listed = client.get("/api/v1/me/tokens", headers=headers).json()
    assert token_id in [t["id"] for t in listed]
    assert all("secret" not in t for t in listed)
    stored = session.get(ApiToken, token_id)
    assert stored is not None and secret not in stored.token_hash
    assert client.delete(f"/api/v1/me/tokens/{token_id}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=readonly).status_code == 401


def test_token_cannot_grant_scopes_beyond_role(client: TestClient, session: Session) -> None:
    make_user(session, email="pat@example.com")
    headers = api_login(client, "pat@example.com")
    response = client.post(
        "/api/v1/me/tokens", json={"name": "x", "scopes": ["staff"]}, headers=headers
    )
    assert response.status_code == 403
    unknown = client.post(
        "/api/v1/me/tokens", json={"name": "x", "scopes": ["everything"]}, headers=headers
    )
    assert unknown.status_code == 422


def test_revoking_someone_elses_token_is_404(client: TestClient, session: Session) -> None:
    make_user(session, email="a1@example.com")
    make_user(session, email="b1@example.com")
    a = api_login(client, "a1@example.com")
    b = api_login(client, "b1@example.com")
    a_tokens = client.get("/api/v1/me/tokens", headers=a).json()
    response = client.delete(f"/api/v1/me/tokens/{a_tokens[0]['id']}", headers=b)
    assert response.status_code == 404


def test_addresses_round_trip(client: TestClient, session: Session) -> None:
    make_user(session, email="ada@example.com")
    headers = api_login(client, "ada@example.com")
    body = {
        "recipient": "Ada L",
        "line1": "221B Baker St",
        "city": "Portland",
        "region": "OR",
        "postal_code": "97201",
        "country": "us",
        "phone": "+1 503 555 0101",
    }
    created = client.post("/api/v1/me/addresses", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["country"] == "US" and created.json()["is_default"] is True
    listed = client.get("/api/v1/me/addresses", headers=headers).json()
    assert [a["line1"] for a in listed] == ["221B Baker St"]
    bad = client.post("/api/v1/me/addresses", json={**body, "country": "USA"}, headers=headers)
    assert bad.status_code == 422
    gone = client.delete(f"/api/v1/me/addresses/{listed[0]['id']}", headers=headers)
    assert gone.status_code == 204
    assert (
        client.delete(f"/api/v1/me/addresses/{listed[0]['id']}", headers=headers).status_code == 404
    )


def test_malformed_authorization_header_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer rs_nope"}).status_code == 401
