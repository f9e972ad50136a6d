"""The brand registry: brands registered by staff-verified owners, their marks,
reference prices and official images; sellers' authorisation requests; owners'
searches for their marks and infringement complaints.

A brand owner is a ``BrandOwner`` record staff create for an existing account, not
an account role: the accounts domain stays as it is, one person can speak for
several brands, and losing the right is deleting a row. Everything an owner touches
is scoped by ``owned_registration``; another brand's ids are 404s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.catalog import images as image_pipeline
from reelshop.catalog import service as catalog
from reelshop.catalog.models import Brand, Product
from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.outbox.service import emit
from reelshop.security import audit
from reelshop.sellers import documents
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage, new_key
from reelshop.trust import moderation
from reelshop.trust.image_match import hash_bytes
from reelshop.trust.models import (
    AuthorisationStatus,
    BrandAuthorisation,
    BrandImage,
    BrandOwner,
    BrandPriceRange,
    BrandRegistration,
    ComplaintStatus,
    InfringementComplaint,
)

AUTHORISATION_DECIDED = "brand.authorisation_decided"
MAX_ALIASES = 30
TRADEMARK = re.compile(r"^[A-Za-z0-9 ./-]{3,40}$")


def _audit(*, reason: str | None = None, **fields: Any) -> None:
    """The audit log keeps 200 characters of a reason; the full note stays on the row."""
    audit.record(reason=reason[:200] if reason else reason, **fields)


def _text(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    value = (value or "").strip()
    if len(value) < min_length:
        raise InvalidInput(f"{field.replace('_', ' ')} is required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is at most {max_length} characters", field=field)
    return value


def _aliases(values: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(cleaned) > MAX_ALIASES:
        raise InvalidInput(f"at most {MAX_ALIASES} aliases", field="aliases")
    for alias in cleaned:
        if len(alias) > 60:
            raise InvalidInput("an alias is at most 60 characters", field="aliases")
    return cleaned


def _classes(values: list[int]) -> list[int]:
    if any(not 1 <= c <= 45 for c in values):
        raise InvalidInput("trademark classes are Nice classes 1 to 45", field="trademark_classes")
    return sorted(set(values))


# --- registration (staff) ----------------------------------------------------------------


def register_brand(
    *,
    session: Session,
    staff_id: str,
    name: str,
    trademark_number: str,
    trademark_classes: list[int],
    aliases: list[str] | None = None,
) -> BrandRegistration:
    """Register a brand, linked to the catalog's brand of that name (created if new)."""
    name = _text(name, field="name", max_length=120)
    number = _text(trademark_number, field="trademark_number", max_length=40)
    if not TRADEMARK.match(number):
        raise InvalidInput(
            "a trademark number is 3-40 letters and digits", field="trademark_number"
        )
    brand = catalog.find_brand(session=session, name=name)
    if brand is None:
        slug = catalog.slugify(name)
        if not slug:
            raise InvalidInput("the name needs letters or digits", field="name")
        brand = Brand(name=name, slug=slug)
        session.add(brand)
        session.flush()
    if session.scalars(
        select(BrandRegistration).where(BrandRegistration.brand_id == brand.id)
    ).first():
        raise Conflict(f"{brand.name} is already registered", field="name")
    registration = BrandRegistration(
        brand_id=brand.id,
        aliases=_aliases(aliases or []),
        trademark_number=number,
        trademark_classes=_classes(trademark_classes),
        created_by=staff_id,
    )
    session.add(registration)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{brand.name} is already registered", field="name") from exc
    _audit(
        session=session,
        actor_id=staff_id,
        action="trust.brand.register",
        target_type="brand",
        target_id=brand.id,
        detail={"trademark_number": number},
    )
    return registration


def list_registrations(*, session: Session) -> list[tuple[BrandRegistration, Brand]]:
    return [
        (reg, brand)
        for reg, brand in session.execute(
            select(BrandRegistration, Brand)
            .join(Brand, Brand.id == BrandRegistration.brand_id)
            .order_by(Brand.name)
        ).all()
    ]


