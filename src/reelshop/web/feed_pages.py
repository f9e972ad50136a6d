"""The For You page: one video at a time, swipe for the next, buy without leaving."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from reelshop.feed import service
from reelshop.security.authz import AppSettings, DbSession, OptionalPrincipal
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

CART_API = "/api/v1/cart/lines"
CART_FORM = "/cart/items"


def _page(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    settings: AppSettings,
    cursor: str | None,
    template: str,
) -> Response:
    page = service.feed_page(
        session=session,
        user_id=principal.id if principal else None,
        market_code=principal.user.market_code if principal else "US",
        cursor=cursor,
        model_dir=settings.data_dir / "recommender",
    )
    return render(
        request,
        template,
        {
            "items": page.items,
            "next_cursor": page.next_cursor,
            "active": "feed",
            "cart_api": CART_API,
            "cart_form": CART_FORM,
            "signed_in": principal is not None,
        },
    )


@router.get("/feed", response_class=HTMLResponse)
def feed(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    settings: AppSettings,
) -> Response:
    return _page(request, session, principal, settings, None, "feed/feed.html")


@router.get("/feed/more", response_class=HTMLResponse)
def feed_more(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    settings: AppSettings,
    cursor: Annotated[str, Query(max_length=4000)],
) -> Response:
    """The next page's slides, appended by htmx when the last one scrolls into view."""
    return _page(request, session, principal, settings, cursor, "feed/_slides.html")
