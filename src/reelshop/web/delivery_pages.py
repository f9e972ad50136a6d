"""The delivery-promise fragment shown on product pages, at checkout and on the
tracking page (loaded by htmx from ``logistics/_delivery_promise.html``, so the pages
that include it need no extra context)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from reelshop.checkout.models import Order
from reelshop.errors import InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.logistics import delays, estimates
from reelshop.logistics.models import Lane
from reelshop.markets.models import Market
from reelshop.security.authz import OptionalPrincipal, ReadDbSession
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

LANE_NAME = {Lane.DOMESTIC_US: "within the US", Lane.CN_US: "from China by air"}


def day(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}"


def _days_between(earliest: datetime, latest: datetime) -> int:
    return max(1, round((latest - earliest).total_seconds() / 86400))


@router.get("/delivery-promise", response_class=HTMLResponse)
def delivery_promise(
    request: Request,
    session: ReadDbSession,
    principal: OptionalPrincipal,
    seller_id: Annotated[str | None, Query(max_length=40)] = None,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    context: dict[str, Any] = {}
    if order_id is not None:
        order = session.get(Order, order_id) if looks_like("ord", order_id) else None
        if order is None or principal is None or order.shopper_id != principal.id:
            raise NotFound("no such order")
        promise, parcels = estimates.order_estimate(session=session, order_id=order.id)
        if promise is None:
            return render(request, "logistics/_promise_window.html", {"no_promise": True})
        zone = estimates.market_zone(session, promise.market_code)
        moved = (promise.current_earliest, promise.current_latest) != (
            promise.earliest,
            promise.latest,
        )
        context = {
            "promised": (day(promise.earliest, zone), day(promise.latest, zone)),
            "current": (day(promise.current_earliest, zone), day(promise.current_latest, zone))
            if moved
            else None,
            "delayed": bool(delays.open_cases_for_order(session=session, order_id=order.id)),
            "delivered": bool(parcels) and all(p.source == "delivered" for p in parcels),
            "source": promise.source,
        }
    elif seller_id is not None:
        market_code = principal.user.market_code if principal is not None else "US"
        if session.get(Market, market_code) is None:
            market_code = "US"
        window, lane = estimates.estimate_for_seller(
            session=session, seller_id=seller_id, market_code=market_code
        )
        zone = estimates.market_zone(session, market_code)
        context = {
            "window": (day(window.earliest, zone), day(window.latest, zone)),
            "days": _days_between(window.earliest, window.latest),
            "lane": LANE_NAME.get(lane, lane),
            "source": window.source,
            "samples": window.samples,
        }
    else:
        raise InvalidInput("give a seller_id or an order_id", field="seller_id")
    return render(request, "logistics/_promise_window.html", context)
