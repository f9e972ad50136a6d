"""Notifications: tell a user something in the app and (through the outbox) by email.

Other domains call ``notify`` inside their own transaction; the row and its
``notification.created`` event commit with their change or not at all, and the worker
mails it afterwards (at least once, recorded once).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.db import utcnow
from reelshop.errors import InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.notifications.models import Notification
from reelshop.outbox.service import emit

CREATED = "notification.created"
_KIND = re.compile(r"[a-z][a-z0-9_.]{0,39}")
PAGE_SIZE = 50


def _check_link(link: str | None) -> str | None:
    """Only links inside the site: a notification must never send a user elsewhere."""
    if link is None:
        return None
    if not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > 300:
        raise InvalidInput("a notification links to a path on this site", field="link")
    return link


def notify(
    *,
    session: Session,
    user_id: str,
    kind: str,
    title: str,
    body: str,
    link: str | None = None,
) -> Notification:
    """Store a notification for ``user_id`` and queue its email (``notification.created``)."""
    if not _KIND.fullmatch(kind):
        raise InvalidInput("kind is a short lower-case word like 'delivery.delayed'", field="kind")
    title, body = title.strip(), body.strip()
    if not 1 <= len(title) <= 120:
        raise InvalidInput("a title is 1 to 120 characters", field="title")
    if not 1 <= len(body) <= 2000:
        raise InvalidInput("a body is 1 to 2000 characters", field="body")
    if not looks_like("usr", user_id) or session.get(User, user_id) is None:
        raise NotFound("no such user")
    note = Notification(user_id=user_id, kind=kind, title=title, body=body, link=_check_link(link))
    session.add(note)
    session.flush()
    emit(
        session=session,
        topic=CREATED,
        payload={"notification_id": note.id, "user_id": user_id, "kind": kind},
        subject_id=note.id,
    )
    return note


def list_for(
    *, session: Session, user_id: str, unread_only: bool = False, limit: int = PAGE_SIZE
) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(
        session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
        )
    )


def unread_count(*, session: Session, user_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(
    *, session: Session, user_id: str, notification_id: str, now: datetime | None = None
) -> Notification:
    """Idempotent; someone else's notification is a 404 like a missing one."""
    note = (
        session.get(Notification, notification_id) if looks_like("ntf", notification_id) else None
    )
    if note is None or note.user_id != user_id:
        raise NotFound("no such notification")
    if note.read_at is None:
        note.read_at = now or utcnow()
        session.flush()
    return note


def mark_all_read(*, session: Session, user_id: str, now: datetime | None = None) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
