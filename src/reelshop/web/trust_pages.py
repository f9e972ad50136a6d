"""HTML pages of trust and safety: the report dialog's target, the staff moderation
queue and case view, strike appeals and the brand registry for staff, and the
seller's brand authorisations and strikes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reelshop.accounts.models import StaffPermission
from reelshop.catalog.models import Product, ProductImage
from reelshop.errors import InvalidInput, NotFound
from reelshop.money import Money
from reelshop.security.authz import (
    DbSession,
    Principal,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.security.models import AuditEntry
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage
from reelshop.trust import brands, reports, service
from reelshop.trust.models import BrandImage
from reelshop.web.forms import PostedForm
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

TrustStaff = Annotated[Principal, Depends(require_staff(StaffPermission.TRUST_SAFETY))]
MAX_UPLOAD = 5 * 1024 * 1024 + 1
SIGNAL_LABELS = {
    "disguised_brand": "Disguised brand name",
    "brand_mention": "Brand named by an unauthorised seller",
    "unbranded_but_named": "“Unbranded” but names a brand",
    "counterfeit_words": "Counterfeit vocabulary",
    "price_far_below": "Price far below reference",
    "price_below": "Price below reference",
    "official_image": "Copy of an official photo",
    "new_seller": "New shop",
    "seller_strikes": "Seller strikes",
    "ships_from": "Ships-from risk",
    "category_takedowns": "Take-downs in category",
    "shopper_reports": "Shopper reports",
}


def _field(form: Any, name: str, default: str = "") -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else default


# --- shoppers: the report dialog posts here ---------------------------------------------


@router.post("/products/{product_id}/report", response_class=HTMLResponse)
def report_listing(
    request: Request,
    product_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    report = reports.submit_report(
        session=session,
        reporter_id=principal.id,
        product_id=product_id,
        kind=_field(form, "kind"),
        reason=_field(form, "reason"),
    )
    return render(request, "trust/report_done.html", {"report": report})


# --- staff: queue and case view ---------------------------------------------------------


@router.get("/staff/trust/cases", response_class=HTMLResponse)
def queue_page(request: Request, principal: TrustStaff, session: DbSession) -> Response:
    rows = service.queue(session=session)
    return render(
        request,
        "trust/queue.html",
        {
            "rows": [
                {
                    "row": row,
                    "exposure": Money(row.case.gmv_exposure_amount, row.case.currency),
                }
                for row in rows
            ]
        },
    )


def _highlight(evidence: dict[str, Any]) -> dict[str, str] | None:
    text = evidence.get("text")
    start, end = evidence.get("start"), evidence.get("end")
    if not isinstance(text, str) or not isinstance(start, int) or not isinstance(end, int):
        return None
    if not 0 <= start <= end <= len(text):
        return None
    return {"before": text[:start], "match": text[start:end], "after": text[end:]}


def _signals(session: Session, product: Product, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    images = session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position)
    ).all()
    out = []
    for signal in raw:
        evidence = signal.get("evidence") or {}
        item: dict[str, Any] = {
            "kind": signal["kind"],
            "label": SIGNAL_LABELS.get(signal["kind"], signal["kind"]),
            "points": signal["points"],
            "summary": signal["summary"],
            "highlight": _highlight(evidence),
            "field": evidence.get("field"),
        }
        if "min" in evidence and "price" in evidence:
            currency = str(evidence.get("currency") or product.currency)
            item["price"] = {
                "listing": Money(int(evidence["price"]), currency),
                "min": Money(int(evidence["min"]), currency),
                "max": Money(int(evidence["max"]), currency),
                "line": evidence.get("line"),
                "percent": round(float(evidence.get("ratio", 0)) * 100),
            }
        if signal["kind"] == "official_image":
            index = int(evidence.get("listing_image", 0))
            listing = images[index] if index < len(images) else None
            item["pair"] = {
                "listing": f"/media/{listing.storage_key}"
                if listing and listing.storage_key
                else None,
                "official": f"/staff/trust/official-images/{evidence.get('official_image_id')}",
                "distance": evidence.get("distance"),
            }
        out.append(item)
    return out


def _trail(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    entries = session.scalars(
        select(AuditEntry)
        .where(or_(AuditEntry.target_id.in_(ids), AuditEntry.detail["ref"].as_string().in_(ids)))
        .order_by(AuditEntry.seq)
        .limit(100)
    ).all()
    names = sellers.actor_names(
        session=session, user_ids={e.actor_id for e in entries if e.actor_id}
    )
    return [
        {
            "at": e.created_at,
            "action": e.action,
            "actor": names.get(e.actor_id or "", "system"),
            "reason": e.reason,
        }
        for e in entries
    ]


@router.get("/staff/trust/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request, case_id: str, principal: TrustStaff, session: DbSession
) -> Response:
    view = service.case_view(session=session, case_id=case_id)
    seller = session.get(SellerProfile, view.case.seller_id)
    return render(
        request,
        "trust/case.html",
        {
            "view": view,
            "seller": seller,
            "strikes": service.active_strikes(session=session, seller_id=view.case.seller_id),
            "exposure": Money(view.case.gmv_exposure_amount, view.case.currency),
            "signals": _signals(
                session, view.product, view.assessment.signals if view.assessment else []
            ),
            "trail": _trail(session, [view.case.id, view.product.id, f"case:{view.case.id}"]),
            "history": service.case_history(session=session, product_id=view.product.id),
            "open": view.case.status in ("open", "escalated"),
        },
    )


@router.post("/staff/trust/cases/{case_id}/decide", response_class=HTMLResponse)
def decide_case(
    request: Request, case_id: str, principal: TrustStaff, session: DbSession, form: PostedForm
) -> Response:
    service.decide_case(
        session=session,
        case_id=case_id,
        action=_field(form, "action"),
        actor_id=principal.id,
        note=_field(form, "note"),
        strike=_field(form, "strike") == "1",
    )
    return RedirectResponse(f"/staff/trust/cases/{case_id}", status_code=303)


@router.get("/staff/trust/official-images/{image_id}")
def official_image(image_id: str, principal: TrustStaff, session: DbSession) -> Response:
    return _official_image_bytes(session, image_id)


def _official_image_bytes(session: Session, image_id: str) -> Response:
    image = session.get(BrandImage, image_id) if image_id.startswith("bim_") else None
    if image is None or image.storage_key is None:
        raise NotFound("no such image")
    data = get_storage().get(image.storage_key)
    return Response(
        data, media_type="image/webp", headers={"Cache-Control": "private, max-age=3600"}
    )


# --- staff: appeals and the brand registry -----------------------------------------------


@router.get("/staff/trust/appeals", response_class=HTMLResponse)
def appeals_page(request: Request, principal: TrustStaff, session: DbSession) -> Response:
    appeals = service.list_appeals(session=session, status="open")
    names = {
        s.id: s.display_name
        for s in session.scalars(
            select(SellerProfile).where(SellerProfile.id.in_([a.seller_id for a in appeals]))
        )
    }
    return render(request, "trust/appeals.html", {"appeals": appeals, "names": names})


@router.post("/staff/trust/appeals/{appeal_id}/decide", response_class=HTMLResponse)
def decide_appeal(
    request: Request, appeal_id: str, principal: TrustStaff, session: DbSession, form: PostedForm
) -> Response:
    service.decide_appeal(
        session=session,
        appeal_id=appeal_id,
        grant=_field(form, "decision") == "grant",
        actor_id=principal.id,
        note=_field(form, "note"),
    )
    return RedirectResponse("/staff/trust/appeals", status_code=303)


@router.get("/staff/trust/brands", response_class=HTMLResponse)
def registry_page(request: Request, principal: TrustStaff, session: DbSession) -> Response:
    return render(
        request,
        "trust/registry.html",
        {
            "registrations": brands.list_registrations(session=session),
            "complaints": brands.complaints(session=session, brand_ids=None, status="open"),
            "requests": brands.authorisation_requests(
                session=session, brand_ids=None, status="requested"
            ),
        },
    )


def _classes(raw: str) -> list[int]:
    try:
        return [int(x) for x in raw.replace(",", " ").split()]
    except ValueError:
        raise InvalidInput(
            "trademark classes are numbers 1 to 45", field="trademark_classes"
        ) from None


@router.post("/staff/trust/brands", response_class=HTMLResponse)
def register_brand(
    request: Request, principal: TrustStaff, session: DbSession, form: PostedForm
) -> Response:
    brands.register_brand(
        session=session,
        staff_id=principal.id,
        name=_field(form, "name"),
        trademark_number=_field(form, "trademark_number"),
        trademark_classes=_classes(_field(form, "trademark_classes")),
        aliases=[a for a in _field(form, "aliases").split(",") if a.strip()],
    )
    return RedirectResponse("/staff/trust/brands", status_code=303)


@router.post("/staff/trust/brands/{brand_id}/owners", response_class=HTMLResponse)
def verify_owner(
    request: Request, brand_id: str, principal: TrustStaff, session: DbSession, form: PostedForm
) -> Response:
    from reelshop.accounts import service as accounts

    user = accounts.find_user_by_email(session=session, email=_field(form, "email"))
    if user is None:
        raise NotFound("no account with that email")
    brands.verify_owner(
        session=session,
        staff_id=principal.id,
        brand_id=brand_id,
        user_id=user.id,
        note=_field(form, "note"),
    )
    return RedirectResponse("/staff/trust/brands", status_code=303)


@router.post("/staff/trust/complaints/{complaint_id}/decide", response_class=HTMLResponse)
def decide_complaint(
    request: Request, complaint_id: str, principal: TrustStaff, session: DbSession, form: PostedForm
) -> Response:
    brands.decide_complaint(
        session=session,
        complaint_id=complaint_id,
        staff_id=principal.id,
        uphold=_field(form, "decision") == "uphold",
        note=_field(form, "note"),
    )
    return RedirectResponse("/staff/trust/brands", status_code=303)


@router.post("/staff/trust/authorisations/{authorisation_id}/decide", response_class=HTMLResponse)
def staff_decide_authorisation(
    request: Request,
    authorisation_id: str,
    principal: TrustStaff,
    session: DbSession,
    form: PostedForm,
) -> Response:
    brands.decide_authorisation(
        session=session,
        authorisation_id=authorisation_id,
        actor_id=principal.id,
        approve=_field(form, "decision") == "approve",
        note=_field(form, "note"),
        as_staff=True,
    )
    return RedirectResponse("/staff/trust/brands", status_code=303)


# --- sellers: brand authorisations and strikes -------------------------------------------


def _seller(session: Session, principal: Principal) -> SellerProfile:
    return sellers.own_shop(session=session, user_id=principal.id)


@router.get("/seller/brands", response_class=HTMLResponse)
def seller_brands(request: Request, principal: SellerPrincipal, session: DbSession) -> Response:
    seller = _seller(session, principal)
    return render(
        request,
        "trust/seller_brands.html",
        {
            "authorisations": brands.seller_authorisations(session=session, seller_id=seller.id),
            "registrations": brands.list_registrations(session=session),
            "strikes": service.list_strikes(session=session, seller_id=seller.id),
            "appealed": {
                a.strike_id: a
                for a in service.list_appeals(session=session)
                if a.seller_id == seller.id
            },
            "sent": request.query_params.get("sent") == "1",
        },
    )


@router.post("/seller/brands/request", response_class=HTMLResponse)
async def request_authorisation(
    request: Request, principal: SellerPrincipal, session: DbSession
) -> Response:
    form = await request.form()
    upload = form.get("document")
    data = b""
    filename = "document"
    if upload is not None and not isinstance(upload, str):
        data = await upload.read(MAX_UPLOAD)
        filename = upload.filename or filename
    brand_id = form.get("brand_id")
    statement = form.get("statement")
    from starlette.concurrency import run_in_threadpool

    def work() -> None:
        brands.request_authorisation(
            session=session,
            seller=_seller(session, principal),
            brand_id=brand_id if isinstance(brand_id, str) else "",
            statement=statement if isinstance(statement, str) else "",
            filename=filename,
            data=data,
        )

    await run_in_threadpool(work)
    return RedirectResponse("/seller/brands?sent=1", status_code=303)


@router.post("/seller/strikes/{strike_id}/appeal", response_class=HTMLResponse)
def appeal_strike(
    request: Request,
    strike_id: str,
    principal: SellerPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    service.appeal_strike(
        session=session,
        seller_id=_seller(session, principal).id,
        strike_id=strike_id,
        statement=_field(form, "statement"),
    )
    return RedirectResponse("/seller/brands", status_code=303)
