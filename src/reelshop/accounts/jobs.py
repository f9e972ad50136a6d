"""Outbox handlers of the accounts domain."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.worker_context import mailer


@subscribe("user.signed_up", name="accounts.send_welcome_email")
def send_welcome_email(session: Session, event: OutboxEvent) -> None:
    user = session.get(User, event.payload["user_id"])
    if user is None:  # deleted before delivery: nothing to say
        return
    mailer().send(
        to=user.email,
        subject="Welcome to reelshop",
        body=f"Hi {user.name},\n\nYour {user.role} account is ready.\n\n— reelshop",
    )
