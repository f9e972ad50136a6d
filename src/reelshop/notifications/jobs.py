"""Outbox handler of notifications: the email copy of each in-app notification."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.db import utcnow
from reelshop.notifications.models import Notification
from reelshop.notifications.service import CREATED
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.worker_context import mailer


@subscribe(CREATED, name="notifications.send_email")
def send_email(session: Session, event: OutboxEvent) -> None:
    """Mail once: the row is locked and stamped in the handler's transaction, so a
    redelivered event finds ``emailed_at`` set and sends nothing."""
    note = session.scalars(
        select(Notification)
        .where(Notification.id == str(event.payload["notification_id"]))
        .with_for_update()
    ).first()
    if note is None or note.emailed_at is not None:
        return
    user = session.get(User, note.user_id)
    if user is None:
        return
    text = note.body
    if note.link:
        text += f"\n\nSee it on reelshop: {note.link}"
    mailer().send(
        to=user.email, subject=note.title, body=f"Hi {user.name},\n\n{text}\n\n— reelshop"
    )
    note.emailed_at = utcnow()
