"""The admin's audit log page, and the "why are you opening this?" page staff views share."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from reelshop.errors import ProblemError
from reelshop.security import audit
from reelshop.security.audit_search import AuditFilter, known_actions, search
from reelshop.security.authz import AdminPrincipal, ReadDbSession
from reelshop.security.pii_access import REASON_LABELS
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)


def reason_required_page(request: Request, exc: ProblemError) -> Response:
    """A staff view of personal data opened without a reason: ask for one (400)."""
    return render(
        request,
        "audit/reason_required.html",
        {
            "invalid": bool(request.query_params.get("reason")),
            "reasons": [(r.value, label) for r, label in REASON_LABELS.items()],
            "path": request.url.path,
        },
        status_code=400,
    )


@router.get("/staff/audit", response_class=HTMLResponse)
def audit_log_page(
    request: Request,
    principal: AdminPrincipal,
    session: ReadDbSession,
    actor: Annotated[str | None, Query(max_length=40)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    target: Annotated[str | None, Query(max_length=40)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    del principal
    filters = {"actor": actor or "", "action": action or "", "target": target or ""}
    page = search(
        session=session,
        where=AuditFilter(
            actor_id=actor or None,
            action=action or None,
            target_id=target or None,
            before_seq=before,
        ),
    )
    more_url = None
    if page.next_before is not None:
        more_url = "/staff/audit?" + urlencode(
            {**{k: v for k, v in filters.items() if v}, "before": page.next_before}
        )
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "chain": audit.verify(session=session),
            "filters": filters,
            "actions": known_actions(session=session),
            "more_url": more_url,
        },
    )