def verify_owner(
    *, session: Session, staff_id: str, brand_id: str, user_id: str, note: str
) -> BrandOwner:
    """Staff record that ``user_id`` speaks for the brand (after checking papers offline)."""
    registration = registration_for(session=session, brand_id=brand_id)
    user = session.get(User, user_id) if looks_like("usr", user_id) else None
    if user is None:
        raise NotFound("no such user")
    note = _text(note, field="note", max_length=1000)
    existing = session.scalars(
        select(BrandOwner).where(
            BrandOwner.brand_id == registration.brand_id, BrandOwner.user_id == user.id
        )
    ).first()
    if existing is not None:
        return existing
    owner = BrandOwner(
        brand_id=registration.brand_id,
        user_id=user.id,
        verified_by=staff_id,
        verification_note=note,
    )
    session.add(owner)
    session.flush()
    _audit(
        session=session,
        actor_id=staff_id,
        action="trust.brand.verify_owner",
        target_type="brand",
        target_id=registration.brand_id,
        detail={"user_id": user.id},
    )
    return owner


def registration_for(*, session: Session, brand_id: str) -> BrandRegistration:
    registration = (
        session.scalars(
            select(BrandRegistration).where(BrandRegistration.brand_id == brand_id)
        ).first()
        if looks_like("brd", brand_id)
        else None
    )
    if registration is None:
        raise NotFound("no such registered brand")
    return registration


def owned_brands(*, session: Session, user_id: str) -> list[Brand]:
    return list(
        session.scalars(
            select(Brand)
            .join(BrandOwner, BrandOwner.brand_id == Brand.id)
            .where(BrandOwner.user_id == user_id)
            .order_by(Brand.name)
        )
    )


def is_brand_owner(*, session: Session, user_id: str) -> bool:
    return (
        session.scalars(select(BrandOwner.id).where(BrandOwner.user_id == user_id)).first()
        is not None
    )


def owned_registration(*, session: Session, user_id: str, brand_id: str) -> BrandRegistration:
    """The brand's registration if ``user_id`` owns it; any other brand is a 404."""
    registration = registration_for(session=session, brand_id=brand_id)
    owns = session.scalars(
        select(BrandOwner.id).where(
            BrandOwner.brand_id == registration.brand_id, BrandOwner.user_id == user_id
        )
    ).first()
    if owns is None:
        raise NotFound("no such registered brand")
    return registration


# --- what owners maintain ----------------------------------------------------------------


def update_marks(
    *,
    session: Session,
    registration: BrandRegistration,
    aliases: list[str],
    trademark_classes: list[int] | None = None,
) -> BrandRegistration:
    registration.aliases = _aliases(aliases)
    if trademark_classes is not None:
        registration.trademark_classes = _classes(trademark_classes)
    session.flush()
    return registration


def add_price_range(
    *,
    session: Session,
    registration: BrandRegistration,
    product_line: str,
    keywords: list[str],
    currency: str,
    min_amount: int,
    max_amount: int,
) -> BrandPriceRange:
    line = _text(product_line, field="product_line", max_length=120)
    words = list(dict.fromkeys(k.strip() for k in keywords if k and k.strip()))[:20]
    if any(len(k) > 60 for k in words):
        raise InvalidInput("a keyword is at most 60 characters", field="keywords")
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        raise InvalidInput("currency is an ISO 4217 code such as USD", field="currency")
    if min_amount <= 0 or max_amount < min_amount:
        raise InvalidInput("prices are positive and min is at most max", field="min_amount")
    row = BrandPriceRange(
        brand_id=registration.brand_id,
        product_line=line,
        keywords=words,
        currency=currency,
        min_amount=min_amount,
        max_amount=max_amount,
    )
    session.add(row)
    session.flush()
    return row


def price_ranges(*, session: Session, brand_id: str) -> list[BrandPriceRange]:
    return list(
        session.scalars(
            select(BrandPriceRange)
            .where(BrandPriceRange.brand_id == brand_id)
            .order_by(BrandPriceRange.product_line)
        )
    )


