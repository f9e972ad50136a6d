"""Vetting emails, delivered through the real outbox relay (the mailer writes .eml files)."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

import reelshop.jobs  # noqa: F401 - registers the handlers
from reelshop import worker_context
from reelshop.accounts.models import Role, StaffPermission
from reelshop.config import Settings
from reelshop.mail import FolderMailer
from reelshop.outbox import relay
from reelshop.outbox.models import OutboxEvent
from reelshop.sellers import service as sellers
from tests.factories import make_staff, make_user
from tests.sellers.helpers import PDF, PNG, set_onboarding_mode


def deliver_all(factory: sessionmaker[Session], settings: Settings, session: Session) -> None:
    session.rollback()
    for event_id in session.scalars(select(OutboxEvent.id)).all():
        relay.deliver(factory, settings, event_id)


def mails(folder: Path) -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(folder.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes())
        payload = msg.get_payload(decode=True)
        assert isinstance(payload, bytes)
        out.append((str(msg["To"]), str(msg["Subject"]), payload.decode()))
    return out


def test_invitation_and_decision_emails(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "mail"
    monkeypatch.setitem(worker_context._state, "mailer", FolderMailer(folder))
    staff = make_staff(session, StaffPermission.TRUST_SAFETY)
    issued = sellers.invite_seller(
        session=session,
        staff=staff,
        email="owner@meiya.example",
        business_name="Meiya Beauty",
        market_code="US",
    )
    session.commit()
    raw = session.execute(text("SELECT payload FROM outbox_events")).scalars().first()
    assert issued.token not in str(raw)  # sealed at rest

    set_onboarding_mode(session, "open")
    user = make_user(session, role=Role.SELLER, email="applicant@meiya.example")
    application = sellers.submit_application(
        session=session,
        applicant=user,
        details=sellers.BusinessDetails(
            display_name="Meiya",
            legal_name="Meiya Cosmetics Co., Ltd.",
            registration_number="91440101MA5CK2P31R",
            country="CN",
            ships_from_country="CN",
            categories=["beauty"],
            market_codes=["US"],
        ),
        uploads=[
            sellers.DocumentUpload(kind="business_licence", filename="a.pdf", data=PDF),
            sellers.DocumentUpload(kind="identity", filename="b.png", data=PNG),
        ],
    )
    sellers.request_information(
        session=session, staff=staff, application_id=application.id, message="Send the back side"
    )
    session.commit()
    deliver_all(session_factory, settings, session)

    sent = mails(folder)
    invitation = next(m for m in sent if m[0] == "owner@meiya.example")
    assert issued.token in invitation[2] and "Meiya Beauty" in invitation[1]
    request = next(m for m in sent if m[0] == "applicant@meiya.example" and "information" in m[1])
    assert "Send the back side" in request[2]
