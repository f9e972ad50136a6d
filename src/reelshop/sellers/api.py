"""JSON API for seller vetting: applications, staff review, invitations, public profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import Response

from reelshop.accounts.models import StaffPermission
from reelshop.errors import problem_responses
from reelshop.security.authz import (
    CurrentPrincipal,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    require_staff,
)
from reelshop.security.pii_access import AccessReason, parse_reason, record_read
from reelshop.sellers import service as sellers
from reelshop.sellers.documents import MAX_DOCUMENT_BYTES
from reelshop.sellers.models import DocumentKind, SellerDocument, SellerInvitation
from reelshop.sellers.schemas import (
    ApplicationOut,
    ApplicationSummaryOut,
    ApproveIn,
    InfoRequestIn,
    InvitationIn,
    InvitationOut,
    IssuedInvitationOut,
    PublicSellerOut,
    QueueOut,
    RejectIn,
)

router = APIRouter(tags=["sellers"])

TrustSafetyPrincipal = Annotated[Principal, Depends(require_staff(StaffPermission.TRUST_SAFETY))]


def apply_url(token: str) -> str:
    return f"/seller/onboarding?invitation={token}"


def read_upload(kind: DocumentKind, upload: UploadFile | None) -> sellers.DocumentUpload | None:
    """The upload's bytes, read no further than one byte past the limit."""
    if upload is None:
        return None
    data = upload.file.read(MAX_DOCUMENT_BYTES + 1)
    if not data and not upload.filename:
        return None  # an empty, unnamed part: the field was left blank
    return sellers.DocumentUpload(kind=kind.value, filename=upload.filename or "", data=data)


def collect_uploads(
    business_licence: UploadFile | None,
    identity_document: UploadFile | None,
    brand_authorisation: UploadFile | None,
) -> list[sellers.DocumentUpload]:
    pairs = [
        (DocumentKind.BUSINESS_LICENCE, business_licence),
        (DocumentKind.IDENTITY, identity_document),
        (DocumentKind.BRAND_AUTHORISATION, brand_authorisation),
    ]
    return [u for kind, upload in pairs if (u := read_upload(kind, upload)) is not None]


def document_response(document: SellerDocument, data: bytes) -> Response:
    """Always a download, never rendered inline, never cached by shared caches."""
    return Response(
        data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def invitation_out(invitation: SellerInvitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        business_name=invitation.business_name,
        market_code=invitation.market_code,
        invited_by=invitation.invited_by,
        expires_at=invitation.expires_at,
        used_at=invitation.used_at,
        revoked_at=invitation.revoked_at,
        created_at=invitation.created_at,
        state=sellers.invitation_state(invitation),
    )


@router.post(
    "/seller-applications",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 413, 415, 422),
    summary="Apply to sell, with business details and KYC documents (PDF, PNG, JPEG; 5 MB)",
)
def submit_application(
    principal: SellerPrincipal,
    session: DbSession,
    display_name: Annotated[str, Form(max_length=120)],
    legal_name: Annotated[str, Form(max_length=200)],
    registration_number: Annotated[str, Form(max_length=64)],
    country: Annotated[str, Form(max_length=2)],
    ships_from_country: Annotated[str, Form(max_length=2)],
    categories: Annotated[list[str], Form(max_length=50)],
    market_codes: Annotated[list[str], Form(max_length=20)],
    business_licence: Annotated[UploadFile | None, File()] = None,
    identity_document: Annotated[UploadFile | None, File()] = None,
    brand_authorisation: Annotated[UploadFile | None, File()] = None,
    invitation_token: Annotated[str | None, Form(max_length=200)] = None,
) -> ApplicationOut:
    application = sellers.submit_application(
        session=session,
        applicant=principal.user,
        details=sellers.BusinessDetails(
            display_name=display_name,
            legal_name=legal_name,
            registration_number=registration_number,
            country=country,
            ships_from_country=ships_from_country,
            categories=categories,
            market_codes=market_codes,
        ),
        uploads=collect_uploads(business_licence, identity_document, brand_authorisation),
        invitation_token=invitation_token,
    )
    return ApplicationOut.model_validate(application)


@router.get(
    "/seller-applications",
    responses=problem_responses(401, 403),
    summary="The calling seller's own applications",
)
def my_applications(principal: SellerPrincipal, session: DbSession) -> list[ApplicationOut]:
    application = sellers.application_for_user(session=session, user_id=principal.id)
    return [ApplicationOut.model_validate(application)] if application else []


@router.get(
    "/seller-applications/{application_id}",
    responses=problem_responses(401, 404),
    summary="One application: its applicant's own, or any for trust & safety staff",
)
def get_application(
    application_id: str, principal: CurrentPrincipal, session: DbSession
) -> ApplicationOut:
    application = sellers.get_application(
        session=session,
        application_id=application_id,
        viewer=principal.user,
        reviewer=principal.is_staff_with(StaffPermission.TRUST_SAFETY),
    )
    return ApplicationOut.model_validate(application)


@router.post(
    "/seller-applications/{application_id}/resubmit",
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
    summary="Answer a request for more information with documents and/or a reply",
)
def resubmit_application(
    application_id: str,
    principal: SellerPrincipal,
    session: DbSession,
    note: Annotated[str | None, Form(max_length=2000)] = None,
    business_licence: Annotated[UploadFile | None, File()] = None,
    identity_document: Annotated[UploadFile | None, File()] = None,
    brand_authorisation: Annotated[UploadFile | None, File()] = None,
) -> ApplicationOut:
    application = sellers.resubmit_application(
        session=session,
        applicant=principal.user,
        application_id=application_id,
        uploads=collect_uploads(business_licence, identity_document, brand_authorisation),
        note=note,
    )
    return ApplicationOut.model_validate(application)