def add_official_image(
    *, session: Session, registration: BrandRegistration, data: bytes, label: str
) -> BrandImage:
    """Store an official product photo (re-encoded like listing photos) and its hashes."""
    processed = image_pipeline.process(data)
    hashes = hash_bytes(processed.data)
    if hashes is None:
        raise InvalidInput("the image could not be read", field="file")
    key = new_key("brands", ".webp")
    get_storage().put(key, processed.data, content_type=processed.content_type)
    image = BrandImage(
        brand_id=registration.brand_id,
        label=(label or "").strip()[:120],
        storage_key=key,
        phash=hashes.phash,
        variant_hashes=list(hashes.variants),
    )
    session.add(image)
    session.flush()
    return image


def official_images(*, session: Session, brand_id: str) -> list[BrandImage]:
    return list(
        session.scalars(
            select(BrandImage)
            .where(BrandImage.brand_id == brand_id)
            .order_by(BrandImage.created_at)
        )
    )


# --- authorisation requests --------------------------------------------------------------


def request_authorisation(
    *,
    session: Session,
    seller: SellerProfile,
    brand_id: str,
    statement: str,
    filename: str,
    data: bytes,
) -> BrandAuthorisation:
    """A seller asks to sell a brand, with a document (PDF/PNG/JPEG judged by its bytes,
    stored sealed like KYC documents). Asking again after a rejection reopens the row."""
    registration = registration_for(session=session, brand_id=brand_id)
    statement = _text(statement, field="statement", max_length=2000)
    checked = documents.check_document(kind="brand_authorisation", filename=filename, data=data)
    row = session.scalars(
        select(BrandAuthorisation)
        .where(
            BrandAuthorisation.brand_id == registration.brand_id,
            BrandAuthorisation.seller_id == seller.id,
        )
        .with_for_update()
    ).first()
    if row is not None and row.status in (
        AuthorisationStatus.REQUESTED,
        AuthorisationStatus.APPROVED,
    ):
        raise Conflict(f"your request is already {row.status}", status=row.status)
    key = documents.store_sealed(checked.data, checked.content_type)
    if row is None:
        row = BrandAuthorisation(brand_id=registration.brand_id, seller_id=seller.id)
        session.add(row)
    row.status = AuthorisationStatus.REQUESTED
    row.statement = statement
    row.document_key = key
    row.document_name = checked.filename
    row.document_type = checked.content_type
    row.document_sha256 = checked.sha256
    row.decided_by = None
    row.decided_at = None
    row.decision_note = ""
    try:
        session.flush()
    except IntegrityError as exc:
        documents.discard([key])
        raise Conflict("a request for this brand was sent at the same time") from exc
    return row


def seller_authorisations(
    *, session: Session, seller_id: str
) -> list[tuple[BrandAuthorisation, Brand]]:
    return [
        (a, b)
        for a, b in session.execute(
            select(BrandAuthorisation, Brand)
            .join(Brand, Brand.id == BrandAuthorisation.brand_id)
            .where(BrandAuthorisation.seller_id == seller_id)
            .order_by(Brand.name)
        ).all()
    ]


@dataclass(frozen=True)
class AuthorisationRow:
    authorisation: BrandAuthorisation
    brand_name: str
    seller_name: str


def authorisation_requests(
    *, session: Session, brand_ids: list[str] | None, status: str | None = None
) -> list[AuthorisationRow]:
    """Requests for these brands (None: every brand, for staff)."""
    query = (
        select(BrandAuthorisation, Brand.name, SellerProfile.display_name)
        .join(Brand, Brand.id == BrandAuthorisation.brand_id)
        .join(SellerProfile, SellerProfile.id == BrandAuthorisation.seller_id)
        .order_by(BrandAuthorisation.created_at.desc())
        .limit(200)
    )
    if brand_ids is not None:
        query = query.where(BrandAuthorisation.brand_id.in_(brand_ids))
    if status:
        query = query.where(BrandAuthorisation.status == status)
    return [AuthorisationRow(a, b, s) for a, b, s in session.execute(query).all()]


