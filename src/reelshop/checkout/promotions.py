"""Vouchers, flash deals and the SKU price history that keeps deals honest.

Every limit is taken with one guarded statement, so concurrent checkouts cannot
exceed it: a voucher's total uses (``UPDATE vouchers SET uses_count = uses_count + 1
WHERE uses_count < max_uses_total``), a shopper's uses (the same on
``voucher_usages``), and a deal's units (``quantity_taken + n <= quantity_total``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reelshop.catalog import service as catalog
from reelshop.catalog.models import Sku
from reelshop.checkout.models import (
    FlashDeal,
    FlashDealRule,
    Order,
    OrderLine,
    SkuPriceRecord,
    Voucher,
    VoucherFunding,
    VoucherKind,
    VoucherRedemption,
    VoucherUsage,
)
from reelshop.checkout.pricing import VoucherTerms
from reelshop.db import insert_on_conflict, utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound, problem_type
from reelshop.ids import looks_like
from reelshop.money import Money, MoneyError
from reelshop.sellers import service as sellers

VOUCHER_EXPIRED = problem_type("voucher-expired", 422, "The voucher is not valid now")
VOUCHER_EXHAUSTED = problem_type("voucher-exhausted", 409, "The voucher has no uses left")
FAKE_DISCOUNT = problem_type(
    "fake-discount", 422, "The deal price does not beat the product's recent lowest price"
)
DEAL_RULES = problem_type("flash-deal-rules", 422, "The deal breaks the market's flash deal rules")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")


class VoucherExpired(InvalidInput):
    default_type = VOUCHER_EXPIRED


class VoucherExhausted(Conflict):
    default_type = VOUCHER_EXHAUSTED


class FakeDiscount(InvalidInput):
    default_type = FAKE_DISCOUNT


class DealRuleBroken(InvalidInput):
    default_type = DEAL_RULES


# --- price history --------------------------------------------------------------------------


def record_price(
    *, session: Session, sku_id: str, price_amount: int, at: datetime | None = None
) -> None:
    session.add(
        SkuPriceRecord(sku_id=sku_id, price_amount=price_amount, effective_at=at or utcnow())
    )
    session.flush()


@dataclass(frozen=True)
class LowestPrice:
    amount: int
    since: datetime


def lowest_price(
    *, session: Session, sku: Sku, days: int, now: datetime | None = None
) -> LowestPrice:
    """The lowest price the SKU had at any moment of the last ``days`` days: prices set in
    the window, the price in force when it began, and the price now."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    in_window = session.scalar(
        select(func.min(SkuPriceRecord.price_amount)).where(
            SkuPriceRecord.sku_id == sku.id, SkuPriceRecord.effective_at >= since
        )
    )
    at_start = session.scalar(
        select(SkuPriceRecord.price_amount)
        .where(SkuPriceRecord.sku_id == sku.id, SkuPriceRecord.effective_at < since)
        .order_by(SkuPriceRecord.effective_at.desc())
        .limit(1)
    )
    if in_window is None and at_start is None:  # never recorded (bulk-loaded): first seen now
        record_price(session=session, sku_id=sku.id, price_amount=sku.price_amount, at=now)
    candidates = [sku.price_amount] + [p for p in (in_window, at_start) if p is not None]
    return LowestPrice(min(candidates), since)


# --- vouchers -------------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    return code.strip().upper()


