"""The seller's Performance page: the figures over the rolling window, their trend from
the daily snapshots, and the orders behind each figure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from reelshop.errors import Forbidden
from reelshop.logistics import performance
from reelshop.security.authz import ReadDbSession, SellerPrincipal
from reelshop.sellers import service as sellers
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

# The figures drawn as percentages; the rating is drawn in stars.
RATE_KEYS = ("late_dispatch", "cancellation", "valid_tracking", "on_time_delivery", "claims")


def _shown(value: int | None, key: str) -> str:
    if value is None:
        return "—"
    return f"{value / 100:.2f} ★" if key == "rating" else f"{value / 100:.1f} %"


@router.get("/seller/performance", response_class=HTMLResponse)
def performance_page(
    request: Request, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise Forbidden("this account has no shop yet")
    report = performance.compute(session=session, seller_id=seller.id)
    terms = performance.policy_for(session=session, market_code=report.market_code)
    snaps = performance.history(session=session, seller_id=seller.id, days=180)
    labels = [s.day.isoformat() for s in snaps]
    score_chart = {
        "type": "line",
        "labels": labels,
        "datasets": [{"label": "Score (0 to 5)", "data": [s.score for s in snaps]}],
        "y_format": "number",
    }
    rates_chart = {
        "type": "line",
        "labels": labels,
        "datasets": [
            {
                "label": performance.METRIC_LABELS[key],
                "data": [
                    (s.metrics.get(key, {}).get("value") or 0) / 10_000
                    if s.metrics.get(key, {}).get("value") is not None
                    else None
                    for s in snaps
                ],
            }
            for key in ("late_dispatch", "cancellation", "claims")
        ],
        "y_format": "percent",
    }
    rows: list[dict[str, Any]] = []
    for key, metric in report.metrics.items():
        rule = terms.metrics.get(key, {})
        rows.append(
            {
                "key": key,
                "label": performance.METRIC_LABELS.get(key, key),
                "value": _shown(metric.value, key),
                "counts": f"{metric.numerator} / {metric.denominator}",
                "limit": _shown(int(rule["limit"]), key) if "limit" in rule else "—",
                "direction": "≥" if rule.get("higher_is_better") else "≤",
                "breached": key in report.breaches,
                "order_ids": metric.order_ids[:20],
            }
        )
    return render(
        request,
        "performance/seller.html",
        {
            "report": report,
            "terms": terms,
            "rows": rows,
            "snapshots": list(reversed(snaps)),
            "score_chart": score_chart,
            "rates_chart": rates_chart,
            "meaning": performance.STANDING_MEANING,
            "labels": performance.METRIC_LABELS,
            "shown": _shown,
        },
    )