@router.get(
    "/seller-applications/{application_id}/documents/{document_id}",
    responses={
        200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}},
        **problem_responses(401, 404),
    },
    response_class=Response,
    summary="Download a document (its applicant or trust & safety staff only)",
)
def download_document(
    application_id: str,
    document_id: str,
    principal: CurrentPrincipal,
    session: DbSession,
    reason: Annotated[
        str | None, Query(max_length=40, description="Staff only: why (audited)")
    ] = None,
) -> Response:
    reviewer = principal.is_staff_with(StaffPermission.TRUST_SAFETY)
    own = sellers.application_for_user(session=session, user_id=principal.id)
    staff_read = reviewer and (own is None or own.id != application_id)
    given = parse_reason(reason) if staff_read else None
    document, data = sellers.open_document(
        session=session,
        viewer=principal.user,
        application_id=application_id,
        document_id=document_id,
        reviewer=reviewer,
    )
    if given is not None:
        record_read(
            session=session,
            staff_id=principal.id,
            target_type="seller_document",
            target_id=document.id,
            reason=given,
            fields=["document"],
        )
    return document_response(document, data)


@router.get(
    "/staff/seller-applications",
    responses=problem_responses(401, 403, 422),
    summary="The vetting queue, oldest first (default: waiting for review)",
)
def review_queue(
    principal: TrustSafetyPrincipal,
    session: DbSession,
    status_filter: Annotated[list[str] | None, Query(alias="status", max_length=5)] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> QueueOut:
    page = sellers.review_queue(
        session=session, statuses=status_filter, country=country, limit=limit, offset=offset
    )
    return QueueOut(
        total=page.total,
        applications=[ApplicationSummaryOut.model_validate(a) for a in page.applications],
    )


@router.get(
    "/staff/seller-applications/{application_id}",
    responses=problem_responses(401, 403, 404),
    summary="An application with its documents and decision history",
)
def staff_get_application(
    application_id: str, principal: TrustSafetyPrincipal, session: DbSession, reason: AccessReason
) -> ApplicationOut:
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
    return ApplicationOut.model_validate(application)


@router.post(
    "/staff/seller-applications/{application_id}/approve",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Approve for chosen markets and categories",
)
def approve_application(
    application_id: str, body: ApproveIn, principal: TrustSafetyPrincipal, session: DbSession
) -> ApplicationOut:
    application = sellers.approve_application(
        session=session,
        staff=principal.user,
        application_id=application_id,
        market_codes=body.market_codes,
        categories=body.categories,
    )
    return ApplicationOut.model_validate(application)


@router.post(
    "/staff/seller-applications/{application_id}/reject",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Reject with a reason the applicant will read",
)
def reject_application(
    application_id: str, body: RejectIn, principal: TrustSafetyPrincipal, session: DbSession
) -> ApplicationOut:
    application = sellers.reject_application(
        session=session, staff=principal.user, application_id=application_id, reason=body.reason
    )
    return ApplicationOut.model_validate(application)


@router.post(
    "/staff/seller-applications/{application_id}/request-information",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Ask the applicant for more information",
)
def request_information(
    application_id: str, body: InfoRequestIn, principal: TrustSafetyPrincipal, session: DbSession
) -> ApplicationOut:
    application = sellers.request_information(
        session=session, staff=principal.user, application_id=application_id, message=body.message
    )
    return ApplicationOut.model_validate(application)


@router.post(
    "/staff/seller-invitations",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 422),
    summary="Invite a business to apply (the token is shown once)",
)
def invite_seller(
    body: InvitationIn, principal: TrustSafetyPrincipal, session: DbSession
) -> IssuedInvitationOut:
    issued = sellers.invite_seller(
        session=session,
        staff=principal.user,
        email=body.email,
        business_name=body.business_name,
        market_code=body.market,
    )
    return IssuedInvitationOut(
        invitation=invitation_out(issued.invitation),
        token=issued.token,
        apply_url=apply_url(issued.token),
    )


@router.get(
    "/staff/seller-invitations",
    responses=problem_responses(401, 403),
    summary="Invitations, newest first",
)
def list_invitations(principal: TrustSafetyPrincipal, session: DbSession) -> list[InvitationOut]:
    return [invitation_out(i) for i in sellers.list_invitations(session=session)]


@router.post(
    "/staff/seller-invitations/{invitation_id}/revoke",
    responses=problem_responses(401, 403, 404, 409),
    summary="Revoke an unused invitation",
)
def revoke_invitation(
    invitation_id: str, principal: TrustSafetyPrincipal, session: DbSession
) -> InvitationOut:
    invitation = sellers.revoke_invitation(
        session=session, staff=principal.user, invitation_id=invitation_id
    )
    return invitation_out(invitation)


@router.get(
    "/sellers/{seller_id}",
    responses=problem_responses(404),
    summary="A seller's public profile (approved sellers only)",
)
def public_seller(seller_id: str, session: ReadDbSession) -> PublicSellerOut:
    seller = sellers.public_seller(session=session, seller_id=seller_id)
    return PublicSellerOut(
        id=seller.id,
        display_name=seller.display_name,
        ships_from_country=seller.ships_from_country,
        rating_average=seller.rating_average,
        rating_count=seller.rating_count,
        on_time_rate=seller.on_time_rate,
        joined_at=seller.approved_at or seller.created_at,
    )