def create_voucher(
    *,
    session: Session,
    code: str,
    funded_by: VoucherFunding,
    kind: VoucherKind,
    currency: str,
    market_code: str,
    starts_at: datetime,
    ends_at: datetime,
    seller_id: str | None = None,
    percent_bp: int | None = None,
    amount: int | None = None,
    max_discount_amount: int | None = None,
    min_spend_amount: int = 0,
    max_uses_total: int | None = None,
    max_uses_per_user: int = 1,
    created_by: str | None = None,
) -> Voucher:
    code = normalise_code(code)
    if not CODE_PATTERN.match(code):
        raise InvalidInput("a voucher code is 3 to 40 letters, digits or dashes", field="code")
    if (funded_by == VoucherFunding.SELLER) != (seller_id is not None):
        raise InvalidInput("a seller-funded voucher names its shop; a platform one does not")
    try:
        Money.zero(currency)
    except MoneyError as exc:
        raise InvalidInput(str(exc), field="currency") from None
    if kind == VoucherKind.PERCENT:
        if percent_bp is None or not 1 <= percent_bp <= 10_000 or amount is not None:
            raise InvalidInput("a percentage voucher has percent_bp between 1 and 10000")
    elif amount is None or amount <= 0 or percent_bp is not None:
        raise InvalidInput("a fixed voucher has a positive amount", field="amount")
    if ends_at <= starts_at:
        raise InvalidInput("the voucher must end after it starts", field="ends_at")
    if min_spend_amount < 0 or (max_discount_amount is not None and max_discount_amount <= 0):
        raise InvalidInput("minimum spend and maximum discount cannot be negative")
    if max_uses_total is not None and max_uses_total < 1:
        raise InvalidInput("max_uses_total is at least 1", field="max_uses_total")
    if max_uses_per_user < 1:
        raise InvalidInput("max_uses_per_user is at least 1", field="max_uses_per_user")
    if seller_id is not None:
        seller = sellers.get_seller(session=session, seller_id=seller_id)
        if currency != seller.currency or market_code not in seller.market_codes:
            raise InvalidInput(
                f"a shop voucher is in the shop's currency ({seller.currency}) and for a market "
                f"it sells in ({', '.join(seller.market_codes) or 'none yet'})",
                field="currency",
            )
    if session.scalar(select(Voucher.id).where(Voucher.code == code)) is not None:
        raise Conflict(f"voucher code {code} is taken", field="code")
    voucher = Voucher(
        code=code,
        funded_by=funded_by,
        seller_id=seller_id,
        market_code=market_code,
        kind=kind,
        percent_bp=percent_bp,
        amount=amount,
        max_discount_amount=max_discount_amount,
        currency=currency,
        min_spend_amount=min_spend_amount,
        starts_at=starts_at,
        ends_at=ends_at,
        max_uses_total=max_uses_total,
        max_uses_per_user=max_uses_per_user,
        created_by=created_by,
    )
    session.add(voucher)
    session.flush()
    return voucher


def find_voucher(*, session: Session, code: str) -> Voucher:
    voucher = session.scalars(select(Voucher).where(Voucher.code == normalise_code(code))).first()
    if voucher is None or not voucher.is_active:
        raise NotFound(f"no voucher {normalise_code(code)}", code=normalise_code(code))
    return voucher


def voucher_terms(
    voucher: Voucher, *, now: datetime, market_code: str, currency: str
) -> VoucherTerms:
    """The voucher as pricing sees it, if it can be used now in this market and currency."""
    if not voucher.starts_at <= now < voucher.ends_at:
        raise VoucherExpired(
            f"voucher {voucher.code} is valid from {voucher.starts_at:%Y-%m-%d %H:%M} "
            f"to {voucher.ends_at:%Y-%m-%d %H:%M} UTC",
            code=voucher.code,
        )
    if voucher.market_code != market_code or voucher.currency != currency:
        raise InvalidInput(
            f"voucher {voucher.code} is for {voucher.currency} purchases in {voucher.market_code}",
            code=voucher.code,
        )
    return VoucherTerms(
        voucher_id=voucher.id,
        code=voucher.code,
        funded_by=VoucherFunding(voucher.funded_by),
        kind=VoucherKind(voucher.kind),
        min_spend=Money(voucher.min_spend_amount, voucher.currency),
        seller_id=voucher.seller_id,
        percent_bp=voucher.percent_bp,
        amount=Money(voucher.amount, voucher.currency) if voucher.amount is not None else None,
        max_discount=(
            Money(voucher.max_discount_amount, voucher.currency)
            if voucher.max_discount_amount is not None
            else None
        ),
    )


def uses_by(*, session: Session, voucher_id: str, user_id: str) -> int:
    usage = session.get(VoucherUsage, (voucher_id, user_id))
    return usage.uses_count if usage else 0


