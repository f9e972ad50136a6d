"""Seller profiles, the rule of who may sell where, and vetting: invitations,
applications with KYC documents, and staff decisions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel import Locale
from sqlalchemy import String, column, func, select, table
from sqlalchemy.orm import Session

from reelshop.accounts.models import Role, User
from reelshop.db import utcnow
from reelshop.errors import Conflict, Forbidden, InvalidInput, NotFound, ProblemError, problem_type
from reelshop.ids import looks_like
from reelshop.markets import service as markets
from reelshop.markets.models import OnboardingMode
from reelshop.outbox.service import emit
from reelshop.security import audit, keys
from reelshop.sellers import documents
from reelshop.sellers.models import (
    REVIEWABLE,
    ApplicationDecision,
    ApplicationStatus,
    DocumentKind,
    SellerApplication,
    SellerDocument,
    SellerInvitation,
    SellerProfile,
    SellerStatus,
)


def get_seller(*, session: Session, seller_id: str) -> SellerProfile:
    seller = session.get(SellerProfile, seller_id) if looks_like("sel", seller_id) else None
    if seller is None:
        raise NotFound("no such seller")
    return seller


def seller_for_user(*, session: Session, user_id: str) -> SellerProfile | None:
    return session.scalars(select(SellerProfile).where(SellerProfile.user_id == user_id)).first()


def own_shop(*, session: Session, user_id: str) -> SellerProfile:
    """The shop of a seller account acting on its own shop; an account without one is
    refused (403), as a seller route's caller who has not opened a shop yet."""
    seller = seller_for_user(session=session, user_id=user_id)
    if seller is None:
        raise Forbidden("this account has no shop yet")
    return seller


def can_sell(seller: SellerProfile, *, market_code: str, category_slug: str | None = None) -> bool:
    """Approved, in this market, and (when given) in this category's top-level branch."""
    if seller.status != SellerStatus.APPROVED or market_code not in seller.market_codes:
        return False
    if category_slug is None or not seller.categories:
        return True
    top = category_slug.split("/")[0]
    return top in seller.categories


def assert_can_sell(
    seller: SellerProfile, *, market_code: str, category_slug: str | None = None
) -> None:
    if not can_sell(seller, market_code=market_code, category_slug=category_slug):
        raise Forbidden(
            f"{seller.display_name} is not approved to sell"
            + (f" in {category_slug}" if category_slug else "")
            + f" in market {market_code}"
        )


# --- vetting: invitations, applications, decisions -------------------------------------

INVITATION_TTL = timedelta(days=14)
REQUIRED_DOCUMENTS = (DocumentKind.BUSINESS_LICENCE, DocumentKind.IDENTITY)
# Used when the catalog has no category tree yet (a fresh database before the seed).
FALLBACK_CATEGORIES = (
    "beauty",
    "fashion",
    "electronics",
    "home",
    "sports",
    "toys",
    "pets",
    "kitchen",
    "jewelry",
    "phone-accessories",
)
_NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"}
_TIMEZONES = {
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "VN": "Asia/Ho_Chi_Minh",
    "GB": "Europe/London",
    "US": "America/New_York",
}

INVITATION_REQUIRED = problem_type(
    "seller-invitation-required", 403, "This market accepts sellers by invitation only"
)
INVITATION_INVALID = problem_type(
    "seller-invitation-invalid", 403, "The invitation is unknown, used, revoked or expired"
)
APPLICATION_EXISTS = problem_type(
    "seller-application-exists", 409, "This account has already applied to sell"
)
ALREADY_DECIDED = problem_type(
    "seller-application-not-reviewable", 409, "The application is not waiting for a review"
)


@dataclass(frozen=True)
class BusinessDetails:
    display_name: str
    legal_name: str
    registration_number: str
    country: str
    ships_from_country: str
    categories: list[str]
    market_codes: list[str]


@dataclass(frozen=True)
class DocumentUpload:
    kind: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: SellerInvitation
    token: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class QueuePage:
    applications: list[SellerApplication]
    total: int


def country_name(code: str, locale: str = "en") -> str:
    return str(Locale.parse(locale).territories.get(code, code))


def flag_emoji(code: str) -> str:
    if len(code) != 2 or not code.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code.upper())


def is_country(code: str) -> bool:
    return (
        len(code) == 2
        and code.isalpha()
        and code.isupper()
        and code not in _NOT_COUNTRIES
        and code in Locale.parse("en").territories
    )


def country_choices() -> list[tuple[str, str]]:
    names = Locale.parse("en").territories
    return sorted(
        ((code, str(name)) for code, name in names.items() if is_country(code)),
        key=lambda pair: pair[1],
    )


