"""Checkout: placing a cart as one checkout with one order per seller, and what
happens to it afterwards (paid, failed, expired, refunded, delivered).

Payments calls :func:`get_checkout`, :func:`mark_checkout_paid`,
:func:`fail_checkout`, :func:`record_refund`, :func:`mark_delivered` and
:func:`orders_delivered_before`; checkout never imports payments.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reelshop.accounts.models import Address, User
from reelshop.checkout import cart as carts
from reelshop.checkout import promotions
from reelshop.checkout.models import (
    Checkout,
    CheckoutStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    ShippingMethod,
    ShippingRate,
    Voucher,
)
from reelshop.checkout.orders import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    apply_transition,
    can_transition,
    lock_order,
    order_event_payload,
    transition,
)
from reelshop.checkout.pricing import price_checkout
from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound, problem_type
from reelshop.feed import affiliates
from reelshop.ids import looks_like, new_id
from reelshop.inventory import service as inventory
from reelshop.inventory.models import AdjustmentReason
from reelshop.logistics import order_caps
from reelshop.money import Money
from reelshop.outbox.service import emit

CART_NEEDS_REVIEW = problem_type(
    "cart-needs-review", 409, "Something in the cart changed; review it before paying"
)
CURRENCY_MISMATCH = problem_type("currency-mismatch", 422, "One checkout is paid in one currency")
EMPTY_CART = problem_type("empty-cart", 422, "The cart is empty")


class CartNeedsReview(Conflict):
    default_type = CART_NEEDS_REVIEW


__all__ = [
    "ALLOWED_TRANSITIONS",
    "IllegalTransition",
    "fail_checkout",
    "get_checkout",
    "mark_checkout_paid",
    "mark_delivered",
    "orders_delivered_before",
    "record_refund",
    "transition",
]


# --- reads ----------------------------------------------------------------------------------


def get_checkout(*, session: Session, checkout_id: str, shopper_id: str | None) -> Checkout:
    """The shopper's checkout; someone else's (or none) is 404. ``shopper_id=None`` is for
    trusted callers (webhooks, jobs) that act on any checkout."""
    checkout = session.get(Checkout, checkout_id) if looks_like("chk", checkout_id) else None
    if checkout is None or (shopper_id is not None and checkout.shopper_id != shopper_id):
        raise NotFound("no such checkout")
    return checkout


def _lock_checkout(session: Session, checkout_id: str) -> Checkout:
    query = (
        select(Checkout).where(Checkout.id == checkout_id).execution_options(populate_existing=True)
    )
    query = query.with_for_update()
    checkout = session.scalars(query).first() if looks_like("chk", checkout_id) else None
    if checkout is None:
        raise NotFound("no such checkout")
    return checkout


def _orders_of(session: Session, checkout_id: str) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.checkout_id == checkout_id)
            .options(selectinload(Order.lines))
            .order_by(Order.created_at, Order.id)
        ).all()
    )


def checkout_total(checkout: Checkout) -> Money:
    return Money(checkout.total_amount, checkout.currency)


# --- what payments reports ------------------------------------------------------------------


def mark_checkout_paid(*, session: Session, checkout_id: str) -> list[Order]:
    """The payment succeeded: reserved stock is sold, every order becomes paid. Idempotent.

    A checkout that already expired or was cancelled cannot be paid (its stock may be
    someone else's now): that is a 409 and payments must refund.
    """
    checkout = _lock_checkout(session, checkout_id)
    orders = _orders_of(session, checkout.id)
    if checkout.status == CheckoutStatus.PAID:
        return orders
    if checkout.status not in (CheckoutStatus.AWAITING_PAYMENT, CheckoutStatus.OPEN):
        raise Conflict(
            f"checkout {checkout.id} is {checkout.status}; it can no longer be paid",
            checkout_id=checkout.id,
            checkout_status=checkout.status,
        )
    now = utcnow()
    for order in orders:
        for line in order.lines:
            if line.reservation_id is not None:
                inventory.commit(session=session, reservation_id=line.reservation_id)
        if order.status == OrderStatus.PLACED:
            apply_transition(session=session, order=order, to=OrderStatus.PAID, at=now)
    checkout.status = CheckoutStatus.PAID
    checkout.paid_at = now
    emit(
        session=session,
        topic="checkout.paid",
        payload={
            "checkout_id": checkout.id,
            "shopper_id": checkout.shopper_id,
            "currency": checkout.currency,
            "total_amount": checkout.total_amount,
            "order_ids": [o.id for o in orders],
        },
        subject_id=checkout.id,
    )
    session.flush()
    return orders


def _close_unpaid(
    session: Session, checkout: Checkout, status: CheckoutStatus, reason: str
) -> list[Order]:
    orders = _orders_of(session, checkout.id)
    for order in orders:
        for line in order.lines:
            if line.reservation_id is not None:
                inventory.release(session=session, reservation_id=line.reservation_id)
        if order.status == OrderStatus.PLACED:
            apply_transition(session=session, order=order, to=OrderStatus.CANCELLED, reason=reason)
    promotions.release_checkout_promotions(session=session, checkout_id=checkout.id)
    checkout.status = status
    checkout.closed_reason = reason[:200]
    emit(
        session=session,
        topic=f"checkout.{status}",
        payload={"checkout_id": checkout.id, "shopper_id": checkout.shopper_id, "reason": reason},
        subject_id=checkout.id,
    )
    session.flush()
    return orders


def fail_checkout(*, session: Session, checkout_id: str, reason: str) -> Checkout:
    """The payment failed or was abandoned: stock, deal units and vouchers go back, orders
    are cancelled. Idempotent; a paid checkout is a 409 (refund it instead)."""
    checkout = _lock_checkout(session, checkout_id)
    if checkout.status in (CheckoutStatus.CANCELLED, CheckoutStatus.EXPIRED):
        return checkout
    if checkout.status == CheckoutStatus.PAID:
        raise Conflict(f"checkout {checkout.id} is paid; refund its orders instead")
    _close_unpaid(session, checkout, CheckoutStatus.CANCELLED, reason)
    return checkout


def record_refund(*, session: Session, order_id: str, amount: Money) -> Order:
    """Add a refund to the order. A part is recorded in ``refunded_amount`` and the order
    keeps its status (it can still ship and settle); refunds covering the total move it
    to ``refunded``."""
    order = lock_order(session=session, order_id=order_id)
    if amount.currency != order.currency:
        raise InvalidInput(f"refund is in {amount.currency}, the order in {order.currency}")
    if amount.amount <= 0:
        raise InvalidInput("a refund is a positive amount")
    if order.refunded_amount + amount.amount > order.total_amount:
        raise Conflict(
            "refunds would exceed what the order cost",
            refunded_amount=order.refunded_amount,
            total_amount=order.total_amount,
        )
    if not can_transition(order.status, OrderStatus.REFUNDED):
        raise IllegalTransition(f"a {order.status} order cannot be refunded", status=order.status)
    order.refunded_amount += amount.amount
    if order.refunded_amount == order.total_amount:
        apply_transition(
            session=session, order=order, to=OrderStatus.REFUNDED, reason=f"refund {amount}"
        )
    else:
        emit(
            session=session,
            topic="order.partially_refunded",
            subject_id=order.id,
            payload={
                "order_id": order.id,
                "seller_id": order.seller_id,
                "amount": amount.amount,
                "currency": amount.currency,
                "refunded_amount": order.refunded_amount,
            },
        )
    return order


def mark_delivered(*, session: Session, order_id: str, delivered_at: datetime) -> Order:
    """The carrier delivered the order. Idempotent. A paid order that was never marked
    shipped (no shipment recorded yet) passes through shipped at the same instant."""
    order = lock_order(session=session, order_id=order_id)
    if order.status == OrderStatus.DELIVERED:
        return order
    if order.status == OrderStatus.PAID:
        apply_transition(session=session, order=order, to=OrderStatus.SHIPPED, at=delivered_at)
    return apply_transition(session=session, order=order, to=OrderStatus.DELIVERED, at=delivered_at)


def orders_delivered_before(*, session: Session, before: datetime, limit: int) -> list[Order]:
    """Delivered (or completed) orders delivered before ``before``, oldest first: settlement
    candidates. Payments decides which it has already settled."""
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.status.in_([OrderStatus.DELIVERED, OrderStatus.COMPLETED]),
                Order.delivered_at.is_not(None),
                Order.delivered_at < before,
            )
            .order_by(Order.delivered_at, Order.id)
            .limit(limit)
        ).all()
    )


def order_lines(*, session: Session, order_id: str) -> list[OrderLine]:
    return list(
        session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
        ).all()
    )


# --- placing a checkout ---------------------------------------------------------------------


@dataclass(frozen=True)
class AddressInput:
    recipient: str
    line1: str
    city: str
    region: str
    postal_code: str
    country: str
    line2: str | None = None
    phone: str | None = None


def _address_snapshot(
    session: Session, shopper: User, address_id: str | None, typed: AddressInput | None
) -> AddressInput:
    if (address_id is None) == (typed is None):
        raise InvalidInput("give either a saved address_id or a typed address", field="address")
    if address_id is not None:
        saved = session.get(Address, address_id) if looks_like("adr", address_id) else None
        if saved is None or saved.user_id != shopper.id:
            raise NotFound("no such saved address", field="address_id")
        typed = AddressInput(
            recipient=saved.recipient,
            line1=saved.line1,
            line2=saved.line2,
            city=saved.city,
            region=saved.region,
            postal_code=saved.postal_code,
            country=saved.country,
            phone=saved.phone,
        )
    assert typed is not None
    if typed.country.upper() != shopper.market_code:
        raise InvalidInput(
            f"we ship to {shopper.market_code} addresses in your market; "
            f"this address is in {typed.country.upper()}",
            field="address.country",
        )
    return typed


def shipping_rates(*, session: Session, market_code: str) -> dict[str, ShippingRate]:
    rows = session.scalars(select(ShippingRate).where(ShippingRate.market_code == market_code))
    return {rate.method: rate for rate in rows}


def address_of(checkout: Checkout) -> dict[str, str | None]:
    value = json.loads(checkout.shipping_address)
    assert isinstance(value, dict)
    return value


def place_checkout(
    *,
    session: Session,
    shopper: User,
    address_id: str | None = None,
    address: AddressInput | None = None,
    shipping: dict[str, str] | None = None,
    voucher_codes: list[str] | None = None,
    reservation_ttl: timedelta,
    now: datetime | None = None,
) -> Checkout:
    """Turn the shopper's cart into one checkout with one order per seller, in one step.

    Everything happens in the caller's transaction: stock is reserved with guarded
    statements, deal units and voucher uses are taken with guarded statements, and any
    refusal raises, so the caller's rollback leaves nothing half-written.
    """
    now = now or utcnow()
    review = carts.review_cart(session=session, shopper=shopper, now=now)
    if review.cart is None or not review.lines:
        raise InvalidInput("the cart is empty", problem=EMPTY_CART)
    if len(review.currencies) > 1:
        raise InvalidInput(
            "the cart holds items priced in "
            + " and ".join(review.currencies)
            + "; one checkout is paid in one currency, so buy them separately",
            problem=CURRENCY_MISMATCH,
            currencies=review.currencies,
        )
    if review.problems:
        raise CartNeedsReview(
            "some items changed since you added them; review your cart",
            problems=review.problems,
        )
    currency = review.currencies[0]
    snapshot = _address_snapshot(session, shopper, address_id, address)
    groups = review.by_seller()
    for seller_id in groups:  # a restricted or suspended shop's daily order cap
        order_caps.refuse_over_daily_cap(session=session, seller_id=seller_id, now=now)
    choices = dict.fromkeys(groups, ShippingMethod.STANDARD.value)
    for seller_id, method in (shipping or {}).items():
        if seller_id not in groups:
            raise InvalidInput(
                f"shipping chosen for {seller_id}, who has nothing in this cart",
                field="shipping",
            )
        if method not in {m.value for m in ShippingMethod}:
            raise InvalidInput(f"unknown shipping method {method!r}", field="shipping")
        choices[seller_id] = method
    rates = shipping_rates(session=session, market_code=shopper.market_code)
    shipping_prices: dict[str, Money] = {}
    for seller_id, method in choices.items():
        rate = rates.get(method)
        if rate is None or rate.currency != currency:
            raise InvalidInput(
                f"{method} shipping is not offered for {currency} orders in {shopper.market_code}",
                field="shipping",
            )
        shipping_prices[seller_id] = Money(rate.amount, rate.currency)

    vouchers: list[Voucher] = []
    for code in dict.fromkeys(promotions.normalise_code(c) for c in voucher_codes or []):
        vouchers.append(promotions.find_voucher(session=session, code=code))
    terms = [
        promotions.voucher_terms(v, now=now, market_code=shopper.market_code, currency=currency)
        for v in vouchers
    ]

    checkout = Checkout(
        id=new_id("chk"),
        shopper_id=shopper.id,
        market_code=shopper.market_code,
        status=CheckoutStatus.AWAITING_PAYMENT,
        currency=currency,
        subtotal_amount=0,
        total_amount=0,
        shipping_address=json.dumps(asdict(snapshot), sort_keys=True),
        shipping_country=snapshot.country.upper(),
        expires_at=now + reservation_ttl,
    )
    session.add(checkout)
    session.flush()

    subtotals: dict[str, Money] = {}
    order_lines: dict[str, list[OrderLine]] = {}
    for seller_id, lines in groups.items():
        subtotal = Money.zero(currency)
        built: list[OrderLine] = []
        for position, item in enumerate(lines):
            assert item.sku is not None and item.unit is not None
            unit = item.unit
            deal_id = None
            if unit.deal is not None:
                if not promotions.take_deal_units(
                    session=session, deal_id=unit.deal.id, quantity=item.line.quantity, now=now
                ):
                    raise CartNeedsReview(
                        "the flash deal ran out before your order; the item is back at "
                        f"{unit.list_price.format()}",
                        problems=[
                            {
                                "line_id": item.line.id,
                                "sku_id": item.line.sku_id,
                                "code": carts.LineProblem.PRICE_CHANGED,
                                "detail": "flash deal sold out",
                                "price_seen_amount": item.line.price_seen_amount,
                                "price_amount": unit.list_price.amount,
                            }
                        ],
                    )
                deal_id = unit.deal.id
            try:
                reservation = inventory.reserve(
                    session=session,
                    sku_id=item.sku.id,
                    quantity=item.line.quantity,
                    ttl=reservation_ttl,
                    owner_ref=checkout.id,
                    now=now,
                )
            except inventory.OutOfStock as exc:
                raise CartNeedsReview(
                    "an item sold out while you were checking out",
                    problems=[
                        {
                            "line_id": item.line.id,
                            "sku_id": item.line.sku_id,
                            "code": carts.LineProblem.OUT_OF_STOCK,
                            "detail": exc.detail,
                        }
                    ],
                ) from None
            line_total = unit.price * item.line.quantity
            subtotal = subtotal + line_total
            built.append(
                OrderLine(
                    position=position,
                    sku_id=item.sku.id,
                    product_id=item.sku.product_id,
                    title=item.sku.product.title,
                    option_values=dict(item.sku.option_values or {}),
                    list_price_amount=unit.list_price.amount,
                    unit_price_amount=unit.price.amount,
                    quantity=item.line.quantity,
                    line_total_amount=line_total.amount,
                    flash_deal_id=deal_id,
                    reservation_id=reservation.id,
                    video_id=item.line.video_id,
                    creator_id=item.line.creator_id,
                )
            )
        subtotals[seller_id] = subtotal
        order_lines[seller_id] = built

    price = price_checkout(
        currency=currency, subtotals=subtotals, shipping=shipping_prices, vouchers=terms
    )
    for voucher in vouchers:
        promotions.redeem(
            session=session,
            voucher=voucher,
            user_id=shopper.id,
            checkout_id=checkout.id,
            discount=price.voucher_discounts[voucher.id],
        )

    orders: list[Order] = []
    for order_price in price.orders:
        order = Order(
            id=new_id("ord"),
            checkout_id=checkout.id,
            shopper_id=shopper.id,
            seller_id=order_price.seller_id,
            status=OrderStatus.PLACED,
            currency=currency,
            shipping_method=choices[order_price.seller_id],
            subtotal_amount=order_price.subtotal.amount,
            shipping_amount=order_price.shipping.amount,
            seller_discount_amount=order_price.seller_discount.amount,
            platform_discount_amount=order_price.platform_discount.amount,
            discount_amount=order_price.discount.amount,
            total_amount=order_price.total.amount,
            placed_at=now,
        )
        order.lines = order_lines[order_price.seller_id]
        order.history = [OrderStatusChange(from_status=None, to_status=OrderStatus.PLACED, at=now)]
        session.add(order)
        orders.append(order)
    checkout.subtotal_amount = price.subtotal.amount
    checkout.discount_amount = price.discount.amount
    checkout.shipping_amount = price.shipping.amount
    checkout.total_amount = price.total.amount
    carts.clear(session=session, cart=review.cart)
    session.flush()
    affiliates.attribute_order_lines(
        session=session,
        shopper_id=shopper.id,
        market_code=checkout.market_code,
        orders=orders,
        now=now,
    )
    for order in orders:
        emit(
            session=session,
            topic="order.placed",
            payload=order_event_payload(order),
            subject_id=order.id,
        )
    emit(
        session=session,
        topic="checkout.placed",
        payload={
            "checkout_id": checkout.id,
            "shopper_id": shopper.id,
            "currency": currency,
            "total_amount": checkout.total_amount,
            "order_ids": [o.id for o in orders],
            "expires_at": checkout.expires_at.isoformat(),
        },
        subject_id=checkout.id,
    )
    session.flush()
    return checkout


def orders_of_checkout(*, session: Session, checkout_id: str) -> list[Order]:
    return _orders_of(session, checkout_id)


# --- expiry ---------------------------------------------------------------------------------


def expire_unpaid(*, session: Session, now: datetime | None = None, limit: int = 200) -> int:
    """Close checkouts whose payment did not arrive in time: their orders are cancelled
    and stock, deal units and voucher uses go back. Then any other overdue reservation
    is released. Returns the number of checkouts expired."""
    now = now or utcnow()
    due = session.scalars(
        select(Checkout.id)
        .where(
            Checkout.status.in_([CheckoutStatus.AWAITING_PAYMENT, CheckoutStatus.OPEN]),
            Checkout.expires_at <= now,
        )
        .order_by(Checkout.expires_at)
        .limit(limit)
    ).all()
    expired = 0
    for checkout_id in due:
        checkout = _lock_checkout(session, checkout_id)
        if checkout.status in (CheckoutStatus.AWAITING_PAYMENT, CheckoutStatus.OPEN):
            _close_unpaid(session, checkout, CheckoutStatus.EXPIRED, "payment not received in time")
            expired += 1
    inventory.expire_due(session=session, now=now)
    session.flush()
    return expired


# --- orders for shoppers and sellers --------------------------------------------------------


def shopper_orders(
    *, session: Session, shopper_id: str, limit: int = 50, offset: int = 0
) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.shopper_id == shopper_id)
            .options(selectinload(Order.lines))
            .order_by(Order.placed_at.desc(), Order.id)
            .limit(limit)
            .offset(offset)
        ).all()
    )


def shopper_order(*, session: Session, shopper_id: str, order_id: str) -> Order:
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    if order is None or order.shopper_id != shopper_id:
        raise NotFound("no such order")
    return order


def seller_orders(
    *,
    session: Session,
    seller_id: str,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Order]:
    query = select(Order).where(Order.seller_id == seller_id)
    if status is not None:
        query = query.where(Order.status == status)
    return list(
        session.scalars(
            query.options(selectinload(Order.lines))
            .order_by(Order.placed_at.desc(), Order.id)
            .limit(limit)
            .offset(offset)
        ).all()
    )


def seller_order_count(*, session: Session, seller_id: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Order).where(Order.seller_id == seller_id))
        or 0
    )


def seller_order(*, session: Session, seller_id: str, order_id: str) -> Order:
    order = session.get(Order, order_id) if looks_like("ord", order_id) else None
    if order is None or order.seller_id != seller_id:
        raise NotFound("no such order")
    return order


def seller_cancel(
    *, session: Session, seller_id: str, order_id: str, actor_id: str, reason: str
) -> Order:
    """A seller cancels a paid order before shipping it: the units go back on hand and
    ``order.cancelled`` / ``order.cancelled_by_seller`` tell payments to refund. Unpaid
    orders are not the seller's to cancel (they expire or get paid within minutes)."""
    seller_order(session=session, seller_id=seller_id, order_id=order_id)
    order = lock_order(session=session, order_id=order_id)
    if order.status == OrderStatus.PLACED:
        raise IllegalTransition(
            "this order is not paid yet; it is cancelled automatically if payment does not arrive",
            order_id=order.id,
            current_status=order.status,
            requested_status=OrderStatus.CANCELLED.value,
        )
    was_paid = order.status == OrderStatus.PAID
    apply_transition(
        session=session, order=order, to=OrderStatus.CANCELLED, actor_id=actor_id, reason=reason
    )
    for line in order_lines(session=session, order_id=order.id):
        if line.reservation_id is None:
            continue
        if was_paid:
            reservation = inventory.commit(session=session, reservation_id=line.reservation_id)
            inventory.adjust(
                session=session,
                sku_id=line.sku_id,
                location_id=reservation.location_id,
                delta=line.quantity,
                reason=AdjustmentReason.RETURNED,
                actor_id=actor_id,
                note=f"{order.id} cancelled before shipping",
            )
        else:
            inventory.release(session=session, reservation_id=line.reservation_id)
    emit(
        session=session,
        topic="order.cancelled_by_seller",
        payload={**order_event_payload(order), "was_paid": was_paid, "reason": reason},
        subject_id=order.id,
    )
    session.flush()
    return order


# --- voucher check --------------------------------------------------------------------------


@dataclass(frozen=True)
class VoucherCheck:
    voucher: Voucher | None
    valid: bool
    reason: str | None
    uses_left_for_you: int | None
    discount_on_cart: Money | None


def check_voucher(
    *, session: Session, shopper: User, code: str, now: datetime | None = None
) -> VoucherCheck:
    """Can the shopper use ``code`` on their cart now, and what would it take off?"""
    now = now or utcnow()
    voucher = promotions.find_voucher(session=session, code=code)
    uses = promotions.uses_by(session=session, voucher_id=voucher.id, user_id=shopper.id)
    left = max(voucher.max_uses_per_user - uses, 0)
    if voucher.max_uses_total is not None:
        left = min(left, max(voucher.max_uses_total - voucher.uses_count, 0))
    review = carts.review_cart(session=session, shopper=shopper, now=now)
    currency = review.currencies[0] if len(review.currencies) == 1 else voucher.currency
    try:
        terms = promotions.voucher_terms(
            voucher, now=now, market_code=shopper.market_code, currency=currency
        )
        if left <= 0:
            raise promotions.VoucherExhausted(f"voucher {voucher.code} has no uses left for you")
        discount = None
        if review.lines and len(review.currencies) == 1:
            subtotals: dict[str, Money] = {}
            for seller_id, lines in review.by_seller().items():
                total = Money.zero(currency)
                for item in lines:
                    if item.line_total is not None:
                        total = total + item.line_total
                subtotals[seller_id] = total
            price = price_checkout(
                currency=currency, subtotals=subtotals, shipping={}, vouchers=[terms]
            )
            discount = price.voucher_discounts[voucher.id]
    except (InvalidInput, Conflict) as exc:
        return VoucherCheck(voucher, False, exc.detail, left, None)
    return VoucherCheck(voucher, True, None, left, discount)
