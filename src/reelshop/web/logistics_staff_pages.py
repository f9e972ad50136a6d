"""The staff logistics dashboard (support or admin): delay hot-spots by lane and carrier,
late dispatch by seller and the dead-letter queue, as charts and the same numbers in
tables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from reelshop.accounts.models import StaffPermission
from reelshop.logistics import dashboard
from reelshop.logistics.carriers import CARRIER_NAMES
from reelshop.logistics.models import Lane
from reelshop.security.authz import Principal, ReadDbSession, require_staff
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

LogisticsStaff = Annotated[Principal, Depends(require_staff(StaffPermission.SUPPORT))]
LANE_LABEL: dict[str, str] = {Lane.DOMESTIC_US: "US domestic", Lane.CN_US: "China → US"}


def _charts(board: dashboard.Dashboard) -> dict[str, Any]:
    labels = [
        f"{LANE_LABEL.get(s.lane, s.lane)} · {CARRIER_NAMES.get(s.carrier, s.carrier)}"
        for s in board.hot_spots
    ]
    return {
        "late": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {"label": "Delivered late", "data": [s.late_share or 0 for s in board.hot_spots]}
            ],
            "y_format": "percent",
        },
        "transit": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {
                    "label": "Median paid → delivered (days)",
                    "data": [s.median_transit_days or 0 for s in board.hot_spots],
                },
                {
                    "label": "Median promised (days)",
                    "data": [s.median_promise_days or 0 for s in board.hot_spots],
                },
            ],
            "y_format": "number",
        },
        "sellers": {
            "type": "bar",
            "labels": [s.seller_name for s in board.sellers[:10]],
            "datasets": [
                {"label": "Late dispatch rate", "data": [s.late_rate for s in board.sellers[:10]]}
            ],
            "y_format": "percent",
        },
    }


@router.get("/staff/logistics", response_class=HTMLResponse)
def staff_logistics(
    request: Request,
    principal: LogisticsStaff,
    session: ReadDbSession,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> Response:
    board = dashboard.dashboard(session=session, days=days)
    return render(
        request,
        "logistics/staff_dashboard.html",
        {
            "board": board,
            "charts": _charts(board),
            "lane_label": LANE_LABEL,
            "carrier_names": CARRIER_NAMES,
        },
    )
