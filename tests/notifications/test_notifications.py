from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop import worker_context
from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.errors import InvalidInput, NotFound
from reelshop.mail import FolderMailer
from reelshop.notifications import service as notifications
from reelshop.notifications.jobs import send_email
from reelshop.notifications.models import Notification
from reelshop.outbox.models import OutboxEvent
from tests.factories import api_login, make_user, page_login
from tests.notifications.helpers import deliver_topic, mails


@pytest.fixture
def mail_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "mail"
    monkeypatch.setitem(worker_context._state, "mailer", FolderMailer(folder))
    return folder


def test_notify_stores_it_and_mails_it_once_through_the_outbox(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    mail_folder: Path,
) -> None:
    user = make_user(session, email="ana@example.com", name="Ana Diaz")
    note = notifications.notify(
        session=session,
        user_id=user.id,
        kind="delivery.delayed",
        title="Your parcel is running late",
        body="New estimate: 3 to 5 December.",
        link="/orders/ord_x/tracking",
    )
    session.commit()
    assert mails(mail_folder) == []  # nothing is mailed inside the caller's transaction
    event = session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == notifications.CREATED)
    ).one()
    assert event.payload["notification_id"] == note.id
    assert deliver_topic(session_factory, settings, notifications.CREATED) == 1
    with unit_of_work(session_factory) as s:  # redelivered: still one email
        send_email(s, s.get(OutboxEvent, event.id))  # type: ignore[arg-type]
    sent = mails(mail_folder)
    assert len(sent) == 1
    to, subject, body = sent[0]
    assert to == "ana@example.com" and subject == "Your parcel is running late"
    assert "Hi Ana Diaz" in body and "3 to 5 December" in body and "/orders/ord_x/tracking" in body
    session.rollback()
    assert session.get(Notification, note.id).emailed_at is not None  # type: ignore[union-attr]


def test_a_rolled_back_caller_leaves_no_notification_and_no_event(session: Session) -> None:
    user = make_user(session)
    notifications.notify(session=session, user_id=user.id, kind="x", title="t", body="b")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Notification)) == 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == notifications.CREATED)
        )
        == 0
    )


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("kind", {"kind": "Not A Kind!"}),
        ("title", {"title": "  "}),
        ("title", {"title": "x" * 121}),
        ("body", {"body": ""}),
        ("link", {"link": "https://evil.example/"}),
        ("link", {"link": "//evil.example/"}),
        ("link", {"link": "orders"}),
    ],
)
def test_bad_notifications_are_refused(
    session: Session, field: str, kwargs: dict[str, str]
) -> None:
    user = make_user(session)
    args = {"kind": "order.update", "title": "Hello", "body": "Body", "link": None, **kwargs}
    with pytest.raises(InvalidInput) as raised:
        notifications.notify(session=session, user_id=user.id, **args)  # type: ignore[arg-type]
    assert raised.value.extensions.get("field") == field


def test_unknown_user_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        notifications.notify(session=session, user_id="usr_nobody", kind="x", title="t", body="b")


def test_api_lists_marks_read_and_hides_other_peoples(session: Session, client: TestClient) -> None:
    ana = make_user(session, email="ana2@example.com")
    ben = make_user(session, email="ben2@example.com")
    first = notifications.notify(session=session, user_id=ana.id, kind="a", title="One", body="1")
    notifications.notify(session=session, user_id=ana.id, kind="a", title="Two", body="2")
    bens = notifications.notify(session=session, user_id=ben.id, kind="a", title="Ben", body="b")
    session.commit()
    headers = api_login(client, "ana2@example.com")
    listed = client.get("/api/v1/notifications", headers=headers).json()
    assert listed["unread"] == 2 and [n["title"] for n in listed["items"]] == ["Two", "One"]
    assert client.post(f"/api/v1/notifications/{bens.id}/read", headers=headers).status_code == 404
    assert client.post("/api/v1/notifications/ntf_bogus/read", headers=headers).status_code == 404
    done = client.post(f"/api/v1/notifications/{first.id}/read", headers=headers)
    assert done.status_code == 200 and done.json()["read_at"] is not None
    again = client.post(f"/api/v1/notifications/{first.id}/read", headers=headers)
    assert again.json()["read_at"] == done.json()["read_at"]
    unread = client.get("/api/v1/notifications?unread_only=true", headers=headers).json()
    assert unread["unread"] == 1 and [n["title"] for n in unread["items"]] == ["Two"]
    assert client.get("/api/v1/notifications?limit=0", headers=headers).status_code == 422
    assert client.post("/api/v1/notifications/read-all", headers=headers).json() == {"marked": 1}
    assert client.get("/api/v1/notifications").status_code == 401
    session.rollback()
    assert session.get(Notification, bens.id).read_at is None  # type: ignore[union-attr]


def test_bell_and_page(session: Session, client: TestClient) -> None:
    user = make_user(session, email="cara@example.com")
    note = notifications.notify(
        session=session,
        user_id=user.id,
        kind="delivery.delayed",
        title="Running late",
        body="New estimate inside.",
        link="/orders",
    )
    session.commit()
    csrf = page_login(client, "cara@example.com")
    home = client.get("/account")
    assert 'hx-get="/notifications/bell"' in home.text
    bell = client.get("/notifications/bell")
    assert 'data-unread="1"' in bell.text and "bell-count" in bell.text
    page = client.get("/notifications")
    assert "Running late" in page.text and "1 unread" in page.text
    no_csrf = client.post(f"/notifications/{note.id}/read", follow_redirects=False)
    assert no_csrf.status_code in (400, 403)
    opened = client.post(
        f"/notifications/{note.id}/read", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"] == "/orders"
    assert 'data-unread="0"' in client.get("/notifications/bell").text
    assert (
        client.post(
            "/notifications/ntf_nope/read", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 404
    )
