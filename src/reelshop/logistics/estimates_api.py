"""JSON API of delivery promises: the window a seller's product would arrive in, an
order's promise and current estimate, and the staff logistics dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from reelshop.accounts.models import StaffPermission
from reelshop.checkout.models import Order
from reelshop.errors import NotFound, problem_responses
from reelshop.ids import looks_like
from reelshop.logistics import dashboard, delays, estimates
from reelshop.logistics.estimate_schemas import (
    DashboardOut,
    OrderEstimateOut,
    SellerEstimateOut,
    WindowOut,
)
from reelshop.markets.models import Market
from reelshop.security.authz import (
    Principal,
    ReadDbSession,
    ShopperPrincipal,
    require_staff,
)

router = APIRouter(tags=["logistics"])

LogisticsStaff = Annotated[Principal, Depends(require_staff(StaffPermission.SUPPORT))]


@router.get(
    "/delivery-estimate",
    response_model=SellerEstimateOut,
    summary="When a seller's parcel would arrive if you paid now (from delivered history)",
    responses=problem_responses(404, 422),
)
def seller_estimate(
    session: ReadDbSession,
    seller_id: Annotated[str, Query(min_length=1, max_length=40)],
    market: Annotated[str, Query(pattern=r"^[A-Z]{2}$")] = "US",
) -> SellerEstimateOut:
    if session.get(Market, market) is None:
        raise NotFound("no such market", field="market")
    window, lane = estimates.estimate_for_seller(
        session=session, seller_id=seller_id, market_code=market
    )
    return SellerEstimateOut(
        seller_id=seller_id, market=market, lane=lane, window=WindowOut.of(window)
    )


@router.get(
    "/orders/{order_id}/delivery-estimate",
    response_model=OrderEstimateOut,
    summary="Your order's promised delivery window, its current estimate and any delays",
    responses=problem_responses(401, 404),
)
def order_estimate(
    order_id: str, principal: ShopperPrincipal, session: ReadDbSession
) -> OrderEstimateOut:
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    if order is None or order.shopper_id != principal.id:
        raise NotFound("no such order")
    promise, parcels = estimates.order_estimate(session=session, order_id=order.id)
    cases = delays.open_cases_for_order(session=session, order_id=order.id)
    return OrderEstimateOut.of(order.id, promise, parcels, cases)


@router.get(
    "/staff/logistics/dashboard",
    response_model=DashboardOut,
    summary="Delay hot-spots by lane and carrier, late dispatch by seller, dead letters",
    responses=problem_responses(401, 403, 422),
)
def staff_dashboard(
    principal: LogisticsStaff,
    session: ReadDbSession,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> DashboardOut:
    return DashboardOut.of(dashboard.dashboard(session=session, days=days))
