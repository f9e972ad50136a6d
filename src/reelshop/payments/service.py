"""Payments: taking a checkout's money, applying the processor's webhooks, refunds,
settlement of delivered orders into seller payables, and payouts.

Every movement of money is a balanced journal entry (``payments.ledger``) written in
the same transaction as the state change it records.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.catalog.models import Product
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Order, OrderLine
from reelshop.config import Settings
from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound, ProblemError, problem_type
from reelshop.feed import affiliates
from reelshop.ids import looks_like, new_id
from reelshop.money import Money
from reelshop.outbox.service import emit
from reelshop.payments import ledger
from reelshop.payments.ledger import Posting
from reelshop.payments.models import (
    LIVE_PAYMENT_STATUSES,
    CommissionRate,
    EntryKind,
    EscrowHold,
    HoldStatus,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    MarketFinancePolicy,
    Payment,
    PaymentStatus,
    Payout,
    PayoutStatus,
    ReceivedWebhook,
    Refund,
)
from reelshop.payments.provider import (
    UNKNOWN_PROVIDER,
    EventType,
    PaymentMethod,
    PaymentProvider,
    ProviderEvent,
    ProviderResult,
    ProviderStatus,
)
from reelshop.payments.simulator import SimulatedProcessor, decline_message

log = logging.getLogger("reelshop.payments")

CURRENCY_MISMATCH = problem_type(
    "payment-currency-mismatch", 422, "The payment's currency is not the checkout's"
)
NOT_PAYABLE = problem_type("checkout-not-payable", 409, "The checkout cannot be paid now")

DEFAULT_HOLD_DAYS = 7
DEFAULT_COMMISSION_BP = 800
DEFAULT_CREATOR_COMMISSION_BP = 1000


class CurrencyMismatch(InvalidInput):
    default_type = CURRENCY_MISMATCH


class NotPayable(Conflict):
    default_type = NOT_PAYABLE


def get_provider(name: str, settings: Settings) -> PaymentProvider:
    if name == SimulatedProcessor.name:
        return SimulatedProcessor(webhook_secret=settings.simulated_processor_webhook_secret)
    raise ProblemError(f"no payment provider {name!r}", problem=UNKNOWN_PROVIDER)


def webhook_url(settings: Settings, provider: str = SimulatedProcessor.name) -> str:
    base = settings.payments_webhook_base_url or f"http://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/api/v1/payments/webhooks/{provider}"


# --- paying a checkout --------------------------------------------------------------------------


def _lock_payment(session: Session, payment_id: str) -> Payment:
    query = (
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    )
    query = query.with_for_update()
    payment = session.scalars(query).first()
    if payment is None:
        raise NotFound("no such payment")
    return payment


def get_payment(*, session: Session, payment_id: str, shopper_id: str | None) -> Payment:
    payment = session.get(Payment, payment_id) if looks_like("pay", payment_id) else None
    if payment is None or (shopper_id is not None and payment.shopper_id != shopper_id):
        raise NotFound("no such payment")
    return payment


def latest_payment(*, session: Session, checkout_id: str) -> Payment | None:
    return session.scalars(
        select(Payment)
        .where(Payment.checkout_id == checkout_id)
        .order_by(Payment.created_at.desc(), Payment.id)
        .limit(1)
    ).first()


def start_payment(
    *,
    session: Session,
    provider: PaymentProvider,
    checkout_id: str,
    shopper_id: str,
    currency: str | None,
    method: PaymentMethod,
    return_url: str,
) -> Payment:
    """Create the checkout's payment and ask the provider to authorise it.

    The amount is always the checkout's total, in the checkout's currency: a request in
    another currency is a 422 and writes nothing. A checkout with a live payment (in
    progress or captured) is a 409; a failed one may be retried with a new payment.
    """
    chk = checkout.get_checkout(session=session, checkout_id=checkout_id, shopper_id=shopper_id)
    if currency is not None and currency.upper() != chk.currency:
        raise CurrencyMismatch(
            f"this checkout is in {chk.currency}; a payment in {currency.upper()} cannot pay it",
            checkout_currency=chk.currency,
        )
    if chk.status not in ("awaiting_payment", "open"):
        raise NotPayable(f"the checkout is {chk.status}", checkout_status=chk.status)
    if chk.total_amount <= 0:
        raise NotPayable("nothing to pay: the checkout's total is zero")
    live = session.scalar(
        select(func.count())
        .select_from(Payment)
        .where(Payment.checkout_id == chk.id, Payment.status.in_(LIVE_PAYMENT_STATUSES))
    )
    if live:
        raise NotPayable("this checkout already has a payment in progress or paid")
    payment = Payment(
        id=new_id("pay"),
        checkout_id=chk.id,
        shopper_id=shopper_id,
        provider=provider.name,
        amount=chk.total_amount,
        currency=chk.currency,
        status=PaymentStatus.PENDING,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError as exc:  # a concurrent attempt won the partial unique index
        raise NotPayable("this checkout already has a payment in progress or paid") from exc
    result = provider.authorise(
        session=session,
        payment_id=payment.id,
        amount=Money(payment.amount, payment.currency),
        method=method,
        return_url=return_url,
    )
    payment.provider_ref = result.provider_ref
    _apply_result(session, provider, payment, result)
    session.flush()
    return payment


def _apply_result(
    session: Session, provider: PaymentProvider, payment: Payment, result: ProviderResult
) -> None:
    if result.status == ProviderStatus.REQUIRES_ACTION:
        payment.status = PaymentStatus.REQUIRES_ACTION
        payment.action_url = result.action_url
    elif result.status == ProviderStatus.AUTHORISED:
        payment.status = PaymentStatus.AUTHORISED
        _request_capture(session, provider, payment)
    elif result.status == ProviderStatus.DECLINED:
        _fail(session, payment, result.decline_code or "declined")


def _request_capture(session: Session, provider: PaymentProvider, payment: Payment) -> None:
    assert payment.provider_ref is not None
    provider.capture(
        session=session,
        provider_ref=payment.provider_ref,
        amount=Money(payment.amount, payment.currency),
    )
    payment.status = PaymentStatus.CAPTURE_REQUESTED


def _fail(session: Session, payment: Payment, code: str) -> None:
    payment.status = PaymentStatus.FAILED
    payment.failure_code = code[:40]
    payment.failure_message = decline_message(code)
    payment.action_url = None
    checkout.fail_checkout(
        session=session, checkout_id=payment.checkout_id, reason=f"payment failed: {code}"
    )
    emit(
        session=session,
        topic="payment.failed",
        payload={"payment_id": payment.id, "checkout_id": payment.checkout_id, "code": code},
        subject_id=payment.id,
    )


def void_abandoned(*, session: Session, provider: PaymentProvider, checkout_id: str) -> int:
    """The checkout closed without being paid (expired, cancelled): cancel any payment
    still waiting for the shopper or authorised but not captured, so no hold stays on the
    card. Idempotent. A capture already requested is left to its webhook (a capture that
    lands on a closed checkout is refunded in full)."""
    voided = 0
    for payment_id in session.scalars(
        select(Payment.id).where(
            Payment.checkout_id == checkout_id,
            Payment.provider == provider.name,
            Payment.status.in_(
                [PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.AUTHORISED]
            ),
        )
    ).all():
        payment = _lock_payment(session, payment_id)
        if payment.status not in (
            PaymentStatus.PENDING,
            PaymentStatus.REQUIRES_ACTION,
            PaymentStatus.AUTHORISED,
        ):
            continue
        if payment.provider_ref is not None:
            provider.void(session=session, provider_ref=payment.provider_ref)
        payment.status = PaymentStatus.VOIDED
        payment.action_url = None
        payment.failure_code = "checkout_closed"
        payment.failure_message = "The checkout closed before the payment was completed."
        voided += 1
    session.flush()
    return voided


# --- webhooks -----------------------------------------------------------------------------------


def apply_webhook(*, session: Session, provider: PaymentProvider, event: ProviderEvent) -> str:
    """Apply a verified provider event once; returns what happened (kept with the event).

    Duplicates (same provider event id) change nothing. Events are applied only when
    they move the payment forward: a late ``authorised`` after ``captured`` and a
    ``failed`` after ``captured`` are recorded and ignored.
    """
    received = ReceivedWebhook(
        provider=provider.name,
        event_id=event.event_id[:80],
        event_type=event.event_type[:60],
        provider_ref=event.provider_ref[:64],
        outcome="received",
    )
    try:
        with session.begin_nested():
            session.add(received)
            session.flush()
    except IntegrityError:
        return "duplicate"
    payment_id = session.scalar(
        select(Payment.id).where(
            Payment.provider == provider.name, Payment.provider_ref == event.provider_ref
        )
    )
    if payment_id is None:
        outcome = "ignored: no payment with this provider reference"
        log.warning("webhook for an unknown payment", extra={"event_id": event.event_id})
    else:
        payment = _lock_payment(session, payment_id)
        outcome = _apply_event(session, provider, payment, event)
    received.outcome = outcome[:200]
    session.flush()
    return outcome


def _apply_event(
    session: Session, provider: PaymentProvider, payment: Payment, event: ProviderEvent
) -> str:
    status = payment.status
    if event.event_type == EventType.AUTHORISED:
        if status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
            return f"ignored: payment already {status}"
        payment.status = PaymentStatus.AUTHORISED
        payment.action_url = None
        _request_capture(session, provider, payment)
        return "authorised; capture requested"
    if event.event_type == EventType.CAPTURED:
        if status == PaymentStatus.CAPTURED:
            return "ignored: already captured"
        if status in (PaymentStatus.FAILED, PaymentStatus.VOIDED):
            log.error(
                "capture confirmed for a payment we had given up; refunding",
                extra={"payment_id": payment.id},
            )
            _refund_unfulfillable(session, provider, payment)
            return f"captured after {status}: refunded in full"
        return _capture_succeeded(session, provider, payment)
    if event.event_type in (EventType.FAILED, EventType.VOIDED):
        if status == PaymentStatus.CAPTURED:
            log.warning(
                "failure reported after capture; ignored",
                extra={"payment_id": payment.id, "event_id": event.event_id},
            )
            return f"ignored: {event.event_type} after captured"
        if status in (PaymentStatus.FAILED, PaymentStatus.VOIDED):
            return f"ignored: payment already {status}"
        _fail(session, payment, event.decline_code or event.event_type.split(".")[-1])
        return f"payment failed ({payment.failure_code})"
    if event.event_type == EventType.REFUND_SUCCEEDED:
        return "refund confirmed"
    return f"ignored: unknown event type {event.event_type}"


def _refund_unfulfillable(session: Session, provider: PaymentProvider, payment: Payment) -> None:
    """Money was taken but the checkout can no longer be paid (expired, cancelled)."""
    assert payment.provider_ref is not None
    provider.refund(
        session=session,
        provider_ref=payment.provider_ref,
        amount=Money(payment.amount, payment.currency),
        refund_id=f"unfulfillable:{payment.id}",
    )
    payment.refunded_amount = payment.amount
    emit(
        session=session,
        topic="payment.refunded",
        payload={"payment_id": payment.id, "amount": payment.amount, "reason": "unfulfillable"},
        subject_id=payment.id,
    )


def _capture_succeeded(session: Session, provider: PaymentProvider, payment: Payment) -> str:
    try:
        with session.begin_nested():
            orders = checkout.mark_checkout_paid(session=session, checkout_id=payment.checkout_id)
    except Conflict as exc:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = "checkout_closed"
        payment.failure_message = exc.detail[:300]
        _refund_unfulfillable(session, provider, payment)
        return "captured but the checkout is closed: refunded in full"
    payment.status = PaymentStatus.CAPTURED
    payment.captured_at = utcnow()
    payment.action_url = None
    chk = checkout.get_checkout(session=session, checkout_id=payment.checkout_id, shopper_id=None)
    order_total = sum(o.total_amount for o in orders)
    if order_total != payment.amount:
        log.error(
            "payment amount differs from its orders' totals",
            extra={"payment_id": payment.id, "amount": payment.amount, "orders": order_total},
        )
    for order in orders:
        record_capture(session=session, order=order, market_code=chk.market_code)
    emit(
        session=session,
        topic="payment.captured",
        payload={
            "payment_id": payment.id,
            "checkout_id": payment.checkout_id,
            "amount": payment.amount,
            "currency": payment.currency,
        },
        subject_id=payment.id,
    )
    return f"captured; {len(orders)} order(s) paid"


def escrowed_at_capture(order: Order) -> Money:
    """What escrow holds for the seller: what the shopper paid plus the platform's
    voucher subsidy, so the seller is paid on the price before platform discounts."""
    return Money(order.total_amount + order.platform_discount_amount, order.currency)


def record_capture(*, session: Session, order: Order, market_code: str) -> None:
    """Buyer funds (and the platform's voucher subsidy) into escrow. Once per order."""
    ref = f"capture:{order.id}"
    if ledger.entry_exists(session=session, ref=ref):
        return
    paid = Money(order.total_amount, order.currency)
    subsidy = Money(order.platform_discount_amount, order.currency)
    ledger.post(
        session=session,
        kind=EntryKind.CAPTURE,
        ref=ref,
        order_id=order.id,
        seller_id=order.seller_id,
        memo=f"checkout {order.checkout_id}",
        postings=[
            Posting.debit(ledger.PROCESSOR_CLEARING, paid),
            Posting.debit(ledger.PLATFORM_VOUCHER_SUBSIDY, subsidy),
            Posting.credit(ledger.PLATFORM_ESCROW, paid + subsidy),
        ],
    )
    session.add(
        EscrowHold(
            order_id=order.id,
            checkout_id=order.checkout_id,
            seller_id=order.seller_id,
            market_code=market_code,
            currency=order.currency,
        )
    )
    session.flush()


# --- refunds ------------------------------------------------------------------------------------


def subsidy_reversed(order: Order, refunded: int) -> int:
    """The share of the platform voucher subsidy that goes back once ``refunded`` of the
    order's total has been refunded (cumulative, so partial refunds add up exactly)."""
    if order.total_amount <= 0:
        return 0
    return order.platform_discount_amount * refunded // order.total_amount


def refund_order(
    *,
    session: Session,
    provider: PaymentProvider,
    order_id: str,
    amount: Money,
    reason: str,
    actor_id: str | None = None,
) -> Refund:
    """Give money back to the shopper for one order, through the provider.

    Before settlement it comes out of escrow; after settlement the seller bears it
    (their payable, and past zero a receivable netted from later payouts). The
    platform's voucher subsidy is reversed in proportion.
    """
    if not looks_like("ord", order_id):
        raise NotFound("no such order")
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("no such order")
    if amount.currency != order.currency:
        raise CurrencyMismatch(f"the order is in {order.currency}, not {amount.currency}")
    if amount.amount <= 0:
        raise InvalidInput("a refund is a positive amount", field="amount")
    hold = _lock_hold(session, order.id)
    if hold is None:
        raise Conflict("this order was never paid; there is nothing to refund")
    payment = session.scalars(
        select(Payment).where(
            Payment.checkout_id == order.checkout_id, Payment.status == PaymentStatus.CAPTURED
        )
    ).first()
    if payment is None or payment.provider_ref is None:
        raise Conflict("no captured payment for this order")
    payment = _lock_payment(session, payment.id)
    provider_ref = payment.provider_ref
    assert provider_ref is not None
    before = order.refunded_amount
    if before + amount.amount > order.total_amount:
        raise Conflict(
            "refunds would exceed what the order cost",
            refunded_amount=before,
            total_amount=order.total_amount,
        )
    refund = Refund(
        id=new_id("rfd"),
        payment_id=payment.id,
        order_id=order.id,
        amount=amount.amount,
        currency=amount.currency,
        reason=reason[:200],
        actor_id=actor_id,
        after_settlement=hold.status == HoldStatus.SETTLED,
    )
    session.add(refund)
    checkout.record_refund(session=session, order_id=order.id, amount=amount)
    subsidy = Money(
        subsidy_reversed(order, before + amount.amount) - subsidy_reversed(order, before),
        order.currency,
    )
    postings = [
        Posting.credit(ledger.PROCESSOR_CLEARING, amount),
        Posting.credit(ledger.PLATFORM_VOUCHER_SUBSIDY, subsidy),
    ]
    owed_back = amount + subsidy
    if hold.status == HoldStatus.HELD:
        postings.append(Posting.debit(ledger.PLATFORM_ESCROW, owed_back))
    else:
        payable_code = ledger.seller_payable(order.seller_id)
        available = -ledger.balance(
            session=session, account=payable_code, currency=order.currency, lock=True
        )
        from_payable = Money(max(0, min(available, owed_back.amount)), order.currency)
        postings.append(Posting.debit(payable_code, from_payable))
        postings.append(
            Posting.debit(ledger.seller_receivable(order.seller_id), owed_back - from_payable)
        )
    ledger.post(
        session=session,
        kind=EntryKind.REFUND,
        ref=f"refund:{refund.id}",
        order_id=order.id,
        seller_id=order.seller_id,
        memo=reason[:300],
        postings=postings,
    )
    affiliates.reverse_commission(
        session=session,
        order=order,
        refund_id=refund.id,
        refunded_before=before,
        refunded_after=before + amount.amount,
        settled=refund.after_settlement,
    )
    provider.refund(session=session, provider_ref=provider_ref, amount=amount, refund_id=refund.id)
    payment.refunded_amount += amount.amount
    refund.provider_ref = provider_ref
    emit(
        session=session,
        topic="payment.refunded",
        payload={
            "refund_id": refund.id,
            "order_id": order.id,
            "amount": amount.amount,
            "currency": amount.currency,
            "after_settlement": refund.after_settlement,
        },
        subject_id=order.id,
    )
    session.flush()
    return refund


def _lock_hold(session: Session, order_id: str) -> EscrowHold | None:
    query = (
        select(EscrowHold)
        .where(EscrowHold.order_id == order_id)
        .execution_options(populate_existing=True)
    )
    query = query.with_for_update()
    return session.scalars(query).first()


# --- settlement ---------------------------------------------------------------------------------


def finance_policy(*, session: Session, market_code: str) -> MarketFinancePolicy:
    policy = session.get(MarketFinancePolicy, market_code)
    return policy or MarketFinancePolicy(
        market_code=market_code,
        settlement_hold_days=DEFAULT_HOLD_DAYS,
        default_commission_bp=DEFAULT_COMMISSION_BP,
        default_creator_commission_bp=DEFAULT_CREATOR_COMMISSION_BP,
    )


def commission_bp(*, session: Session, market_code: str, category_id: str | None) -> int:
    if category_id is not None:
        rate = session.scalar(
            select(CommissionRate.rate_bp).where(
                CommissionRate.market_code == market_code, CommissionRate.category_id == category_id
            )
        )
        if rate is not None:
            return int(rate)
    return finance_policy(session=session, market_code=market_code).default_commission_bp


@dataclass(frozen=True)
class SettlementSplit:
    escrowed: Money
    commission: Money
    creators: dict[str, Money]
    seller_net: Money
    line_commissions: dict[str, Money] = field(default_factory=dict)  # creator share per line


def settlement_split(
    *, session: Session, order: Order, lines: Sequence[OrderLine], market_code: str, escrowed: Money
) -> SettlementSplit:
    """Split what escrow holds for an order: platform commission per line's category,
    creator affiliate commission on lines a creator's video sold, the rest to the seller.
    Shipping carries no commission. Parts are allocated so they add up exactly."""
    policy = finance_policy(session=session, market_code=market_code)
    weights = [max(0, line.line_total_amount) for line in lines] + [max(0, order.shipping_amount)]
    zero = Money.zero(order.currency)
    if escrowed.amount <= 0 or sum(weights) == 0:
        return SettlementSplit(escrowed, zero, {}, escrowed)
    parts = escrowed.allocate(weights)
    categories = dict(
        session.execute(
            select(Product.id, Product.category_id).where(
                Product.id.in_({line.product_id for line in lines})
            )
        ).all()
    )
    commission = zero
    creators: dict[str, Money] = {}
    line_commissions: dict[str, Money] = {}
    attributed = affiliates.rates_for_lines(session=session, line_ids=[line.id for line in lines])
    for line, part in zip(lines, parts, strict=False):
        rate = commission_bp(
            session=session, market_code=market_code, category_id=categories.get(line.product_id)
        )
        commission = commission + part.percent(rate)
        if line.creator_id:
            share = part.percent(attributed.get(line.id, policy.default_creator_commission_bp))
            creators[line.creator_id] = creators.get(line.creator_id, zero) + share
            line_commissions[line.id] = share
    seller_net = escrowed - commission
    for share in creators.values():
        seller_net = seller_net - share
    if seller_net.amount < 0:
        raise Conflict(f"commissions exceed what order {order.id} holds in escrow")
    return SettlementSplit(escrowed, commission, creators, seller_net, line_commissions)


def settle_order(*, session: Session, order_id: str, now: datetime | None = None) -> bool:
    """Move one delivered order's escrow to its seller (less commissions) once its hold
    has passed. Idempotent; returns whether it settled now."""
    now = now or utcnow()
    hold = _lock_hold(session, order_id)
    if hold is None or hold.status != HoldStatus.HELD:
        return False
    order = session.get(Order, order_id)
    if order is None or order.delivered_at is None:
        return False
    policy = finance_policy(session=session, market_code=hold.market_code)
    if order.delivered_at + timedelta(days=policy.settlement_hold_days) > now:
        return False
    escrowed = Money(
        -ledger.line_sum(
            session=session,
            account=ledger.PLATFORM_ESCROW,
            currency=order.currency,
            order_id=order.id,
        ),
        order.currency,
    )
    split = settlement_split(
        session=session,
        order=order,
        lines=checkout.order_lines(session=session, order_id=order.id),
        market_code=hold.market_code,
        escrowed=escrowed,
    )
    if escrowed.amount > 0:
        postings = [
            Posting.debit(ledger.PLATFORM_ESCROW, escrowed),
            Posting.credit(ledger.PLATFORM_COMMISSION_REVENUE, split.commission),
            Posting.credit(ledger.seller_payable(order.seller_id), split.seller_net),
        ]
        postings += [
            Posting.credit(ledger.creator_payable(creator_id), share)
            for creator_id, share in sorted(split.creators.items())
        ]
        ledger.post(
            session=session,
            kind=EntryKind.SETTLEMENT,
            ref=f"settlement:{order.id}",
            order_id=order.id,
            seller_id=order.seller_id,
            memo=(
                f"delivered {order.delivered_at:%Y-%m-%d}, held {policy.settlement_hold_days} days"
            ),
            postings=postings,
        )
    affiliates.record_settlement(
        session=session, order_id=order.id, line_commissions=split.line_commissions
    )
    hold.status = HoldStatus.SETTLED
    hold.settled_at = now
    emit(
        session=session,
        topic="order.settled",
        payload={
            "order_id": order.id,
            "seller_id": order.seller_id,
            "currency": order.currency,
            "seller_net": split.seller_net.amount,
            "commission": split.commission.amount,
        },
        subject_id=order.id,
    )
    session.flush()
    return True


def settlement_candidates(*, session: Session, now: datetime, limit: int = 500) -> list[str]:
    """Held orders delivered at least the shortest hold period ago."""
    shortest = min(
        [DEFAULT_HOLD_DAYS, *session.scalars(select(MarketFinancePolicy.settlement_hold_days))]
    )
    return list(
        session.scalars(
            select(EscrowHold.order_id)
            .join(Order, Order.id == EscrowHold.order_id)
            .where(
                EscrowHold.status == HoldStatus.HELD,
                Order.delivered_at.is_not(None),
                Order.delivered_at <= now - timedelta(days=shortest),
            )
            .order_by(Order.delivered_at, EscrowHold.order_id)
            .limit(limit)
        )
    )


# --- payouts ------------------------------------------------------------------------------------


def pay_out_seller(
    *, session: Session, seller_id: str, currency: str, now: datetime | None = None
) -> Payout | None:
    """Pay the seller what the ledger says is payable (net of receivables), in one guarded
    step: the payable account is debited only if it still holds the amount, so two
    payout runs at once cannot both pay the same money. Returns None if nothing is due."""
    now = now or utcnow()
    payable = ledger.seller_payable(seller_id)
    receivable = ledger.seller_receivable(seller_id)
    owed = -ledger.balance(session=session, account=payable, currency=currency, lock=True)
    owes = ledger.balance(session=session, account=receivable, currency=currency, lock=True)
    if owed > 0 and owes > 0:
        offset = Money(min(owed, owes), currency)
        ledger.post(
            session=session,
            kind=EntryKind.RECEIVABLE_OFFSET,
            ref=f"receivable_offset:{new_id('off')}",
            seller_id=seller_id,
            memo="refunds after settlement netted from the payable",
            postings=[Posting.debit(payable, offset), Posting.credit(receivable, offset)],
        )
        owed -= offset.amount
    if owed <= 0:
        return None
    amount = Money(owed, currency)
    previous = session.scalar(
        select(func.max(Payout.statement_through_line_id)).where(
            Payout.seller_id == seller_id, Payout.currency == currency
        )
    )
    payout = Payout(
        id=new_id("po"),
        seller_id=seller_id,
        currency=currency,
        amount=owed,
        status=PayoutStatus.IN_TRANSIT,
        statement_after_line_id=int(previous or 0),
    )
    session.add(payout)
    session.flush()
    entry = ledger.post(
        session=session,
        kind=EntryKind.PAYOUT,
        ref=f"payout:{payout.id}",
        seller_id=seller_id,
        payout_id=payout.id,
        memo="payout to the seller's bank account",
        postings=[
            Posting.debit(payable, amount),
            Posting.credit(ledger.PAYOUTS_IN_TRANSIT, amount),
        ],
    )
    payout.statement_through_line_id = max(
        line.id for line in entry.lines if line.account == payable
    )
    # The simulated bank transfer completes at once.
    ledger.post(
        session=session,
        kind=EntryKind.PAYOUT_SENT,
        ref=f"payout_sent:{payout.id}",
        seller_id=seller_id,
        payout_id=payout.id,
        memo="bank transfer sent (simulated)",
        postings=[
            Posting.debit(ledger.PAYOUTS_IN_TRANSIT, amount),
            Posting.credit(ledger.PROCESSOR_CLEARING, amount),
        ],
    )
    payout.status = PayoutStatus.PAID
    payout.paid_at = now
    emit(
        session=session,
        topic="payout.paid",
        payload={
            "payout_id": payout.id,
            "seller_id": seller_id,
            "amount": owed,
            "currency": currency,
        },
        subject_id=payout.id,
    )
    session.flush()
    return payout


def sellers_with_payable(*, session: Session) -> list[tuple[str, str]]:
    """(seller id, currency) of every seller payable with money in it."""
    rows = session.execute(
        select(LedgerAccount.code, LedgerAccount.currency)
        .where(
            LedgerAccount.code.startswith(ledger.SELLER_PAYABLE + ":"), LedgerAccount.balance < 0
        )
        .order_by(LedgerAccount.code, LedgerAccount.currency)
    ).all()
    return [(code.split(":", 1)[1], currency) for code, currency in rows]


def run_payouts(*, session: Session, now: datetime | None = None) -> list[Payout]:
    """One payout per seller per currency with a positive payable. A seller whose money
    another run took meanwhile is skipped, not failed."""
    paid: list[Payout] = []
    for seller_id, currency in sellers_with_payable(session=session):
        try:
            with session.begin_nested():
                payout = pay_out_seller(
                    session=session, seller_id=seller_id, currency=currency, now=now
                )
        except ledger.InsufficientBalance:
            log.info("payable already paid by another run", extra={"seller_id": seller_id})
            continue
        if payout is not None:
            paid.append(payout)
    return paid


def list_payouts(*, session: Session, seller_id: str, limit: int = 100) -> list[Payout]:
    return list(
        session.scalars(
            select(Payout)
            .where(Payout.seller_id == seller_id)
            .order_by(Payout.created_at.desc(), Payout.id)
            .limit(limit)
        )
    )


def get_payout(*, session: Session, seller_id: str, payout_id: str) -> Payout:
    payout = session.get(Payout, payout_id) if looks_like("po", payout_id) else None
    if payout is None or payout.seller_id != seller_id:
        raise NotFound("no such payout")
    return payout


def shopper_market(*, session: Session, shopper_id: str) -> str:
    user = session.get(User, shopper_id)
    return user.market_code if user else "US"


# --- reading the books --------------------------------------------------------------------------


@dataclass(frozen=True)
class FinanceSummary:
    escrow: list[Money]
    commission_revenue: list[Money]
    voucher_subsidy: list[Money]
    seller_payables: list[Money]
    seller_receivables: list[Money]
    creator_payables: list[Money]
    payouts_in_transit: list[Money]
    held_orders: int
    recent_payouts: list[Payout]


def _totals(session: Session, prefix: str, *, credit_normal: bool) -> list[Money]:
    rows = session.execute(
        select(LedgerAccount.currency, func.sum(LedgerAccount.balance))
        .where(LedgerAccount.code.startswith(prefix))
        .group_by(LedgerAccount.currency)
        .order_by(LedgerAccount.currency)
    ).all()
    sign = -1 if credit_normal else 1
    return [Money(sign * int(total or 0), currency) for currency, total in rows]


def finance_summary(*, session: Session) -> FinanceSummary:
    return FinanceSummary(
        escrow=_totals(session, ledger.PLATFORM_ESCROW, credit_normal=True),
        commission_revenue=_totals(session, ledger.PLATFORM_COMMISSION_REVENUE, credit_normal=True),
        voucher_subsidy=_totals(session, ledger.PLATFORM_VOUCHER_SUBSIDY, credit_normal=False),
        seller_payables=_totals(session, ledger.SELLER_PAYABLE + ":", credit_normal=True),
        seller_receivables=_totals(session, ledger.SELLER_RECEIVABLE + ":", credit_normal=False),
        creator_payables=_totals(
            session, ledger.CREATOR_AFFILIATE_PAYABLE + ":", credit_normal=True
        ),
        payouts_in_transit=_totals(session, ledger.PAYOUTS_IN_TRANSIT, credit_normal=True),
        held_orders=int(
            session.scalar(
                select(func.count())
                .select_from(EscrowHold)
                .where(EscrowHold.status == HoldStatus.HELD)
            )
            or 0
        ),
        recent_payouts=list(
            session.scalars(select(Payout).order_by(Payout.created_at.desc(), Payout.id).limit(20))
        ),
    )


def seller_balance(*, session: Session, seller_id: str, currency: str) -> Money:
    """What the platform owes the seller now (settled, not yet paid out), net of receivables."""
    owed = -ledger.balance(
        session=session, account=ledger.seller_payable(seller_id), currency=currency
    )
    owes = ledger.balance(
        session=session, account=ledger.seller_receivable(seller_id), currency=currency
    )
    return Money(owed - owes, currency)


def seller_escrow(*, session: Session, seller_id: str) -> list[Money]:
    """Money held for the seller's paid orders that have not settled yet, per currency."""
    rows = session.execute(
        select(JournalLine.currency, func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(EscrowHold, EscrowHold.order_id == JournalEntry.order_id)
        .where(
            JournalLine.account == ledger.PLATFORM_ESCROW,
            EscrowHold.seller_id == seller_id,
            EscrowHold.status == HoldStatus.HELD,
        )
        .group_by(JournalLine.currency)
        .order_by(JournalLine.currency)
    ).all()
    return [Money(-int(total or 0), currency) for currency, total in rows]
