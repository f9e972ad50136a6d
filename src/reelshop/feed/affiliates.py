"""Creator affiliate commission: the seller's rate per product, last-click attribution at
order placement, the commission recorded at settlement and reversed on refund.

Attribution is decided on the server from the shopper's own ``product_card_click``
events (recorded through the feed's events endpoint), never from the ids a client puts
on a cart line: the newest click, inside the market's window, on a creator's video that
tags the product wins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Product
from reelshop.checkout.models import Order
from reelshop.errors import InvalidInput, NotFound
from reelshop.feed.models import EventKind, FeedEvent, Video, VideoProductTag
from reelshop.feed.monetisation_models import (
    MAX_AFFILIATE_RATE_BP,
    AffiliateAttribution,
    AffiliateTerms,
    AttributionStatus,
    MarketFeedSettings,
)
from reelshop.ids import looks_like
from reelshop.money import Money
from reelshop.outbox.service import emit
from reelshop.payments import ledger
from reelshop.payments.ledger import Posting
from reelshop.payments.models import MarketFinancePolicy
from reelshop.sellers.models import SellerProfile

AFFILIATE_REVERSAL = "affiliate_reversal"
FALLBACK_CREATOR_RATE_BP = 1000


def market_settings(*, session: Session, market_code: str) -> MarketFeedSettings:
    row = session.get(MarketFeedSettings, market_code)
    return row or MarketFeedSettings(
        market_code=market_code,
        attribution_window_days=7,
        ad_slot_every=6,
        reserve_cpm_amount=100,
    )


def set_affiliate_rate(
    *, session: Session, seller: SellerProfile, product_id: str, rate_bp: int
) -> AffiliateTerms:
    if not 0 <= rate_bp <= MAX_AFFILIATE_RATE_BP:
        raise InvalidInput(
            f"a creator commission is between 0 and {MAX_AFFILIATE_RATE_BP} basis points",
            field="rate_bp",
        )
    product = session.get(Product, product_id) if looks_like("prd", product_id) else None
    if product is None or product.seller_id != seller.id:
        raise NotFound("no such product in your catalogue")
    terms = session.get(AffiliateTerms, product_id)
    if terms is None:
        terms = AffiliateTerms(product_id=product_id, seller_id=seller.id, rate_bp=rate_bp)
        session.add(terms)
    else:
        terms.rate_bp = rate_bp
    session.flush()
    emit(
        session=session,
        topic="affiliate.rate_set",
        payload={"product_id": product_id, "seller_id": seller.id, "rate_bp": rate_bp},
        subject_id=product_id,
    )
    return terms


def active_product(*, session: Session, product_id: str) -> Product:
    product = session.get(Product, product_id) if looks_like("prd", product_id) else None
    if product is None or not product.on_sale:
        raise NotFound("no such product")
    return product


def affiliate_rate(*, session: Session, product_id: str, market_code: str) -> int:
    """The product's creator commission: the seller's own rate, else the market default."""
    rate = session.scalar(
        select(AffiliateTerms.rate_bp).where(AffiliateTerms.product_id == product_id)
    )
    if rate is not None:
        return int(rate)
    policy = session.get(MarketFinancePolicy, market_code)
    return policy.default_creator_commission_bp if policy else FALLBACK_CREATOR_RATE_BP


@dataclass(frozen=True)
class Click:
    event_id: int
    video_id: str
    creator_id: str


def latest_click(
    *, session: Session, shopper_id: str, product_id: str, since: datetime, until: datetime
) -> Click | None:
    """The shopper's newest card click on a creator's video tagging this product."""
    row = session.execute(
        select(FeedEvent.id, FeedEvent.video_id, VideoProductTag.affiliate_user_id)
        .join(
            VideoProductTag,
            (VideoProductTag.video_id == FeedEvent.video_id)
            & (VideoProductTag.product_id == FeedEvent.product_id),
        )
        .where(
            FeedEvent.user_id == shopper_id,
            FeedEvent.kind == EventKind.PRODUCT_CARD_CLICK,
            FeedEvent.product_id == product_id,
            FeedEvent.created_at >= since,
            FeedEvent.created_at <= until,
            VideoProductTag.affiliate_user_id.is_not(None),
            VideoProductTag.affiliate_user_id != shopper_id,
        )
        .order_by(FeedEvent.created_at.desc(), FeedEvent.id.desc())
        .limit(1)
    ).first()
    if row is None or row[2] is None:
        return None
    return Click(event_id=int(row[0]), video_id=row[1], creator_id=row[2])


def attribute_order_lines(
    *,
    session: Session,
    shopper_id: str,
    market_code: str,
    orders: Sequence[Order],
    now: datetime,
) -> list[AffiliateAttribution]:
    """Credit each placed line to the creator whose video the shopper last clicked for
    that product within the window; other lines carry no creator, whatever the cart said."""
    window = timedelta(
        days=market_settings(session=session, market_code=market_code).attribution_window_days
    )
    made: list[AffiliateAttribution] = []
    for order in orders:
        for line in order.lines:
            click = latest_click(
                session=session,
                shopper_id=shopper_id,
                product_id=line.product_id,
                since=now - window,
                until=now,
            )
            if click is None:
                line.creator_id = None
                continue
            line.video_id = click.video_id
            line.creator_id = click.creator_id
            attribution = AffiliateAttribution(
                order_line_id=line.id,
                order_id=order.id,
                creator_id=click.creator_id,
                video_id=click.video_id,
                product_id=line.product_id,
                click_event_id=click.event_id,
                rate_bp=affiliate_rate(
                    session=session, product_id=line.product_id, market_code=market_code
                ),
                currency=order.currency,
                line_total_amount=line.line_total_amount,
            )
            session.add(attribution)
            made.append(attribution)
    session.flush()
    for order in orders:
        credited = [a for a in made if a.order_id == order.id]
        if credited:
            emit(
                session=session,
                topic="affiliate.attributed",
                payload={
                    "order_id": order.id,
                    "lines": [
                        {
                            "order_line_id": a.order_line_id,
                            "creator_id": a.creator_id,
                            "video_id": a.video_id,
                            "rate_bp": a.rate_bp,
                        }
                        for a in credited
                    ],
                },
                subject_id=order.id,
            )
    return made


def rates_for_lines(*, session: Session, line_ids: Sequence[str]) -> dict[str, int]:
    """The attributed rate per order line (lines without an attribution are absent)."""
    if not line_ids:
        return {}
    return {
        line_id: int(rate)
        for line_id, rate in session.execute(
            select(AffiliateAttribution.order_line_id, AffiliateAttribution.rate_bp).where(
                AffiliateAttribution.order_line_id.in_(list(line_ids))
            )
        )
    }


def record_settlement(
    *, session: Session, order_id: str, line_commissions: Mapping[str, Money]
) -> None:
    for attribution in session.scalars(
        select(AffiliateAttribution).where(AffiliateAttribution.order_id == order_id)
    ):
        commission = line_commissions.get(attribution.order_line_id)
        attribution.commission_amount = commission.amount if commission else 0
        if attribution.status == AttributionStatus.PENDING:
            attribution.status = AttributionStatus.SETTLED
    session.flush()


def _share(amount: int, refunded: int, total: int) -> int:
    return amount * min(refunded, total) // total if total > 0 else 0


def reverse_commission(
    *,
    session: Session,
    order: Order,
    refund_id: str,
    refunded_before: int,
    refunded_after: int,
    settled: bool,
) -> Money:
    """Take back the creator's commission in proportion to what was refunded.

    Before settlement nothing has been credited: settlement later computes commission
    on what escrow still holds. After settlement a reversing entry moves the share back
    from the creator's payable to the seller's (who bore the refund); whatever the
    creator no longer holds (already paid out) becomes a creator receivable.
    """
    attributions = list(
        session.scalars(
            select(AffiliateAttribution)
            .where(AffiliateAttribution.order_id == order.id)
            .order_by(AffiliateAttribution.order_line_id)
        )
    )
    total = order.total_amount
    per_creator: dict[str, int] = defaultdict(int)
    for attribution in attributions:
        if settled:
            share = _share(attribution.commission_amount, refunded_after, total) - _share(
                attribution.commission_amount, refunded_before, total
            )
            attribution.reversed_amount += share
            per_creator[attribution.creator_id] += share
        if refunded_after >= total:
            attribution.status = AttributionStatus.REVERSED
    reversed_total = Money(sum(per_creator.values()), order.currency)
    if reversed_total.amount > 0:
        postings = [Posting.credit(ledger.seller_payable(order.seller_id), reversed_total)]
        for creator_id, amount in sorted(per_creator.items()):
            if amount == 0:
                continue
            payable = ledger.creator_payable(creator_id)
            held = -ledger.balance(
                session=session, account=payable, currency=order.currency, lock=True
            )
            from_payable = max(0, min(held, amount))
            postings.append(Posting.debit(payable, Money(from_payable, order.currency)))
            postings.append(
                Posting.debit(
                    ledger.creator_receivable(creator_id),
                    Money(amount - from_payable, order.currency),
                )
            )
        ledger.post(
            session=session,
            kind=AFFILIATE_REVERSAL,
            ref=f"{AFFILIATE_REVERSAL}:{refund_id}",
            order_id=order.id,
            seller_id=order.seller_id,
            memo="creator commission reversed with a refund",
            postings=postings,
        )
        emit(
            session=session,
            topic="affiliate.commission_reversed",
            payload={
                "order_id": order.id,
                "refund_id": refund_id,
                "currency": order.currency,
                "creators": dict(per_creator),
            },
            subject_id=order.id,
        )
    session.flush()
    return reversed_total


# --- the creator's dashboard --------------------------------------------------------------------


@dataclass(frozen=True)
class Earnings:
    currency: str
    pending: Money
    settled: Money
    reversed: Money


@dataclass(frozen=True)
class CreatorEarnings:
    views: int
    clicks: int
    orders: int
    earnings: list[Earnings]


def creator_earnings(*, session: Session, creator_id: str) -> CreatorEarnings:
    """Views and card clicks on the creator's videos, attributed orders, and commission:
    pending (estimated on ordered lines not yet settled), settled (net of reversals) and
    reversed."""
    videos = (
        select(Video.id)
        .where(Video.author_user_id == creator_id)
        .union(
            select(VideoProductTag.video_id).where(VideoProductTag.affiliate_user_id == creator_id)
        )
        .subquery()
    )
    counts = dict(
        session.execute(
            select(FeedEvent.kind, func.count())
            .where(
                FeedEvent.video_id.in_(select(videos.c[0])),
                FeedEvent.kind.in_([EventKind.IMPRESSION, EventKind.PRODUCT_CARD_CLICK]),
            )
            .group_by(FeedEvent.kind)
        ).all()
    )
    orders = session.scalar(
        select(func.count(func.distinct(AffiliateAttribution.order_id))).where(
            AffiliateAttribution.creator_id == creator_id
        )
    )
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in session.scalars(
        select(AffiliateAttribution).where(AffiliateAttribution.creator_id == creator_id)
    ):
        bucket = sums[row.currency]
        if row.status == AttributionStatus.PENDING:
            bucket[0] += Money(row.line_total_amount, row.currency).percent(row.rate_bp).amount
        else:
            bucket[1] += row.commission_amount - row.reversed_amount
            bucket[2] += row.reversed_amount
    return CreatorEarnings(
        views=int(counts.get(EventKind.IMPRESSION, 0)),
        clicks=int(counts.get(EventKind.PRODUCT_CARD_CLICK, 0)),
        orders=int(orders or 0),
        earnings=[
            Earnings(cur, Money(p, cur), Money(s, cur), Money(r, cur))
            for cur, (p, s, r) in sorted(sums.items())
        ],
    )
