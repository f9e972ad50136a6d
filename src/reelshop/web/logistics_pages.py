"""HTML pages of logistics: the seller's shipping workflow for one order and the
shopper's tracking timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reelshop.checkout import service as checkout
from reelshop.errors import ProblemError
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import CARRIER_NAMES, get_carrier
from reelshop.logistics.models import Lane, Shipment
from reelshop.logistics.packing_slip import SLIPPABLE
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
)
from reelshop.sellers import service as sellers
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

STATUS_LABEL = {
    "label_created": "Label created",
    "in_transit": "In transit",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered",
    "exception": "Needs attention",
    "lost": "Lost",
}
ROUTE = {Lane.DOMESTIC_US: "Within the US", Lane.CN_US: "China → United States (air)"}


def _parcels(shipments: list[Shipment]) -> list[dict[str, Any]]:
    return [
        {
            "shipment": s,
            "carrier_name": CARRIER_NAMES.get(s.carrier, s.carrier),
            "route": ROUTE.get(Lane(s.lane), s.lane),
            "status_label": STATUS_LABEL.get(s.status, s.status),
            "events": sorted(s.events, key=lambda e: e.occurred_at, reverse=True),
        }
        for s in shipments
    ]


def _seller_page(
    request: Request,
    session: Any,
    seller_id: str,
    order_id: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    order = checkout.seller_order(session=session, seller_id=seller_id, order_id=order_id)
    shipments = logistics.seller_order_shipments(
        session=session, seller_id=seller_id, order_id=order_id
    )
    return render(
        request,
        "logistics/seller_shipping.html",
        {
            "order": order,
            "parcels": _parcels(shipments),
            "carriers": CARRIER_NAMES,
            "can_ship": order.status in logistics.SHIPPABLE,
            "can_print_slip": order.status in SLIPPABLE,
            "status_label": STATUS_LABEL,
            **extra,
        },
        status_code=status_code,
    )


def _seller_id(session: Any, user_id: str) -> str:
    return sellers.own_shop(session=session, user_id=user_id).id


@router.get("/seller/orders/{order_id}/shipping", response_class=HTMLResponse)
def seller_shipping_page(
    order_id: str, request: Request, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    return _seller_page(request, session, _seller_id(session, principal.id), order_id)


@router.post("/seller/orders/{order_id}/shipping", response_class=HTMLResponse)
def ship_order(
    order_id: str,
    request: Request,
    principal: SellerPrincipal,
    session: DbSession,
    settings: AppSettings,
    carrier: Annotated[str, Form(max_length=32)],
    weight_grams: Annotated[int, Form(ge=1, le=70_000)],
    tracking_number: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    seller_id = _seller_id(session, principal.id)
    try:
        logistics.create_shipment(
            session=session,
            seller_id=seller_id,
            order_id=order_id,
            carrier=get_carrier(carrier, secret_key=settings.secret_key),
            weight_grams=weight_grams,
            tracking_number=tracking_number.strip() or None,
        )
    except ProblemError as exc:
        session.rollback()
        return _seller_page(
            request,
            session,
            seller_id,
            order_id,
            status_code=exc.status,
            error=exc.detail,
            form={"carrier": carrier, "tracking_number": tracking_number},
        )
    return RedirectResponse(f"/seller/orders/{order_id}/shipping", status_code=303)


@router.get("/orders/{order_id}/tracking", response_class=HTMLResponse)
def tracking_page(
    order_id: str, request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    order = checkout.shopper_order(session=session, shopper_id=principal.id, order_id=order_id)
    shipments = logistics.shopper_order_shipments(
        session=session, shopper_id=principal.id, order_id=order_id
    )
    return render(
        request,
        "logistics/tracking.html",
        {"order": order, "parcels": _parcels(shipments), "active": "orders"},
    )
