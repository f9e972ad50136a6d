"""JSON API of the brand registry: staff register brands and verify owners; owners
keep their marks, prices and official images, search for their marks, decide
sellers' authorisation requests and file infringement complaints; sellers ask for
authorisation with a document."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from reelshop.accounts.models import StaffPermission
from reelshop.catalog.models import Brand
from reelshop.errors import Forbidden, problem_responses
from reelshop.security.authz import (
    CurrentPrincipal,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers
from reelshop.sellers.documents import MAX_DOCUMENT_BYTES
from reelshop.trust import brands
from reelshop.trust.models import BrandRegistration
from reelshop.trust.schemas import (
    AuthorisationDecisionIn,
    AuthorisationOut,
    BrandIn,
    BrandOut,
    ComplaintDecisionIn,
    ComplaintIn,
    ComplaintOut,
    MarkHitOut,
    MarksIn,
    OfficialImageOut,
    OwnerIn,
    PriceRangeIn,
    PriceRangeOut,
)

router = APIRouter(tags=["brands"])

TrustStaff = Annotated[Principal, Depends(require_staff(StaffPermission.TRUST_SAFETY))]
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def _brand_out(session: DbSession | ReadDbSession, reg: BrandRegistration) -> BrandOut:
    brand = session.get(Brand, reg.brand_id)
    assert brand is not None
    return BrandOut.of(
        reg,
        brand.name,
        brands.price_ranges(session=session, brand_id=reg.brand_id),
        brands.official_images(session=session, brand_id=reg.brand_id),
    )


# --- staff -------------------------------------------------------------------------------


@router.post(
    "/trust/brands",
    status_code=status.HTTP_201_CREATED,
    response_model=BrandOut,
    summary="Register a brand (linked to the catalog's brand of that name)",
    responses=problem_responses(401, 403, 409, 422),
)
def register_brand(body: BrandIn, principal: TrustStaff, session: DbSession) -> BrandOut:
    reg = brands.register_brand(
        session=session,
        staff_id=principal.id,
        name=body.name,
        trademark_number=body.trademark_number,
        trademark_classes=body.trademark_classes,
        aliases=body.aliases,
    )
    return _brand_out(session, reg)


@router.get(
    "/trust/brands",
    response_model=list[BrandOut],
    summary="Every registered brand",
    responses=problem_responses(401, 403),
)
def list_brands(principal: TrustStaff, session: ReadDbSession) -> list[BrandOut]:
    return [BrandOut.of(reg, b.name) for reg, b in brands.list_registrations(session=session)]


@router.post(
    "/trust/brands/{brand_id}/owners",
    status_code=status.HTTP_201_CREATED,
    summary="Record that an account speaks for the brand (after checking its papers)",
    responses=problem_responses(401, 403, 404, 422),
)
def verify_owner(
    brand_id: str, body: OwnerIn, principal: TrustStaff, session: DbSession
) -> dict[str, str]:
    owner = brands.verify_owner(
        session=session,
        staff_id=principal.id,
        brand_id=brand_id,
        user_id=body.user_id,
        note=body.note,
    )
    return {"id": owner.id, "brand_id": owner.brand_id, "user_id": owner.user_id}


@router.get(
    "/trust/complaints",
    response_model=list[ComplaintOut],
    summary="Infringement complaints, newest first",
    responses=problem_responses(401, 403, 422),
)
def staff_complaints(
    principal: TrustStaff,
    session: ReadDbSession,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(open|upheld|dismissed)$")
    ] = None,
) -> list[ComplaintOut]:
    return [
        ComplaintOut.of(c)
        for c in brands.complaints(session=session, brand_ids=None, status=status_)
    ]


@router.post(
    "/trust/complaints/{complaint_id}/decision",
    response_model=ComplaintOut,
    summary="Uphold (take the listing down, strike the seller) or dismiss a complaint",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def decide_complaint(
    complaint_id: str, body: ComplaintDecisionIn, principal: TrustStaff, session: DbSession
) -> ComplaintOut:
    complaint = brands.decide_complaint(
        session=session,
        complaint_id=complaint_id,
        staff_id=principal.id,
        uphold=body.uphold,
        note=body.note,
    )
    return ComplaintOut.of(complaint)


@router.post(
    "/trust/brand-authorisations/{authorisation_id}/decision",
    response_model=AuthorisationOut,
    summary="Staff decide a seller's brand authorisation request",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def staff_decide_authorisation(
    authorisation_id: str, body: AuthorisationDecisionIn, principal: TrustStaff, session: DbSession
) -> AuthorisationOut:
    row = brands.decide_authorisation(
        session=session,
        authorisation_id=authorisation_id,
        actor_id=principal.id,
        approve=body.approve,
        note=body.note,
        as_staff=True,
    )
    return AuthorisationOut.of(row)


# --- brand owners ------------------------------------------------------------------------


def _owned(
    session: DbSession | ReadDbSession, principal: Principal, brand_id: str
) -> BrandRegistration:
    return brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)


@router.get(
    "/brand-owner/brands",
    response_model=list[BrandOut],
    summary="The brands you speak for",
    responses=problem_responses(401),
)
def my_brands(principal: CurrentPrincipal, session: ReadDbSession) -> list[BrandOut]:
    out = []
    for brand in brands.owned_brands(session=session, user_id=principal.id):
        out.append(_brand_out(session, brands.registration_for(session=session, brand_id=brand.id)))
    return out


@router.get(
    "/brand-owner/brands/{brand_id}",
    response_model=BrandOut,
    summary="One of your brands with its price ranges and official images",
    responses=problem_responses(401, 404),
)
def my_brand(brand_id: str, principal: CurrentPrincipal, session: ReadDbSession) -> BrandOut:
    return _brand_out(session, _owned(session, principal, brand_id))


@router.put(
    "/brand-owner/brands/{brand_id}/marks",
    response_model=BrandOut,
    summary="Replace the brand's aliases (common misspellings) and trademark classes",
    responses=problem_responses(401, 404, 422),
)
def update_marks(
    brand_id: str, body: MarksIn, principal: CurrentPrincipal, session: DbSession
) -> BrandOut:
    reg = _owned(session, principal, brand_id)
    brands.update_marks(
        session=session,
        registration=reg,
        aliases=body.aliases,
        trademark_classes=body.trademark_classes,
    )
    return _brand_out(session, reg)


@router.post(
    "/brand-owner/brands/{brand_id}/price-ranges",
    status_code=status.HTTP_201_CREATED,
    response_model=PriceRangeOut,
    summary="Add a product line's genuine price range (minor units)",
    responses=problem_responses(401, 404, 422),
)
def add_price_range(
    brand_id: str, body: PriceRangeIn, principal: CurrentPrincipal, session: DbSession
) -> PriceRangeOut:
    row = brands.add_price_range(
        session=session,
        registration=_owned(session, principal, brand_id),
        product_line=body.product_line,
        keywords=body.keywords,
        currency=body.currency,
        min_amount=body.min_amount,
        max_amount=body.max_amount,
    )
    return PriceRangeOut.of(row)


@router.post(
    "/brand-owner/brands/{brand_id}/images",
    status_code=status.HTTP_201_CREATED,
    response_model=OfficialImageOut,
    summary="Upload an official product photo (only its perceptual hashes are compared)",
    responses=problem_responses(401, 404, 413, 415, 422),
)
def add_official_image(
    brand_id: str,
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    label: Annotated[str, Form(max_length=120)] = "",
) -> OfficialImageOut:
    reg = _owned(session, principal, brand_id)
    data = file.file.read(MAX_IMAGE_BYTES + 1)
    image = brands.add_official_image(session=session, registration=reg, data=data, label=label)
    return OfficialImageOut.of(image)


@router.get(
    "/brand-owner/brands/{brand_id}/mentions",
    response_model=list[MarkHitOut],
    summary="Listings and videos that name your brand, an alias, a product line or q",
    responses=problem_responses(401, 404, 422),
)
def search_marks(
    brand_id: str,
    principal: CurrentPrincipal,
    session: ReadDbSession,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> list[MarkHitOut]:
    hits = brands.search_marks(
        session=session, registration=_owned(session, principal, brand_id), q=q
    )
    return [MarkHitOut(**h.__dict__) for h in hits]


@router.post(
    "/brand-owner/brands/{brand_id}/complaints",
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintOut,
    summary="File an infringement complaint against a listing or a video",
    responses=problem_responses(401, 404, 422),
)
def file_complaint(
    brand_id: str, body: ComplaintIn, principal: CurrentPrincipal, session: DbSession
) -> ComplaintOut:
    complaint = brands.file_complaint(
        session=session,
        registration=_owned(session, principal, brand_id),
        user_id=principal.id,
        description=body.description,
        product_id=body.product_id,
        video_id=body.video_id,
    )
    return ComplaintOut.of(complaint)


@router.get(
    "/brand-owner/brands/{brand_id}/complaints",
    response_model=list[ComplaintOut],
    summary="Your complaints about this brand and their decisions",
    responses=problem_responses(401, 404),
)
def my_complaints(
    brand_id: str, principal: CurrentPrincipal, session: ReadDbSession
) -> list[ComplaintOut]:
    reg = _owned(session, principal, brand_id)
    return [
        ComplaintOut.of(c) for c in brands.complaints(session=session, brand_ids=[reg.brand_id])
    ]


@router.get(
    "/brand-owner/brands/{brand_id}/authorisations",
    response_model=list[AuthorisationOut],
    summary="Sellers' requests to sell this brand",
    responses=problem_responses(401, 404),
)
def brand_authorisations(
    brand_id: str, principal: CurrentPrincipal, session: ReadDbSession
) -> list[AuthorisationOut]:
    reg = _owned(session, principal, brand_id)
    rows = brands.authorisation_requests(session=session, brand_ids=[reg.brand_id])
    return [AuthorisationOut.of(r.authorisation) for r in rows]


@router.post(
    "/brand-owner/authorisations/{authorisation_id}/decision",
    response_model=AuthorisationOut,
    summary="Approve, reject or revoke a seller's authorisation for your brand",
    responses=problem_responses(401, 404, 409, 422),
)
def owner_decide_authorisation(
    authorisation_id: str,
    body: AuthorisationDecisionIn,
    principal: CurrentPrincipal,
    session: DbSession,
) -> AuthorisationOut:
    row = brands.decide_authorisation(
        session=session,
        authorisation_id=authorisation_id,
        actor_id=principal.id,
        approve=body.approve,
        note=body.note,
        as_staff=False,
    )
    return AuthorisationOut.of(row)


# --- sellers -----------------------------------------------------------------------------


@router.get(
    "/seller/brand-authorisations",
    response_model=list[AuthorisationOut],
    summary="Your shop's brand authorisations and requests",
    responses=problem_responses(401, 403),
)
def my_authorisations(principal: SellerPrincipal, session: ReadDbSession) -> list[AuthorisationOut]:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise Forbidden("this account has no shop yet")
    rows = brands.seller_authorisations(session=session, seller_id=seller.id)
    return [AuthorisationOut.of(a) for a, _ in rows]


@router.post(
    "/seller/brand-authorisations",
    status_code=status.HTTP_201_CREATED,
    response_model=AuthorisationOut,
    summary="Ask a brand for authorisation to sell it, with a document (PDF, PNG or JPEG)",
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
def request_authorisation(
    principal: SellerPrincipal,
    session: DbSession,
    brand_id: Annotated[str, Form(max_length=40)],
    statement: Annotated[str, Form(max_length=2000)],
    document: Annotated[UploadFile, File()],
) -> AuthorisationOut:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise Forbidden("this account has no shop yet")
    data = document.file.read(MAX_DOCUMENT_BYTES + 1)
    row = brands.request_authorisation(
        session=session,
        seller=seller,
        brand_id=brand_id,
        statement=statement,
        filename=document.filename or "document",
        data=data,
    )
    return AuthorisationOut.of(row)