_categories = table("categories", column("slug", String), column("parent_id", String))


def category_choices(*, session: Session) -> list[str]:
    """Top-level catalog category slugs, read from the table by name: sellers sit below
    catalog in the dependency order, so this module cannot import catalog's models."""
    slugs = list(
        session.scalars(
            select(_categories.c.slug)
            .where(_categories.c.parent_id.is_(None))
            .order_by(_categories.c.slug)
        )
    )
    return slugs or list(FALLBACK_CATEGORIES)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_token_context(invitation_id: str) -> str:
    return f"seller.invited.token:{invitation_id}"


def invitation_state(invitation: SellerInvitation, *, now: datetime | None = None) -> str:
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.used_at is not None:
        return "used"
    if invitation.expires_at <= (now or utcnow()):
        return "expired"
    return "open"


def invite_seller(
    *,
    session: Session,
    staff: User,
    email: str,
    business_name: str,
    market_code: str,
    ttl: timedelta = INVITATION_TTL,
) -> IssuedInvitation:
    email = email.strip()
    business_name = business_name.strip()
    if "@" not in email or len(email) < 3 or len(email) > 320:
        raise InvalidInput("enter the business's email address", field="email")
    if not 2 <= len(business_name) <= 160:
        raise InvalidInput("enter the business's name (2-160 characters)", field="business_name")
    market = markets.get_market(session=session, code=market_code)
    token = secrets.token_urlsafe(32)
    invitation = SellerInvitation(
        email_hash=keys.email_lookup_hash(email),
        email=email,
        business_name=business_name,
        market_code=market.code,
        token_hash=_token_hash(token),
        invited_by=staff.id,
        expires_at=utcnow() + ttl,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session=session,
        actor_id=staff.id,
        action="seller.invited",
        target_type="seller_invitation",
        target_id=invitation.id,
        detail={"market": market.code, "business_name": business_name},
    )
    emit(
        session=session,
        topic="seller.invited",
        payload={
            "invitation_id": invitation.id,
            "market": market.code,
            # The worker emails the token; at rest in the outbox it stays sealed.
            "sealed_token": keys.cipher().encrypt(
                token, context=invitation_token_context(invitation.id)
            ),
        },
        subject_id=invitation.id,
    )
    return IssuedInvitation(invitation, token)


def list_invitations(*, session: Session, limit: int = 100) -> list[SellerInvitation]:
    return list(
        session.scalars(
            select(SellerInvitation).order_by(SellerInvitation.created_at.desc()).limit(limit)
        )
    )


def revoke_invitation(*, session: Session, staff: User, invitation_id: str) -> SellerInvitation:
    invitation = session.get(SellerInvitation, invitation_id)
    if invitation is None:
        raise NotFound("no such invitation")
    if invitation.used_at is not None:
        raise Conflict("the invitation has already been used")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(
            session=session,
            actor_id=staff.id,
            action="seller.invitation_revoked",
            target_type="seller_invitation",
            target_id=invitation.id,
        )
        session.flush()
    return invitation


