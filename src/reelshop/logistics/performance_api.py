"""JSON API of seller performance: the live figures and the daily snapshots."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from reelshop.errors import problem_responses
from reelshop.logistics import performance
from reelshop.logistics.fulfilment_schemas import MetricOut, PerformanceOut, SnapshotOut
from reelshop.security.authz import ReadDbSession, SellerPrincipal
from reelshop.sellers import service as sellers

router = APIRouter(tags=["logistics"])


def _seller_id(session: ReadDbSession, user_id: str) -> str:
    return sellers.own_shop(session=session, user_id=user_id).id


@router.get(
    "/seller/performance",
    response_model=PerformanceOut,
    summary="Your shop's performance over the rolling window, with the orders behind each figure",
    responses=problem_responses(401, 403),
)
def seller_performance(principal: SellerPrincipal, session: ReadDbSession) -> PerformanceOut:
    seller_id = _seller_id(session, principal.id)
    report = performance.compute(session=session, seller_id=seller_id)
    terms = performance.policy_for(session=session, market_code=report.market_code)
    return PerformanceOut(
        seller_id=seller_id,
        market_code=report.market_code,
        since=report.since,
        until=report.until,
        delivered_orders=report.delivered_orders,
        min_delivered_orders=terms.min_delivered_orders,
        eligible=report.eligible,
        score=report.score,
        standing=report.standing.value,
        breaches=report.breaches,
        metrics=[
            MetricOut(
                key=m.key,
                label=performance.METRIC_LABELS.get(m.key, m.key),
                value=m.value,
                numerator=m.numerator,
                denominator=m.denominator,
                order_ids=m.order_ids[:100],
            )
            for m in report.metrics.values()
        ],
    )


@router.get(
    "/seller/performance/history",
    response_model=list[SnapshotOut],
    summary="Daily snapshots of your performance (for trends)",
    responses=problem_responses(401, 403, 422),
)
def performance_history(
    principal: SellerPrincipal,
    session: ReadDbSession,
    days: Annotated[int, Query(ge=1, le=730)] = 180,
) -> list[SnapshotOut]:
    rows = performance.history(
        session=session, seller_id=_seller_id(session, principal.id), days=days
    )
    return [
        SnapshotOut(
            day=r.day,
            score=r.score,
            standing=r.standing,
            delivered_orders=r.delivered_orders,
            metrics=r.metrics,
        )
        for r in rows
    ]