def decide_authorisation(
    *,
    session: Session,
    authorisation_id: str,
    actor_id: str,
    approve: bool,
    note: str,
    as_staff: bool,
) -> BrandAuthorisation:
    """The brand's owner (or staff) approves or rejects; approval can later be revoked
    by deciding again with ``approve=False``. Another brand's request is a 404."""
    row = (
        session.scalars(
            select(BrandAuthorisation)
            .where(BrandAuthorisation.id == authorisation_id)
            .with_for_update()
        ).first()
        if looks_like("bau", authorisation_id)
        else None
    )
    if row is None:
        raise NotFound("no such authorisation request")
    if not as_staff:
        owned_registration(session=session, user_id=actor_id, brand_id=row.brand_id)
    note = (note or "").strip()[:1000]
    if approve:
        if row.status != AuthorisationStatus.REQUESTED:
            raise Conflict(f"this request is {row.status}", status=row.status)
        row.status = AuthorisationStatus.APPROVED
    else:
        if row.status not in (AuthorisationStatus.REQUESTED, AuthorisationStatus.APPROVED):
            raise Conflict(f"this request is {row.status}", status=row.status)
        row.status = (
            AuthorisationStatus.REVOKED
            if row.status == AuthorisationStatus.APPROVED
            else AuthorisationStatus.REJECTED
        )
    row.decided_by = actor_id
    row.decided_at = utcnow()
    row.decision_note = note
    emit(
        session=session,
        topic=AUTHORISATION_DECIDED,
        payload={"brand_id": row.brand_id, "seller_id": row.seller_id, "status": row.status},
        subject_id=row.id,
    )
    _audit(
        session=session,
        actor_id=actor_id,
        action=f"trust.brand.authorisation.{row.status}",
        target_type="brand_authorisation",
        target_id=row.id,
        reason=note or None,
        detail={"brand_id": row.brand_id, "seller_id": row.seller_id, "as_staff": as_staff},
    )
    session.flush()
    return row


def authorisation_document(
    *, session: Session, authorisation_id: str, user_id: str, as_staff: bool
) -> tuple[BrandAuthorisation, bytes]:
    row = (
        session.get(BrandAuthorisation, authorisation_id)
        if looks_like("bau", authorisation_id)
        else None
    )
    if row is None or row.document_key is None:
        raise NotFound("no such document")
    if not as_staff:
        owned_registration(session=session, user_id=user_id, brand_id=row.brand_id)
    return row, documents.load_sealed(row.document_key)


# --- marks search and complaints ---------------------------------------------------------


@dataclass(frozen=True)
class MarkHit:
    kind: str  # product | video
    id: str
    text: str
    seller_id: str | None
    moderation_status: str | None


def search_marks(
    *, session: Session, registration: BrandRegistration, q: str | None = None, limit: int = 50
) -> list[MarkHit]:
    """Listings and video captions naming the brand, an alias, a product line or ``q``."""
    brand = session.get(Brand, registration.brand_id)
    assert brand is not None
    terms = [brand.name, *registration.aliases]
    terms += [k for r in price_ranges(session=session, brand_id=brand.id) for k in r.keywords]
    if q and q.strip():
        terms = [q.strip()[:60]]
    terms = [t.lower() for t in terms if len(t) >= 2]
    if not terms:
        return []
    from sqlalchemy import func

    product_rows = session.execute(
        select(Product.id, Product.title, Product.seller_id, Product.moderation_status)
        .where(
            or_(
                *[func.lower(Product.title).contains(t, autoescape=True) for t in terms],
                *[func.lower(Product.brand_text) == t for t in terms],
                Product.brand_id == brand.id,
            )
        )
        .order_by(Product.updated_at.desc())
        .limit(limit)
    ).all()
    hits = [MarkHit("product", pid, title, sid, ms) for pid, title, sid, ms in product_rows]
    from reelshop.feed.models import Video

    video_rows = session.execute(
        select(Video.id, Video.caption, Video.seller_id)
        .where(or_(*[func.lower(Video.caption).contains(t, autoescape=True) for t in terms]))
        .limit(limit)
    ).all()
    hits += [MarkHit("video", vid, caption, sid, None) for vid, caption, sid in video_rows]
    return hits


