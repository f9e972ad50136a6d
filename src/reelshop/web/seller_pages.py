"""HTML pages for seller vetting: onboarding, the staff review console, public seller profiles."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.errors import ProblemError
from reelshop.markets import service as markets
from reelshop.security.authz import (
    DbSession,
    OptionalPrincipal,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    require_staff,
)
from reelshop.security.pii_access import AccessReason, Reason, parse_reason, record_read
from reelshop.sellers import service as sellers
from reelshop.sellers.api import apply_url, collect_uploads, document_response
from reelshop.sellers.models import REVIEWABLE, ApplicationStatus, SellerApplication
from reelshop.web.audit_pages import reason_required_page
from reelshop.web.rendering import render, templates

router = APIRouter(include_in_schema=False)

ReviewerPrincipal = Annotated[Principal, Depends(require_staff(StaffPermission.TRUST_SAFETY))]

STATUS_LABELS = {
    ApplicationStatus.SUBMITTED.value: "Submitted",
    ApplicationStatus.INFO_REQUESTED.value: "More information requested",
    ApplicationStatus.RESUBMITTED.value: "Resubmitted",
    ApplicationStatus.APPROVED.value: "Approved",
    ApplicationStatus.REJECTED.value: "Rejected",
}
DOCUMENT_LABELS = {
    "business_licence": "Business licence",
    "identity": "ID of the legal representative",
    "brand_authorisation": "Brand authorisation",
}

templates.env.filters.setdefault("country_name", sellers.country_name)
templates.env.filters.setdefault("flag", sellers.flag_emoji)
templates.env.globals.setdefault("STATUS_LABELS", STATUS_LABELS)
templates.env.globals.setdefault("DOCUMENT_LABELS", DOCUMENT_LABELS)


def _apply_context(session: Session, form: dict[str, Any], invitation_token: str) -> dict[str, Any]:
    invitation = (
        sellers.find_invitation(session=session, token=invitation_token)
        if invitation_token
        else None
    )
    return {
        "form": form,
        "invitation_token": invitation_token,
        "invitation": invitation,
        "markets": markets.list_markets(session=session),
        "categories": sellers.category_choices(session=session),
        "countries": sellers.country_choices(),
        "max_mb": 5,
    }


@router.get("/seller/onboarding", response_class=HTMLResponse)
def onboarding(
    request: Request, principal: SellerPrincipal, session: DbSession, invitation: str = ""
) -> Response:
    application = sellers.application_for_user(session=session, user_id=principal.id)
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if application is not None or (seller is not None and seller.status == "approved"):
        return _status_page(request, session, application, seller)
    ctx = _apply_context(session, {}, invitation[:200])
    return render(request, "sellers/apply.html", ctx)


def _status_page(
    request: Request,
    session: Session,
    application: SellerApplication | None,
    seller: Any,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    # Applicants see "reelshop trust & safety", never the reviewer's name.
    return render(
        request,
        "sellers/status.html",
        {"application": application, "seller": seller, "error": error},
        status_code=status_code,
    )


@router.post("/seller/onboarding", response_class=HTMLResponse)
def onboarding_submit(
    request: Request,
    principal: SellerPrincipal,
    session: DbSession,
    display_name: Annotated[str, Form(max_length=120)] = "",
    legal_name: Annotated[str, Form(max_length=200)] = "",
    registration_number: Annotated[str, Form(max_length=64)] = "",
    country: Annotated[str, Form(max_length=2)] = "",
    ships_from_country: Annotated[str, Form(max_length=2)] = "",
    categories: Annotated[list[str] | None, Form(max_length=50)] = None,
    market_codes: Annotated[list[str] | None, Form(max_length=20)] = None,
    invitation_token: Annotated[str, Form(max_length=200)] = "",
    business_licence: Annotated[UploadFile | None, File()] = None,
    identity_document: Annotated[UploadFile | None, File()] = None,
    brand_authorisation: Annotated[UploadFile | None, File()] = None,
) -> Response:
    form = {
        "display_name": display_name,
        "legal_name": legal_name,
        "registration_number": registration_number,
        "country": country,
        "ships_from_country": ships_from_country,
        "categories": categories or [],
        "market_codes": market_codes or [],
    }
    try:
        sellers.submit_application(
            session=session,
            applicant=principal.user,
            details=sellers.BusinessDetails(
                display_name=display_name,
                legal_name=legal_name,
                registration_number=registration_number,
                country=country,
                ships_from_country=ships_from_country,
                categories=categories or [],
                market_codes=market_codes or [],
            ),
            uploads=collect_uploads(business_licence, identity_document, brand_authorisation),
            invitation_token=invitation_token or None,
        )
    except ProblemError as exc:
        session.rollback()
        ctx = _apply_context(session, form, invitation_token)
        ctx["error"] = exc.detail
        return render(request, "sellers/apply.html", ctx, status_code=exc.status)
    return RedirectResponse("/seller/onboarding", status_code=303)


@router.post("/seller/onboarding/{application_id}/resubmit", response_class=HTMLResponse)
def onboarding_resubmit(
    request: Request,
    application_id: str,
    principal: SellerPrincipal,
    session: DbSession,
    note: Annotated[str, Form(max_length=2000)] = "",
    business_licence: Annotated[UploadFile | None, File()] = None,
    identity_document: Annotated[UploadFile | None, File()] = None,
    brand_authorisation: Annotated[UploadFile | None, File()] = None,
) -> Response:
    try:
        sellers.resubmit_application(
            session=session,
            applicant=principal.user,
            application_id=application_id,
            uploads=collect_uploads(business_licence, identity_document, brand_authorisation),
            note=note,
        )
    except ProblemError as exc:
        session.rollback()
        application = sellers.get_application(
            session=session, application_id=application_id, viewer=principal.user
        )
        seller = sellers.seller_for_user(session=session, user_id=principal.id)
        return _status_page(
            request, session, application, seller, error=exc.detail, status_code=exc.status
        )
    return RedirectResponse("/seller/onboarding", status_code=303)


@router.get("/seller/onboarding/{application_id}/documents/{document_id}")
def onboarding_document(
    application_id: str, document_id: str, principal: SellerPrincipal, session: DbSession
) -> Response:
    document, data = sellers.open_document(
        session=session,
        viewer=principal.user,
        application_id=application_id,
        document_id=document_id,
    )
    return document_response(document, data)


# --- staff console ------------------------------------------------------------------------


@router.get("/staff/sellers/applications", response_class=HTMLResponse)
def staff_queue(
    request: Request,
    principal: ReviewerPrincipal,
    session: DbSession,
    status: str = "",
    country: str = "",
    page: int = 1,
) -> Response:
    per_page = 25
    page = max(1, min(page, 10_000))
    statuses = [status] if status in STATUS_LABELS else None
    country = country.strip().upper()[:2]
    queue = sellers.review_queue(
        session=session,
        statuses=statuses,
        country=country or None,
        limit=per_page,
        offset=(page - 1) * per_page,
    )

    def page_url(number: int) -> str:
        query = {k: v for k, v in (("status", status), ("country", country)) if v}
        query["page"] = str(number)
        return "/staff/sellers/applications?" + urlencode(query)

    return render(
        request,
        "sellers/staff_queue.html",
        {
            "queue": queue,
            "status": status if statuses else "",
            "country": country,
            "countries": sellers.country_choices(),
            "page": page,
            "prev_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page * per_page < queue.total else None,
        },
    )


def _staff_application_page(
    request: Request,
    session: Session,
    principal: Principal,
    application_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    reason: Reason = Reason.KYC_REVIEW,
) -> Response:
    application = sellers.get_application(
        session=session, application_id=application_id, viewer=principal.user, reviewer=True
    )
    record_read(
        session=session,
        staff_id=principal.id,
        target_type="seller_application",
        target_id=application.id,
        reason=reason,
        fields=["legal_name", "registration_number", "documents"],
        subject_user_id=application.user_id,
    )
    names = sellers.actor_names(
        session=session, user_ids={d.actor_id for d in application.decisions}
    )
    return render(
        request,
        "sellers/staff_application.html",
        {
            "application": application,
            "actor_names": names,
            "error": error,
            "reviewable": application.status in REVIEWABLE,
            "reason": reason.value,
        },
        status_code=status_code,
    )


@router.get("/staff/sellers/applications/{application_id}", response_class=HTMLResponse)
def staff_application(
    request: Request,
    application_id: str,
    principal: ReviewerPrincipal,
    session: DbSession,
    reason: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    try:
        given = parse_reason(reason)
    except ProblemError as exc:
        return reason_required_page(request, exc)
    return _staff_application_page(request, session, principal, application_id, reason=given)


def _decided(
    request: Request,
    session: Session,
    principal: Principal,
    application_id: str,
    exc: ProblemError | None,
) -> Response:
    if exc is None:
        return RedirectResponse(
            f"/staff/sellers/applications/{application_id}?reason={Reason.KYC_REVIEW.value}",
            status_code=303,
        )
    session.rollback()
    return _staff_application_page(
        request, session, principal, application_id, error=exc.detail, status_code=exc.status
    )


@router.post("/staff/sellers/applications/{application_id}/approve", response_class=HTMLResponse)
def staff_approve(
    request: Request,
    application_id: str,
    principal: ReviewerPrincipal,
    session: DbSession,
    market_codes: Annotated[list[str] | None, Form(max_length=20)] = None,
    categories: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    try:
        sellers.approve_application(
            session=session,
            staff=principal.user,
            application_id=application_id,
            market_codes=market_codes or [],
            categories=categories or [],
        )
    except ProblemError as exc:
        return _decided(request, session, principal, application_id, exc)
    return _decided(request, session, principal, application_id, None)


@router.post("/staff/sellers/applications/{application_id}/reject", response_class=HTMLResponse)
def staff_reject(
    request: Request,
    application_id: str,
    principal: ReviewerPrincipal,
    session: DbSession,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        sellers.reject_application(
            session=session, staff=principal.user, application_id=application_id, reason=reason
        )
    except ProblemError as exc:
        return _decided(request, session, principal, application_id, exc)
    return _decided(request, session, principal, application_id, None)


@router.post(
    "/staff/sellers/applications/{application_id}/request-information",
    response_class=HTMLResponse,
)
def staff_request_information(
    request: Request,
    application_id: str,
    principal: ReviewerPrincipal,
    session: DbSession,
    message: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        sellers.request_information(
            session=session, staff=principal.user, application_id=application_id, message=message
        )
    except ProblemError as exc:
        return _decided(request, session, principal, application_id, exc)
    return _decided(request, session, principal, application_id, None)


@router.get("/staff/sellers/applications/{application_id}/documents/{document_id}")
def staff_document(
    application_id: str,
    document_id: str,
    principal: ReviewerPrincipal,
    session: DbSession,
    reason: AccessReason,
) -> Response:
    document, data = sellers.open_document(
        session=session,
        viewer=principal.user,
        application_id=application_id,
        document_id=document_id,
        reviewer=True,
    )
    record_read(
        session=session,
        staff_id=principal.id,
        target_type="seller_document",
        target_id=document.id,
        reason=reason,
        fields=["document"],
    )
    return document_response(document, data)


def _invitations_page(
    request: Request,
    session: Session,
    *,
    issued: sellers.IssuedInvitation | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    invitations = sellers.list_invitations(session=session)
    return render(
        request,
        "sellers/staff_invitations.html",
        {
            "invitations": [(i, sellers.invitation_state(i)) for i in invitations],
            "markets": markets.list_markets(session=session),
            "issued": issued,
            "issued_url": (
                str(request.base_url).rstrip("/") + apply_url(issued.token) if issued else None
            ),
            "error": error,
            "form": form or {},
        },
        status_code=status_code,
    )


@router.get("/staff/sellers/invitations", response_class=HTMLResponse)
def staff_invitations(
    request: Request, principal: ReviewerPrincipal, session: DbSession
) -> Response:
    return _invitations_page(request, session)


@router.post("/staff/sellers/invitations", response_class=HTMLResponse)
def staff_invite(
    request: Request,
    principal: ReviewerPrincipal,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    business_name: Annotated[str, Form(max_length=160)] = "",
    market: Annotated[str, Form(max_length=2)] = "US",
) -> Response:
    try:
        issued = sellers.invite_seller(
            session=session,
            staff=principal.user,
            email=email,
            business_name=business_name,
            market_code=market,
        )
    except ProblemError as exc:
        session.rollback()
        return _invitations_page(
            request,
            session,
            error=exc.detail,
            form={"email": email, "business_name": business_name, "market": market},
            status_code=exc.status,
        )
    # Shown once, on this response: only the token's hash is kept.
    response = _invitations_page(request, session, issued=issued)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- shoppers -----------------------------------------------------------------------------


@router.get("/sellers/{seller_id}", response_class=HTMLResponse)
def seller_profile(
    request: Request, seller_id: str, principal: OptionalPrincipal, session: ReadDbSession
) -> Response:
    seller = sellers.public_seller(session=session, seller_id=seller_id)
    return render(request, "sellers/profile.html", {"seller": seller, "active": "shop"})
