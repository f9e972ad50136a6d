"""JSON API of platform fulfilment and customs: sellers announce inbound stock and see
their fees, staff receive inbound shipments and ship platform-fulfilled orders,
shoppers see the import charges of their cart before paying."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from reelshop.accounts.models import StaffPermission
from reelshop.errors import problem_responses
from reelshop.logistics import customs, fulfilment
from reelshop.logistics.carriers import get_carrier
from reelshop.logistics.fulfilment_schemas import (
    FeeChargeOut,
    InboundIn,
    InboundOut,
    LandedCostOut,
    PlatformShipIn,
    PlatformShipOut,
    ReceiveIn,
)
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers

router = APIRouter(tags=["logistics"])
WarehouseStaff = Annotated[Principal, Depends(require_staff(StaffPermission.SUPPORT))]


def _seller_id(session: DbSession | ReadDbSession, user_id: str) -> str:
    return sellers.own_shop(session=session, user_id=user_id).id


@router.post(
    "/seller/fulfilment/inbound-shipments",
    status_code=status.HTTP_201_CREATED,
    response_model=InboundOut,
    summary="Announce stock you are sending to a platform warehouse",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def announce_inbound(body: InboundIn, principal: SellerPrincipal, session: DbSession) -> InboundOut:
    inbound = fulfilment.announce_inbound(
        session=session,
        seller_id=_seller_id(session, principal.id),
        lines=[fulfilment.InboundLineIn(line.sku_id, line.quantity) for line in body.lines],
        reference=body.reference,
        location_id=body.location_id,
    )
    return InboundOut.of(inbound)


@router.get(
    "/seller/fulfilment/inbound-shipments",
    response_model=list[InboundOut],
    summary="Your inbound shipments, newest first, with what was counted in",
    responses=problem_responses(401, 403),
)
def list_inbound(principal: SellerPrincipal, session: ReadDbSession) -> list[InboundOut]:
    rows = fulfilment.seller_inbound(session=session, seller_id=_seller_id(session, principal.id))
    return [InboundOut.of(row) for row in rows]


@router.get(
    "/seller/fulfilment/fees",
    response_model=list[FeeChargeOut],
    summary="Fulfilment fees charged for your platform-fulfilled orders",
    responses=problem_responses(401, 403),
)
def list_fees(principal: SellerPrincipal, session: ReadDbSession) -> list[FeeChargeOut]:
    rows = fulfilment.seller_fee_charges(
        session=session, seller_id=_seller_id(session, principal.id)
    )
    return [FeeChargeOut.of(row) for row in rows]


@router.post(
    "/staff/fulfilment/inbound-shipments/{inbound_id}/receive",
    response_model=InboundOut,
    summary="Count an inbound shipment in (undamaged units become sellable)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def receive_inbound(
    inbound_id: str, body: ReceiveIn, principal: WarehouseStaff, session: DbSession
) -> InboundOut:
    inbound = fulfilment.receive_inbound(
        session=session,
        inbound_id=inbound_id,
        counted=[
            fulfilment.ReceivedLineIn(line.sku_id, line.received_quantity, line.damaged_quantity)
            for line in body.lines
        ],
        staff_id=principal.id,
    )
    return InboundOut.of(inbound)


@router.post(
    "/staff/fulfilment/orders/{order_id}/ship",
    response_model=PlatformShipOut,
    summary="Pick a platform-fulfilled order and hand it to the carrier",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def ship_order(
    order_id: str,
    body: PlatformShipIn,
    principal: WarehouseStaff,
    session: DbSession,
    settings: AppSettings,
) -> PlatformShipOut:
    record = fulfilment.ship_platform_order(
        session=session,
        order_id=order_id,
        staff_id=principal.id,
        carrier=get_carrier(body.carrier, secret_key=settings.secret_key),
    )
    return PlatformShipOut(order_id=record.order_id, shipment_id=record.shipment_id or "")


@router.get(
    "/checkout/landed-cost",
    response_model=list[LandedCostOut],
    summary="Import duty and fees each seller's shipment in your cart would bring",
    responses=problem_responses(401),
)
def cart_landed_cost(principal: ShopperPrincipal, session: ReadDbSession) -> list[LandedCostOut]:
    return [
        LandedCostOut.of(row.seller_id, row.seller_name, row.cost)
        for row in customs.cart_landed_costs(session=session, shopper=principal.user)
    ]