def file_complaint(
    *,
    session: Session,
    registration: BrandRegistration,
    user_id: str,
    description: str,
    product_id: str | None = None,
    video_id: str | None = None,
) -> InfringementComplaint:
    """A brand owner's infringement complaint against a listing or a video; a listing
    also gets a case in the moderation queue."""
    description = _text(description, field="description", max_length=4000, min_length=10)
    if bool(product_id) == bool(video_id):
        raise InvalidInput("name one listing or one video", field="product_id")
    product = None
    if product_id:
        product = session.get(Product, product_id) if looks_like("prd", product_id) else None
        if product is None:
            raise NotFound("no such product")
    if video_id:
        from reelshop.feed.models import Video

        if not looks_like("vid", video_id) or session.get(Video, video_id) is None:
            raise NotFound("no such video")
    complaint = InfringementComplaint(
        brand_id=registration.brand_id,
        filed_by=user_id,
        product_id=product.id if product else None,
        video_id=video_id,
        description=description,
    )
    session.add(complaint)
    session.flush()
    if product is not None:
        locked = moderation.lock_product(session, product.id)
        score = 0
        from reelshop.trust.models import ListingAssessment

        assessment = session.get(ListingAssessment, product.id)
        if assessment is not None:
            score = assessment.score
        moderation.open_case(session=session, product=locked, source="complaint", risk_score=score)
    _audit(
        session=session,
        actor_id=user_id,
        action="trust.complaint.file",
        target_type="infringement_complaint",
        target_id=complaint.id,
        detail={"brand_id": registration.brand_id, "product_id": product_id, "video_id": video_id},
    )
    return complaint


def complaints(
    *, session: Session, brand_ids: list[str] | None, status: str | None = None
) -> list[InfringementComplaint]:
    query = (
        select(InfringementComplaint).order_by(InfringementComplaint.created_at.desc()).limit(200)
    )
    if brand_ids is not None:
        query = query.where(InfringementComplaint.brand_id.in_(brand_ids))
    if status:
        query = query.where(InfringementComplaint.status == status)
    return list(session.scalars(query))


def decide_complaint(
    *, session: Session, complaint_id: str, staff_id: str, uphold: bool, note: str
) -> InfringementComplaint:
    """Staff decide. Upholding takes the listing down and strikes its seller once."""
    note = _text(note, field="note", max_length=2000)
    complaint = (
        session.scalars(
            select(InfringementComplaint)
            .where(InfringementComplaint.id == complaint_id)
            .with_for_update()
        ).first()
        if looks_like("icp", complaint_id)
        else None
    )
    if complaint is None:
        raise NotFound("no such complaint")
    if complaint.status != ComplaintStatus.OPEN:
        raise Conflict(f"this complaint was already {complaint.status}", status=complaint.status)
    complaint.status = ComplaintStatus.UPHELD if uphold else ComplaintStatus.DISMISSED
    complaint.decided_by = staff_id
    complaint.decided_at = utcnow()
    complaint.decision_note = note
    if uphold and complaint.product_id:
        product = session.get(Product, complaint.product_id)
        assert product is not None
        moderation.take_down_listing(
            session=session,
            product_id=product.id,
            actor_id=staff_id,
            reason=f"infringement complaint upheld: {note}",
            ref=complaint.id,
        )
        moderation.add_strike(
            session=session,
            seller_id=product.seller_id,
            reason=f"infringement complaint upheld: {note}",
            ref=f"complaint:{complaint.id}",
            actor_id=staff_id,
        )
    _audit(
        session=session,
        actor_id=staff_id,
        action="trust.complaint." + ("uphold" if uphold else "dismiss"),
        target_type="infringement_complaint",
        target_id=complaint.id,
        reason=note,
    )
    session.flush()
    return complaint
