"""JSON API of logistics: sellers ship orders (buy a label or enter a number), shoppers
track them, carriers post tracking webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from reelshop.errors import Forbidden, problem_responses
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import SIMULATED, get_carrier
from reelshop.logistics.schemas import RateOut, ShipmentIn, ShipmentOut, TrackingWebhookAck
from reelshop.logistics.service import ParcelItem
from reelshop.payments.api import raw_body
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
)
from reelshop.sellers import service as sellers

router = APIRouter(tags=["logistics"])


def _seller_id(session: DbSession | ReadDbSession, user_id: str) -> str:
    return sellers.own_shop(session=session, user_id=user_id).id


@router.post(
    "/seller/orders/{order_id}/shipments",
    status_code=status.HTTP_201_CREATED,
    response_model=ShipmentOut,
    summary="Ship part or all of a paid order: buy a label, or enter a tracking number",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def create_shipment(
    order_id: str,
    body: ShipmentIn,
    principal: SellerPrincipal,
    session: DbSession,
    settings: AppSettings,
) -> ShipmentOut:
    shipment = logistics.create_shipment(
        session=session,
        seller_id=_seller_id(session, principal.id),
        order_id=order_id,
        carrier=get_carrier(body.carrier, secret_key=settings.secret_key),
        weight_grams=body.weight_grams,
        tracking_number=body.tracking_number,
        items=[ParcelItem(i.order_line_id, i.quantity) for i in body.items],
    )
    session.refresh(shipment)
    return ShipmentOut.of(shipment)


@router.get(
    "/seller/shipping-rates",
    response_model=list[RateOut],
    summary="What a label costs from the carriers that sell them, for your shop's lane",
    responses=problem_responses(401, 403, 422),
)
def shipping_rates(
    principal: SellerPrincipal,
    session: ReadDbSession,
    settings: AppSettings,
    weight_grams: Annotated[int, Query(ge=1, le=70_000)],
) -> list[RateOut]:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise Forbidden("this account has no shop yet")
    carrier = get_carrier(SIMULATED, secret_key=settings.secret_key)
    return [
        RateOut(
            carrier=r.carrier,
            service=r.service,
            lane=r.lane,
            amount=r.price.amount,
            currency=r.price.currency,
            min_days=r.min_days,
            max_days=r.max_days,
        )
        for r in carrier.rates(lane=logistics.lane_for(seller), weight_grams=weight_grams)
    ]


@router.get(
    "/seller/orders/{order_id}/shipments",
    response_model=list[ShipmentOut],
    summary="The parcels of one of your shop's orders",
    responses=problem_responses(401, 403, 404),
)
def seller_shipments(
    order_id: str, principal: SellerPrincipal, session: ReadDbSession
) -> list[ShipmentOut]:
    parcels = logistics.seller_order_shipments(
        session=session, seller_id=_seller_id(session, principal.id), order_id=order_id
    )
    return [ShipmentOut.of(s) for s in parcels]


@router.get(
    "/orders/{order_id}/shipments",
    response_model=list[ShipmentOut],
    summary="Where the parcels of your order are",
    responses=problem_responses(401, 404),
)
def shopper_shipments(
    order_id: str, principal: ShopperPrincipal, session: ReadDbSession
) -> list[ShipmentOut]:
    parcels = logistics.shopper_order_shipments(
        session=session, shopper_id=principal.id, order_id=order_id
    )
    return [ShipmentOut.of(s) for s in parcels]


@router.post(
    "/logistics/webhooks/{carrier}",
    response_model=TrackingWebhookAck,
    summary="Tracking events from a carrier (signed; applied once, in carrier-time order)",
    responses=problem_responses(400, 401, 404, 409),
)
def receive_tracking_webhook(
    carrier: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    body: Annotated[bytes, Depends(raw_body)],
) -> TrackingWebhookAck:
    source = get_carrier(carrier, secret_key=settings.secret_key)
    # Verified before anything touches the database: a forged event writes nothing.
    point = source.parse_webhook(body=body, headers=request.headers)
    outcome = logistics.apply_tracking_event(session=session, carrier=source.code, point=point)
    return TrackingWebhookAck(received=True, outcome=outcome)
