"""HTML pages of buyer protection: the shopper opens a claim from the order page and
follows it; the seller's claim inbox and answer form; the staff queue and decision form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.checkout import service as checkout
from reelshop.errors import InvalidInput, NotFound, ProblemError
from reelshop.money import Money, MoneyError
from reelshop.payments import service as payments
from reelshop.security.authz import (
    AppSettings,
    CurrentPrincipal,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers
from reelshop.trust import claims
from reelshop.trust.claim_models import OPEN_STATUSES, Claim
from reelshop.web.forms import PostedForm
from reelshop.web.rendering import render
from reelshop.web.review_pages import _seller_id, _uploads

router = APIRouter(include_in_schema=False)

SupportStaff = Annotated[Principal, Depends(require_staff(StaffPermission.SUPPORT))]
STATUS_LABEL = {
    "awaiting_seller": "Waiting for the seller",
    "awaiting_staff": "With our team",
    "escalated": "With our team (seller did not answer)",
    "upheld": "Upheld",
    "rejected": "Not upheld",
}
OUTCOME_LABEL = {
    "uphold_full": "Upheld: full refund",
    "uphold_partial": "Upheld: partial refund",
    "reject": "Rejected",
}


def _context(session: Session, claim: Claim) -> dict[str, Any]:
    order = checkout.order_lines(session=session, order_id=claim.order_id)
    return {
        "claim": claim,
        "lines": order,
        "type_label": claims.TYPE_LABEL,
        "status_label": STATUS_LABEL,
        "outcome_label": OUTCOME_LABEL,
        "is_open": claim.status in OPEN_STATUSES,
        "money": Money,
        "policy": claims.POLICY,
    }


def _evidence(session: Session, claim: Claim, form: Any, user_id: str, party: str) -> None:
    for data in _uploads(form, "photos"):
        claims.add_evidence(
            session=session, claim=claim, uploaded_by=user_id, party=party, data=data
        )


# --- shopper -----------------------------------------------------------------------------------


def _new_claim_page(
    request: Request,
    session: Session,
    shopper_id: str,
    order_id: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    order = checkout.shopper_order(session=session, shopper_id=shopper_id, order_id=order_id)
    return render(
        request,
        "claims/new.html",
        {
            "order": order,
            "types": claims.available_types(session=session, order=order),
            "type_label": claims.TYPE_LABEL,
            "policy": claims.POLICY,
            "active": "orders",
            **extra,
        },
        status_code=status_code,
    )


@router.get("/orders/{order_id}/claims/new", response_class=HTMLResponse)
def new_claim(
    order_id: str, request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    return _new_claim_page(request, session, principal.id, order_id)


@router.post("/orders/{order_id}/claims", response_class=HTMLResponse)
def open_claim(
    order_id: str,
    request: Request,
    principal: ShopperPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    claim_type = str(form.get("claim_type") or "")
    description = str(form.get("description") or "")
    line_id = str(form.get("order_line_id") or "") or None
    try:
        claim = claims.open_claim(
            session=session,
            shopper_id=principal.id,
            order_id=order_id,
            claim_type=claim_type,
            description=description,
            order_line_id=line_id,
        )
        _evidence(session, claim, form, principal.id, "shopper")
    except ProblemError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        return _new_claim_page(
            request,
            session,
            principal.id,
            order_id,
            status_code=exc.status,
            error=exc.detail,
            form={"claim_type": claim_type, "description": description},
        )
    return RedirectResponse(f"/claims/{claim.id}", status_code=303)


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(
    claim_id: str, request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    claim = claims.shopper_claim(session=session, shopper_id=principal.id, claim_id=claim_id)
    return render(request, "claims/shopper.html", {**_context(session, claim), "active": "orders"})


@router.post("/claims/{claim_id}/evidence")
def add_evidence(
    claim_id: str, principal: ShopperPrincipal, session: DbSession, form: PostedForm
) -> Response:
    claim = claims.shopper_claim(session=session, shopper_id=principal.id, claim_id=claim_id)
    _evidence(session, claim, form, principal.id, "shopper")
    return RedirectResponse(f"/claims/{claim_id}", status_code=303)


@router.get("/claims/{claim_id}/evidence/{evidence_id}")
def evidence_image(
    claim_id: str, evidence_id: str, principal: CurrentPrincipal, session: ReadDbSession
) -> Response:
    """Only the shopper, the seller of the order and support staff see claim evidence."""
    claim = claims.staff_claim(session=session, claim_id=claim_id)
    allowed = claim.shopper_id == principal.id or principal.is_staff_with(StaffPermission.SUPPORT)
    if not allowed:
        seller = sellers.seller_for_user(session=session, user_id=principal.id)
        allowed = seller is not None and seller.id == claim.seller_id
    if not allowed:
        raise NotFound("no such claim")
    data, content_type = claims.evidence_bytes(claim=claim, evidence_id=evidence_id)
    return Response(
        content=data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )


# --- seller ------------------------------------------------------------------------------------


@router.get("/seller/claims", response_class=HTMLResponse)
def seller_inbox(request: Request, principal: SellerPrincipal, session: ReadDbSession) -> Response:
    rows = claims.seller_claims(session=session, seller_id=_seller_id(session, principal))
    return render(
        request,
        "claims/seller_inbox.html",
        {
            "open": [c for c in rows if c.status in OPEN_STATUSES],
            "closed": [c for c in rows if c.status not in OPEN_STATUSES],
            "type_label": claims.TYPE_LABEL,
            "status_label": STATUS_LABEL,
            "policy": claims.POLICY,
        },
    )


def _seller_claim_page(
    request: Request, session: Session, principal: Principal, claim_id: str, **extra: Any
) -> Response:
    claim = claims.seller_claim(
        session=session, seller_id=_seller_id(session, principal), claim_id=claim_id
    )
    status_code = extra.pop("status_code", 200)
    return render(
        request,
        "claims/seller_claim.html",
        {**_context(session, claim), **extra},
        status_code=status_code,
    )


@router.get("/seller/claims/{claim_id}", response_class=HTMLResponse)
def seller_claim(
    claim_id: str, request: Request, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    return _seller_claim_page(request, session, principal, claim_id)


@router.post("/seller/claims/{claim_id}/response", response_class=HTMLResponse)
def seller_respond(
    claim_id: str,
    request: Request,
    principal: SellerPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    seller_id = _seller_id(session, principal)
    response = str(form.get("response") or "")
    try:
        claim = claims.seller_respond(
            session=session, seller_id=seller_id, claim_id=claim_id, response=response
        )
        _evidence(session, claim, form, principal.id, "seller")
    except ProblemError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        return _seller_claim_page(
            request, session, principal, claim_id, status_code=exc.status, error=exc.detail
        )
    return RedirectResponse(f"/seller/claims/{claim_id}", status_code=303)


# --- staff -------------------------------------------------------------------------------------


@router.get("/staff/claims", response_class=HTMLResponse)
def staff_queue(request: Request, principal: SupportStaff, session: ReadDbSession) -> Response:
    return render(
        request,
        "claims/staff_queue.html",
        {
            "queue": claims.staff_queue(session=session),
            "decided": claims.recent_decisions(session=session, limit=20),
            "type_label": claims.TYPE_LABEL,
            "status_label": STATUS_LABEL,
            "outcome_label": OUTCOME_LABEL,
            "money": Money,
        },
    )


def _staff_claim_page(
    request: Request, session: Session, claim_id: str, *, status_code: int = 200, **extra: Any
) -> Response:
    claim = claims.staff_claim(session=session, claim_id=claim_id)
    order = checkout.shopper_order(
        session=session, shopper_id=claim.shopper_id, order_id=claim.order_id
    )
    return render(
        request,
        "claims/staff_claim.html",
        {
            **_context(session, claim),
            "order": order,
            "remaining": Money(order.total_amount - order.refunded_amount, order.currency),
            **extra,
        },
        status_code=status_code,
    )


@router.get("/staff/claims/{claim_id}", response_class=HTMLResponse)
def staff_claim(
    claim_id: str, request: Request, principal: SupportStaff, session: ReadDbSession
) -> Response:
    return _staff_claim_page(request, session, claim_id)


def _amount_minor(raw: str, currency: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return Money.from_decimal(raw, currency).amount
    except (MoneyError, ValueError):
        raise InvalidInput("write the amount like 12.50", field="amount") from None


@router.post("/staff/claims/{claim_id}/decision", response_class=HTMLResponse)
def decide(
    claim_id: str,
    request: Request,
    principal: SupportStaff,
    session: DbSession,
    settings: AppSettings,
    form: PostedForm,
) -> Response:
    try:
        claim = claims.staff_claim(session=session, claim_id=claim_id)
        claims.decide_claim(
            session=session,
            provider=payments.get_provider("simulated", settings),
            claim_id=claim_id,
            actor_id=principal.id,
            outcome=str(form.get("outcome") or ""),
            note=str(form.get("note") or ""),
            amount=_amount_minor(str(form.get("amount") or ""), claim.currency),
        )
    except ProblemError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        return _staff_claim_page(
            request, session, claim_id, status_code=exc.status, error=exc.detail
        )
    return RedirectResponse(f"/staff/claims/{claim_id}", status_code=303)
