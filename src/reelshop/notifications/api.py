"""JSON API of notifications: a user lists theirs and marks them read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reelshop.errors import problem_responses
from reelshop.notifications import service as notifications
from reelshop.notifications.schemas import MarkedRead, NotificationList, NotificationOut
from reelshop.security.authz import CurrentPrincipal, DbSession, ReadDbSession

router = APIRouter(tags=["notifications"])


@router.get(
    "/notifications",
    response_model=NotificationList,
    summary="Your notifications, newest first, with the unread count",
    responses=problem_responses(401, 422),
)
def list_notifications(
    principal: CurrentPrincipal,
    session: ReadDbSession,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> NotificationList:
    items = notifications.list_for(
        session=session, user_id=principal.id, unread_only=unread_only, limit=limit
    )
    return NotificationList(
        unread=notifications.unread_count(session=session, user_id=principal.id),
        items=[NotificationOut.of(n) for n in items],
    )


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    summary="Mark one of your notifications read (idempotent)",
    responses=problem_responses(401, 404),
)
def mark_read(
    notification_id: str, principal: CurrentPrincipal, session: DbSession
) -> NotificationOut:
    note = notifications.mark_read(
        session=session, user_id=principal.id, notification_id=notification_id
    )
    return NotificationOut.of(note)


@router.post(
    "/notifications/read-all",
    response_model=MarkedRead,
    summary="Mark all your notifications read",
    responses=problem_responses(401),
)
def mark_all_read(principal: CurrentPrincipal, session: DbSession) -> MarkedRead:
    return MarkedRead(marked=notifications.mark_all_read(session=session, user_id=principal.id))
