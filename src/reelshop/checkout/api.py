"""JSON API: cart, checkouts, shoppers' and sellers' orders, vouchers and flash deals."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from reelshop.accounts.models import StaffPermission
from reelshop.checkout import cart as carts
from reelshop.checkout import promotions, service
from reelshop.checkout.models import OrderStatus, VoucherFunding, VoucherKind
from reelshop.checkout.schemas import (
    Amount,
    CartLineIn,
    CartLineUpdate,
    CartOut,
    CheckoutIn,
    CheckoutOut,
    FlashDealIn,
    FlashDealOut,
    OrderOut,
    SellerCancelIn,
    VoucherCheckOut,
    VoucherIn,
    VoucherOut,
)
from reelshop.errors import Forbidden, InvalidInput, problem_responses
from reelshop.idempotency import IdempotencyKey, OptionalIdempotencyKey
from reelshop.money import Money
from reelshop.security import audit
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    require_scope,
    require_staff,
)
from reelshop.security.scopes import Scope
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerProfile

router = APIRouter(tags=["checkout"])

OrdersReader = Annotated[Principal, Depends(require_scope(Scope.ORDERS_READ))]
OrdersWriter = Annotated[Principal, Depends(require_scope(Scope.ORDERS_WRITE))]
FinanceStaff = Annotated[Principal, Depends(require_staff(StaffPermission.FINANCE))]


def _cart_out(session: DbSession | ReadDbSession, principal: Principal) -> CartOut:
    return CartOut.of(carts.review_cart(session=session, shopper=principal.user))


def _own_seller(session: DbSession | ReadDbSession, principal: Principal) -> SellerProfile:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise Forbidden("this account has no shop yet")
    return seller


# --- cart -----------------------------------------------------------------------------------


@router.get("/cart", responses=problem_responses(401, 403), summary="The cart, reviewed now")
def get_cart(session: ReadDbSession, principal: OrdersReader) -> CartOut:
    return _cart_out(session, principal)


@router.post(
    "/cart/lines",
    status_code=201,
    response_model=CartOut,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    summary="Add units of a SKU (Idempotency-Key optional)",
)
def add_cart_line(
    body: CartLineIn, session: DbSession, principal: OrdersWriter, idem: OptionalIdempotencyKey
) -> Response:
    def add() -> CartOut:
        carts.add_line(
            session=session,
            shopper=principal.user,
            sku_id=body.sku_id,
            quantity=body.quantity,
            video_id=body.video_id,
            creator_id=body.creator_id,
        )
        return _cart_out(session, principal)

    return idem.run(add, status_code=201)


@router.patch(
    "/cart/lines/{line_id}",
    responses=problem_responses(401, 403, 404, 422),
    summary="Set a line's quantity",
)
def update_cart_line(
    line_id: str, body: CartLineUpdate, session: DbSession, principal: OrdersWriter
) -> CartOut:
    carts.set_quantity(
        session=session, shopper=principal.user, line_id=line_id, quantity=body.quantity
    )
    return _cart_out(session, principal)


@router.delete(
    "/cart/lines/{line_id}", responses=problem_responses(401, 403, 404), summary="Remove a line"
)
def remove_cart_line(line_id: str, session: DbSession, principal: OrdersWriter) -> CartOut:
    carts.remove_line(session=session, shopper=principal.user, line_id=line_id)
    return _cart_out(session, principal)


@router.post(
    "/cart/accept-prices",
    responses=problem_responses(401, 403),
    summary="Accept the current prices of every line",
)
def accept_prices(session: DbSession, principal: OrdersWriter) -> CartOut:
    carts.accept_current_prices(session=session, shopper=principal.user)
    return _cart_out(session, principal)


# --- checkouts ------------------------------------------------------------------------------


@router.post(
    "/checkouts",
    status_code=201,
    response_model=CheckoutOut,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    summary="Place the cart: one checkout, one order per seller (Idempotency-Key required)",
)
def create_checkout(
    body: CheckoutIn,
    session: DbSession,
    principal: OrdersWriter,
    settings: AppSettings,
    idem: IdempotencyKey,
) -> Response:
    def place() -> CheckoutOut:
        checkout = service.place_checkout(
            session=session,
            shopper=principal.user,
            address_id=body.address_id,
            address=service.AddressInput(**body.address.model_dump()) if body.address else None,
            shipping=dict(body.shipping),
            voucher_codes=body.voucher_codes,
            reservation_ttl=timedelta(seconds=settings.checkout_reservation_ttl_s),
        )
        orders = service.orders_of_checkout(session=session, checkout_id=checkout.id)
        return CheckoutOut.of(checkout, orders)

    return idem.run(place, status_code=201)


@router.get(
    "/checkouts/{checkout_id}",
    responses=problem_responses(401, 403, 404),
    summary="One of your checkouts",
)
def get_checkout(checkout_id: str, session: ReadDbSession, principal: OrdersReader) -> CheckoutOut:
    checkout = service.get_checkout(
        session=session, checkout_id=checkout_id, shopper_id=principal.id
    )
    return CheckoutOut.of(
        checkout, service.orders_of_checkout(session=session, checkout_id=checkout.id)
    )


# --- shopper's orders -----------------------------------------------------------------------


@router.get("/orders", responses=problem_responses(401, 403), summary="Your orders, newest first")
def list_orders(
    session: ReadDbSession,
    principal: OrdersReader,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[OrderOut]:
    orders = service.shopper_orders(
        session=session, shopper_id=principal.id, limit=limit, offset=offset
    )
    return [OrderOut.of(o) for o in orders]


@router.get(
    "/orders/{order_id}", responses=problem_responses(401, 403, 404), summary="One of your orders"
)
def get_order(order_id: str, session: ReadDbSession, principal: OrdersReader) -> OrderOut:
    order = service.shopper_order(session=session, shopper_id=principal.id, order_id=order_id)
    return OrderOut.of(order, history=list(order.history))


# --- seller's orders ------------------------------------------------------------------------


@router.get(
    "/seller/orders", responses=problem_responses(401, 403, 422), summary="Your shop's orders"
)
def seller_orders(
    session: ReadDbSession,
    principal: SellerPrincipal,
    status: OrderStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[OrderOut]:
    seller = _own_seller(session, principal)
    orders = service.seller_orders(
        session=session, seller_id=seller.id, status=status, limit=limit, offset=offset
    )
    return [OrderOut.of(o) for o in orders]


@router.get(
    "/seller/orders/{order_id}",
    responses=problem_responses(401, 403, 404),
    summary="One of your shop's orders",
)
def seller_order(order_id: str, session: ReadDbSession, principal: SellerPrincipal) -> OrderOut:
    seller = _own_seller(session, principal)
    order = service.seller_order(session=session, seller_id=seller.id, order_id=order_id)
    return OrderOut.of(order, history=list(order.history))


@router.post(
    "/seller/orders/{order_id}/cancel",
    response_model=OrderOut,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    summary="Cancel a paid order before shipping it (Idempotency-Key optional)",
)
def seller_cancel(
    order_id: str,
    body: SellerCancelIn,
    session: DbSession,
    principal: SellerPrincipal,
    idem: OptionalIdempotencyKey,
) -> Response:
    seller = _own_seller(session, principal)

    def cancel() -> OrderOut:
        order = service.seller_cancel(
            session=session,
            seller_id=seller.id,
            order_id=order_id,
            actor_id=principal.id,
            reason=body.reason,
        )
        return OrderOut.of(order, history=list(order.history))

    return idem.run(cancel)


# --- vouchers and deals ---------------------------------------------------------------------


@router.get(
    "/vouchers/{code}/check",
    responses=problem_responses(401, 403, 404),
    summary="Can you use this voucher on your cart now?",
)
def check_voucher(code: str, session: ReadDbSession, principal: OrdersReader) -> VoucherCheckOut:
    result = service.check_voucher(session=session, shopper=principal.user, code=code)
    voucher = result.voucher
    assert voucher is not None
    return VoucherCheckOut(
        code=voucher.code,
        valid=result.valid,
        reason=result.reason,
        funded_by=voucher.funded_by,
        seller_id=voucher.seller_id,
        kind=voucher.kind,
        percent_bp=voucher.percent_bp,
        amount=voucher.amount,
        currency=voucher.currency,
        min_spend_amount=voucher.min_spend_amount,
        ends_at=voucher.ends_at,
        uses_left_for_you=result.uses_left_for_you,
        discount_on_cart=(
            Amount(amount=result.discount_on_cart.amount, currency=result.discount_on_cart.currency)
            if result.discount_on_cart
            else None
        ),
    )


def _create_voucher(
    session: DbSession,
    body: VoucherIn,
    funded_by: VoucherFunding,
    seller_id: str | None,
    actor: str,
) -> VoucherOut:
    voucher = promotions.create_voucher(
        session=session,
        code=body.code,
        funded_by=funded_by,
        kind=VoucherKind(body.kind),
        currency=body.currency,
        market_code=body.market_code,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        seller_id=seller_id,
        percent_bp=body.percent_bp,
        amount=body.amount,
        max_discount_amount=body.max_discount_amount,
        min_spend_amount=body.min_spend_amount,
        max_uses_total=body.max_uses_total,
        max_uses_per_user=body.max_uses_per_user,
        created_by=actor,
    )
    return VoucherOut.of(voucher)


@router.post(
    "/seller/vouchers",
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create a voucher your shop pays for",
)
def create_seller_voucher(
    body: VoucherIn, session: DbSession, principal: SellerPrincipal
) -> VoucherOut:
    seller = _own_seller(session, principal)
    return _create_voucher(session, body, VoucherFunding.SELLER, seller.id, principal.id)


@router.post(
    "/staff/vouchers",
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create a platform-funded voucher (staff, finance)",
)
def create_platform_voucher(
    body: VoucherIn, session: DbSession, principal: FinanceStaff
) -> VoucherOut:
    made = _create_voucher(session, body, VoucherFunding.PLATFORM, None, principal.id)
    audit.record(
        session=session,
        actor_id=principal.id,
        action="checkout.platform_voucher_created",
        target_type="voucher",
        target_id=made.id,
    )
    return made


def _create_deal(
    session: DbSession, body: FlashDealIn, seller_id: str | None, actor: str
) -> FlashDealOut:
    try:
        price = Money(body.deal_price_amount, body.currency)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="currency") from None
    deal = promotions.create_flash_deal(
        session=session,
        sku_id=body.sku_id,
        deal_price=price,
        quantity=body.quantity,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        market_code=body.market_code,
        seller_id=seller_id,
        created_by=actor,
    )
    return FlashDealOut.of(deal)


@router.post(
    "/seller/flash-deals",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Create a flash deal on one of your SKUs (market rules apply)",
)
def create_seller_deal(
    body: FlashDealIn, session: DbSession, principal: SellerPrincipal
) -> FlashDealOut:
    seller = _own_seller(session, principal)
    return _create_deal(session, body, seller.id, principal.id)


@router.post(
    "/staff/flash-deals",
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Create a flash deal on any SKU (staff, finance; market rules apply)",
)
def create_staff_deal(
    body: FlashDealIn, session: DbSession, principal: FinanceStaff
) -> FlashDealOut:
    made = _create_deal(session, body, None, principal.id)
    audit.record(
        session=session,
        actor_id=principal.id,
        action="checkout.platform_flash_deal_created",
        target_type="flash_deal",
        target_id=made.id,
    )
    return made
