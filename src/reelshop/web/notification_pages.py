"""HTML pages of notifications: the list, mark read, and the top bar's bell (an htmx
fragment, so pages that never show it do no counting)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reelshop.notifications import service as notifications
from reelshop.security.authz import CurrentPrincipal, DbSession, ReadDbSession
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, principal: CurrentPrincipal, session: ReadDbSession
) -> Response:
    items = notifications.list_for(session=session, user_id=principal.id, limit=100)
    return render(
        request,
        "notifications/list.html",
        {
            "items": items,
            "unread": notifications.unread_count(session=session, user_id=principal.id),
        },
    )


@router.get("/notifications/bell", response_class=HTMLResponse)
def bell(request: Request, principal: CurrentPrincipal, session: ReadDbSession) -> Response:
    return render(
        request,
        "notifications/_bell.html",
        {"unread": notifications.unread_count(session=session, user_id=principal.id)},
    )


@router.post("/notifications/read-all", response_class=HTMLResponse)
def read_all(principal: CurrentPrincipal, session: DbSession) -> Response:
    notifications.mark_all_read(session=session, user_id=principal.id)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read", response_class=HTMLResponse)
def read_one(notification_id: str, principal: CurrentPrincipal, session: DbSession) -> Response:
    """Mark read and follow the notification's link (a path on this site) if it has one."""
    note = notifications.mark_read(
        session=session, user_id=principal.id, notification_id=notification_id
    )
    return RedirectResponse(note.link or "/notifications", status_code=303)
