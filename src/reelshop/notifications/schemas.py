"""API shapes of notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from reelshop.notifications.models import Notification


class NotificationOut(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, note: Notification) -> NotificationOut:
        return cls(
            id=note.id,
            kind=note.kind,
            title=note.title,
            body=note.body,
            link=note.link,
            created_at=note.created_at,
            read_at=note.read_at,
        )


class NotificationList(BaseModel):
    unread: int
    items: list[NotificationOut]


class MarkedRead(BaseModel):
    marked: int