def find_invitation(*, session: Session, token: str) -> SellerInvitation | None:
    """The open invitation a token names, or None (never says why: tokens are secrets)."""
    if not token or len(token) > 200:
        return None
    invitation = session.scalars(
        select(SellerInvitation)
        .where(SellerInvitation.token_hash == _token_hash(token))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if invitation is None or invitation_state(invitation) != "open":
        return None
    return invitation


def _clean_details(session: Session, details: BusinessDetails) -> BusinessDetails:
    display_name = details.display_name.strip()
    legal_name = details.legal_name.strip()
    registration = details.registration_number.strip()
    country = details.country.strip().upper()
    ships_from = details.ships_from_country.strip().upper()
    if not 2 <= len(display_name) <= 120:
        raise InvalidInput("the shop name needs 2-120 characters", field="display_name")
    if not 2 <= len(legal_name) <= 200:
        raise InvalidInput("the legal name needs 2-200 characters", field="legal_name")
    if not 2 <= len(registration) <= 64:
        raise InvalidInput(
            "the registration number needs 2-64 characters", field="registration_number"
        )
    if not is_country(country):
        raise InvalidInput(f"unknown country {country!r}", field="country")
    if not is_country(ships_from):
        raise InvalidInput(f"unknown ship-from country {ships_from!r}", field="ships_from_country")
    categories = sorted({c.strip() for c in details.categories if c.strip()})
    allowed = set(category_choices(session=session))
    unknown = [c for c in categories if c not in allowed]
    if not categories or unknown:
        raise InvalidInput(
            f"choose categories from: {', '.join(sorted(allowed))}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
            field="categories",
        )
    market_codes = sorted({m.strip().upper() for m in details.market_codes if m.strip()})
    if not market_codes:
        raise InvalidInput("choose at least one market to sell in", field="market_codes")
    for code in market_codes:
        markets.get_market(session=session, code=code)
    return BusinessDetails(
        display_name, legal_name, registration, country, ships_from, categories, market_codes
    )


def _check_documents(
    uploads: list[DocumentUpload], *, required: tuple[DocumentKind, ...]
) -> list[documents.CheckedDocument]:
    kinds = {k.value for k in DocumentKind}
    checked = []
    for upload in uploads:
        if upload.kind not in kinds:
            raise InvalidInput(f"unknown document kind {upload.kind!r}", field="documents")
        checked.append(
            documents.check_document(kind=upload.kind, filename=upload.filename, data=upload.data)
        )
    missing = [k.value for k in required if k.value not in {c.kind for c in checked}]
    if missing:
        raise InvalidInput(
            f"upload these documents: {', '.join(m.replace('_', ' ') for m in missing)}",
            field=missing[0],
        )
    return checked


def _attach_documents(
    session: Session, application: SellerApplication, checked: list[documents.CheckedDocument]
) -> None:
    stored: list[str] = []
    try:
        for doc in checked:
            key = documents.store_sealed(doc.data, doc.content_type)
            stored.append(key)
            session.add(
                SellerDocument(
                    application_id=application.id,
                    kind=doc.kind,
                    filename=doc.filename,
                    storage_key=key,
                    content_type=doc.content_type,
                    size_bytes=len(doc.data),
                    sha256=doc.sha256,
                )
            )
        session.flush()
    except BaseException:
        documents.discard(stored)
        raise


def _record_step(
    session: Session,
    application: SellerApplication,
    *,
    actor: User,
    outcome: ApplicationStatus,
    note: str | None = None,
    market_codes: list[str] | None = None,
    categories: list[str] | None = None,
) -> ApplicationDecision:
    decision = ApplicationDecision(
        application_id=application.id,
        actor_id=actor.id,
        outcome=outcome.value,
        note=note,
        market_codes=market_codes or [],
        categories=categories or [],
    )
    session.add(decision)
    session.flush()
    audit.record(
        session=session,
        actor_id=actor.id,
        action=f"seller_application.{outcome.value}",
        target_type="seller_application",
        target_id=application.id,
        reason=note,
        detail={"market_codes": market_codes or [], "categories": categories or []},
    )
    return decision


def application_for_user(*, session: Session, user_id: str) -> SellerApplication | None:
    return session.scalars(
        select(SellerApplication).where(SellerApplication.user_id == user_id)
    ).first()


def submit_application(
    *,
    session: Session,
    applicant: User,
    details: BusinessDetails,
    uploads: list[DocumentUpload],
    invitation_token: str | None = None,
) -> SellerApplication:
    """Everything is checked before anything is written; documents are stored last."""
    if applicant.role != Role.SELLER:
        raise Forbidden("only a seller account can apply to sell")
    if application_for_user(session=session, user_id=applicant.id) is not None:
        raise ProblemError("you have already applied; see its status", problem=APPLICATION_EXISTS)
    existing = seller_for_user(session=session, user_id=applicant.id)
    if existing is not None and existing.status == SellerStatus.APPROVED:
        raise ProblemError("this account already sells", problem=APPLICATION_EXISTS)
    if existing is not None and existing.status == SellerStatus.SUSPENDED:
        # A suspension is lifted by trust & safety, not by applying again.
        raise Forbidden("this seller account is suspended; contact seller support")
    details = _clean_details(session, details)

    invitation: SellerInvitation | None = None
    if invitation_token:
        invitation = find_invitation(session=session, token=invitation_token.strip())
        if invitation is None or invitation.email_hash != keys.email_lookup_hash(applicant.email):
            raise ProblemError(
                "this invitation cannot be used: it is unknown, already used, revoked, "
                "expired or meant for another email address",
                problem=INVITATION_INVALID,
            )
    for code in details.market_codes:
        market = markets.get_market(session=session, code=code)
        if market.onboarding_mode == OnboardingMode.INVITE_ONLY and (
            invitation is None or invitation.market_code != code
        ):
            raise ProblemError(
                f"{market.name} accepts sellers by invitation only; apply with the "
                "invitation our team sent you",
                problem=INVITATION_REQUIRED,
                market=code,
            )
    checked = _check_documents(uploads, required=REQUIRED_DOCUMENTS)

    now = utcnow()
    application = SellerApplication(
        user_id=applicant.id,
        invitation_id=invitation.id if invitation else None,
        display_name=details.display_name,
        legal_name=details.legal_name,
        registration_number=details.registration_number,
        country=details.country,
        ships_from_country=details.ships_from_country,
        categories=details.categories,
        market_codes=details.market_codes,
        status=ApplicationStatus.SUBMITTED,
        submitted_at=now,
    )
    session.add(application)
    if invitation is not None:
        invitation.used_at = now
    session.flush()
    _attach_documents(session, application, checked)
    _record_step(session, application, actor=applicant, outcome=ApplicationStatus.SUBMITTED)
    emit(
        session=session,
        topic="seller.application_submitted",
        payload={"application_id": application.id, "user_id": applicant.id},
        subject_id=application.id,
    )
    return application


def get_application(
    *, session: Session, application_id: str, viewer: User, reviewer: bool = False
) -> SellerApplication:
    """The application, for its applicant or a reviewer; anyone else gets a 404."""
    application = (
        session.get(SellerApplication, application_id)
        if looks_like("apl", application_id)
        else None
    )
    if application is None or not (reviewer or application.user_id == viewer.id):
        raise NotFound("no such seller application")
    return application


def _lock_application(session: Session, application_id: str) -> SellerApplication:
    application = (
        session.scalars(
            select(SellerApplication)
            .where(SellerApplication.id == application_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if looks_like("apl", application_id)
        else None
    )
    if application is None:
        raise NotFound("no such seller application")
    return application


def resubmit_application(
    *,
    session: Session,
    applicant: User,
    application_id: str,
    uploads: list[DocumentUpload],
    details: BusinessDetails | None = None,
    note: str | None = None,
) -> SellerApplication:
    """Answer a request for information: changed details and/or more documents."""
    application = _lock_application(session, application_id)
    if application.user_id != applicant.id:
        raise NotFound("no such seller application")
    if application.status != ApplicationStatus.INFO_REQUESTED:
        raise ProblemError(
            "you can change the application only when our team asked for more information",
            problem=ALREADY_DECIDED,
        )
    note = (note or "").strip()[:2000] or None
    checked = _check_documents(uploads, required=())
    if details is not None:
        details = _clean_details(session, details)
        if set(details.market_codes) - set(application.market_codes):
            raise InvalidInput(
                "new markets need a new application; keep the markets you applied for",
                field="market_codes",
            )
        application.display_name = details.display_name
        application.legal_name = details.legal_name
        application.registration_number = details.registration_number
        application.country = details.country
        application.ships_from_country = details.ships_from_country
        application.categories = details.categories
        application.market_codes = details.market_codes
    if not checked and details is None and note is None:
        raise InvalidInput("add a document, change a detail or write a reply", field="note")
    application.status = ApplicationStatus.RESUBMITTED
    session.flush()
    _attach_documents(session, application, checked)
    _record_step(
        session, application, actor=applicant, outcome=ApplicationStatus.RESUBMITTED, note=note
    )
    emit(
        session=session,
        topic="seller.application_resubmitted",
        payload={"application_id": application.id, "user_id": applicant.id},
        subject_id=application.id,
    )
    return application


def review_queue(
    *,
    session: Session,
    statuses: list[str] | None = None,
    country: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> QueuePage:
    """Applications oldest first; by default the ones waiting for a reviewer."""
    wanted = statuses or [s.value for s in REVIEWABLE]
    unknown = set(wanted) - {s.value for s in ApplicationStatus}
    if unknown:
        raise InvalidInput(f"unknown status {sorted(unknown)[0]!r}", field="status")
    query = select(SellerApplication).where(SellerApplication.status.in_(wanted))
    if country:
        query = query.where(SellerApplication.country == country.strip().upper())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(SellerApplication.submitted_at, SellerApplication.id)
        .limit(max(1, min(limit, 200)))
        .offset(max(0, offset))
    )
    return QueuePage(list(rows), total)


def _ensure_reviewable(application: SellerApplication) -> None:
    if application.status not in REVIEWABLE:
        raise ProblemError(
            f"the application is {application.status.replace('_', ' ')}; "
            "it is not waiting for a review",
            problem=ALREADY_DECIDED,
            application_status=application.status,
        )


def approve_application(
    *,
    session: Session,
    staff: User,
    application_id: str,
    market_codes: list[str],
    categories: list[str],
) -> SellerApplication:
    """Approve for the chosen markets and categories (a subset of what was asked for);
    the applicant's seller profile is created or updated to match."""
    application = _lock_application(session, application_id)
    _ensure_reviewable(application)
    chosen_markets = sorted({m.strip().upper() for m in market_codes if m.strip()})
    chosen_categories = sorted({c.strip() for c in categories if c.strip()})
    if not chosen_markets or set(chosen_markets) - set(application.market_codes):
        raise InvalidInput(
            "approve one or more of the markets applied for: "
            + ", ".join(application.market_codes),
            field="market_codes",
        )
    if not chosen_categories or set(chosen_categories) - set(application.categories):
        raise InvalidInput(
            f"approve one or more of the categories applied for: "
            f"{', '.join(application.categories)}",
            field="categories",
        )
    now = utcnow()
    currency = markets.get_market(session=session, code=chosen_markets[0]).currency
    seller = seller_for_user(session=session, user_id=application.user_id)
    if seller is None:
        seller = SellerProfile(user_id=application.user_id, created_at=now)
        session.add(seller)
    seller.display_name = application.display_name
    seller.legal_name = application.legal_name
    seller.registration_number = application.registration_number
    seller.country = application.country
    seller.ships_from_country = application.ships_from_country
    seller.timezone = _TIMEZONES.get(application.ships_from_country, "UTC")
    seller.currency = currency
    seller.market_codes = chosen_markets
    seller.categories = chosen_categories
    seller.status = SellerStatus.APPROVED
    seller.approved_at = now
    session.flush()
    application.status = ApplicationStatus.APPROVED
    application.decided_at = now
    application.seller_id = seller.id
    _record_step(
        session,
        application,
        actor=staff,
        outcome=ApplicationStatus.APPROVED,
        market_codes=chosen_markets,
        categories=chosen_categories,
    )
    emit(
        session=session,
        topic="seller.approved",
        payload={
            "application_id": application.id,
            "seller_id": seller.id,
            "user_id": application.user_id,
            "market_codes": chosen_markets,
            "categories": chosen_categories,
        },
        subject_id=seller.id,
    )
    return application


def _staff_note(text: str, *, field: str, what: str) -> str:
    text = text.strip()
    if not 3 <= len(text) <= 2000:
        raise InvalidInput(f"write {what} (3-2000 characters)", field=field)
    return text


def reject_application(
    *, session: Session, staff: User, application_id: str, reason: str
) -> SellerApplication:
    reason = _staff_note(reason, field="reason", what="the reason the applicant will read")
    application = _lock_application(session, application_id)
    _ensure_reviewable(application)
    application.status = ApplicationStatus.REJECTED
    application.decided_at = utcnow()
    _record_step(session, application, actor=staff, outcome=ApplicationStatus.REJECTED, note=reason)
    emit(
        session=session,
        topic="seller.rejected",
        payload={
            "application_id": application.id,
            "user_id": application.user_id,
            "reason": reason,
        },
        subject_id=application.id,
    )
    return application


def request_information(
    *, session: Session, staff: User, application_id: str, message: str
) -> SellerApplication:
    message = _staff_note(message, field="message", what="what the applicant should send")
    application = _lock_application(session, application_id)
    _ensure_reviewable(application)
    application.status = ApplicationStatus.INFO_REQUESTED
    _record_step(
        session, application, actor=staff, outcome=ApplicationStatus.INFO_REQUESTED, note=message
    )
    emit(
        session=session,
        topic="seller.info_requested",
        payload={
            "application_id": application.id,
            "user_id": application.user_id,
            "message": message,
        },
        subject_id=application.id,
    )
    return application


def open_document(
    *,
    session: Session,
    viewer: User,
    application_id: str,
    document_id: str,
    reviewer: bool = False,
) -> tuple[SellerDocument, bytes]:
    """A document's bytes, for its applicant or a reviewer (404 for anyone else)."""
    application = get_application(
        session=session, application_id=application_id, viewer=viewer, reviewer=reviewer
    )
    document = next((d for d in application.documents if d.id == document_id), None)
    if document is None:
        raise NotFound("no such document")
    return document, documents.load_sealed(document.storage_key)


def public_seller(*, session: Session, seller_id: str) -> SellerProfile:
    """A seller as shoppers may see it: only approved shops are public."""
    seller = get_seller(session=session, seller_id=seller_id)
    if seller.status != SellerStatus.APPROVED:
        raise NotFound("no such seller")
    return seller


def actor_names(*, session: Session, user_ids: set[str]) -> dict[str, str]:
    """Display names of the people in an application's history."""
    if not user_ids:
        return {}
    users = session.scalars(select(User).where(User.id.in_(user_ids)))
    return {u.id: u.name for u in users}