def redeem(
    *, session: Session, voucher: Voucher, user_id: str, checkout_id: str, discount: Money
) -> VoucherRedemption:
    """Take one use of the voucher for this shopper and checkout, or 409 if none is left."""
    taken = session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher.id,
            Voucher.is_active.is_(True),
            (Voucher.max_uses_total.is_(None)) | (Voucher.uses_count < Voucher.max_uses_total),
        )
        .values(uses_count=Voucher.uses_count + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise VoucherExhausted(f"voucher {voucher.code} has been used up", code=voucher.code)
    session.execute(
        insert_on_conflict(session, VoucherUsage)
        .values(voucher_id=voucher.id, user_id=user_id, uses_count=0)
        .on_conflict_do_nothing(index_elements=["voucher_id", "user_id"])
    )
    mine = session.execute(
        update(VoucherUsage)
        .where(
            VoucherUsage.voucher_id == voucher.id,
            VoucherUsage.user_id == user_id,
            VoucherUsage.uses_count < voucher.max_uses_per_user,
        )
        .values(uses_count=VoucherUsage.uses_count + 1)
        .execution_options(synchronize_session=False)
    )
    if mine.rowcount != 1:  # type: ignore[attr-defined]
        raise VoucherExhausted(
            f"you have already used voucher {voucher.code}"
            + (f" {voucher.max_uses_per_user} times" if voucher.max_uses_per_user > 1 else ""),
            code=voucher.code,
        )
    redemption = VoucherRedemption(
        voucher_id=voucher.id,
        user_id=user_id,
        checkout_id=checkout_id,
        discount_amount=discount.amount,
        currency=discount.currency,
    )
    session.add(redemption)
    session.flush()
    return redemption


# --- flash deals ----------------------------------------------------------------------------


def deal_rule(*, session: Session, market_code: str) -> FlashDealRule:
    rule = session.get(FlashDealRule, market_code)
    if rule is None:
        raise InvalidInput(f"flash deals are not open in market {market_code}")
    return rule


def create_flash_deal(
    *,
    session: Session,
    sku_id: str,
    deal_price: Money,
    quantity: int,
    starts_at: datetime,
    ends_at: datetime,
    market_code: str,
    seller_id: str | None = None,
    created_by: str | None = None,
    now: datetime | None = None,
) -> FlashDeal:
    """A deal that follows the market's rules (seeded as data in ``flash_deal_rules``).

    ``seller_id`` given: the SKU must be that seller's (others' SKUs are 404).
    """
    now = now or utcnow()
    sku = catalog.get_skus(session=session, sku_ids=[sku_id]).get(sku_id)
    if sku is None or (seller_id is not None and sku.product.seller_id != seller_id):
        raise NotFound("no such SKU")
    rule = deal_rule(session=session, market_code=market_code)
    if deal_price.currency != sku.product.currency:
        raise InvalidInput(
            f"the deal price must be in {sku.product.currency}, the product's currency",
            field="deal_price",
        )
    if isinstance(quantity, bool) or not 1 <= quantity <= rule.max_quantity:
        raise DealRuleBroken(f"deal quantity is 1 to {rule.max_quantity}", field="quantity")
    if ends_at <= starts_at or ends_at <= now:
        raise DealRuleBroken(
            "the deal must end after it starts, and in the future", field="ends_at"
        )
    if ends_at - starts_at > timedelta(hours=rule.max_duration_hours):
        raise DealRuleBroken(
            f"in market {market_code} a flash deal lasts at most {rule.max_duration_hours} hours",
            field="ends_at",
            max_duration_hours=rule.max_duration_hours,
        )
    if deal_price.amount <= 0:
        raise DealRuleBroken("the deal price must be above zero", field="deal_price")
    lowest = lowest_price(session=session, sku=sku, days=rule.lowest_price_lookback_days, now=now)
    if deal_price.amount >= lowest.amount:
        raise FakeDiscount(
            f"the deal price {deal_price.format()} must be lower than the lowest price of the "
            f"last {rule.lowest_price_lookback_days} days, "
            f"{Money(lowest.amount, deal_price.currency).format()}; a deal above it would be a "
            "fake discount",
            field="deal_price",
            lowest_price_amount=lowest.amount,
            lookback_days=rule.lowest_price_lookback_days,
        )
    overlapping = session.scalar(
        select(FlashDeal.id).where(
            FlashDeal.sku_id == sku.id,
            FlashDeal.is_active.is_(True),
            FlashDeal.starts_at < ends_at,
            FlashDeal.ends_at > starts_at,
        )
    )
    if overlapping is not None:
        raise Conflict(
            "this SKU already has a flash deal in that window", flash_deal_id=overlapping
        )
    deal = FlashDeal(
        sku_id=sku.id,
        seller_id=sku.product.seller_id,
        market_code=market_code,
        currency=deal_price.currency,
        deal_price_amount=deal_price.amount,
        reference_price_amount=lowest.amount,
        quantity_total=quantity,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by,
    )
    session.add(deal)
    session.flush()
    return deal


def live_deals(*, session: Session, sku_ids: list[str], now: datetime) -> dict[str, FlashDeal]:
    """The deal running now for each SKU that has one with units left."""
    if not sku_ids:
        return {}
    rows = session.scalars(
        select(FlashDeal).where(
            FlashDeal.sku_id.in_(sku_ids),
            FlashDeal.is_active.is_(True),
            FlashDeal.starts_at <= now,
            FlashDeal.ends_at > now,
            FlashDeal.quantity_taken < FlashDeal.quantity_total,
        )
    ).all()
    return {deal.sku_id: deal for deal in rows}


def take_deal_units(*, session: Session, deal_id: str, quantity: int, now: datetime) -> bool:
    """Take ``quantity`` deal units if that many are left and the deal is running."""
    taken = session.execute(
        update(FlashDeal)
        .where(
            FlashDeal.id == deal_id,
            FlashDeal.is_active.is_(True),
            FlashDeal.starts_at <= now,
            FlashDeal.ends_at > now,
            FlashDeal.quantity_taken + quantity <= FlashDeal.quantity_total,
        )
        .values(quantity_taken=FlashDeal.quantity_taken + quantity)
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def get_flash_deal(*, session: Session, deal_id: str) -> FlashDeal:
    deal = session.get(FlashDeal, deal_id) if looks_like("fld", deal_id) else None
    if deal is None:
        raise NotFound("no such flash deal")
    return deal


# --- giving back ----------------------------------------------------------------------------


def release_checkout_promotions(*, session: Session, checkout_id: str) -> None:
    """Give back the voucher uses and deal units an unpaid checkout took. The caller holds
    the checkout's lock and calls this once, when the checkout closes."""
    now = utcnow()
    redemptions = session.scalars(
        select(VoucherRedemption).where(
            VoucherRedemption.checkout_id == checkout_id, VoucherRedemption.released_at.is_(None)
        )
    ).all()
    for redemption in redemptions:
        session.execute(
            update(Voucher)
            .where(Voucher.id == redemption.voucher_id, Voucher.uses_count > 0)
            .values(uses_count=Voucher.uses_count - 1)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(VoucherUsage)
            .where(
                VoucherUsage.voucher_id == redemption.voucher_id,
                VoucherUsage.user_id == redemption.user_id,
                VoucherUsage.uses_count > 0,
            )
            .values(uses_count=VoucherUsage.uses_count - 1)
            .execution_options(synchronize_session=False)
        )
        redemption.released_at = now
    deal_lines = session.execute(
        select(OrderLine.flash_deal_id, OrderLine.quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.checkout_id == checkout_id, OrderLine.flash_deal_id.is_not(None))
    ).all()
    for deal_id, quantity in deal_lines:
        session.execute(
            update(FlashDeal)
            .where(FlashDeal.id == deal_id, FlashDeal.quantity_taken >= quantity)
            .values(quantity_taken=FlashDeal.quantity_taken - quantity)
            .execution_options(synchronize_session=False)
        )
    session.flush()
