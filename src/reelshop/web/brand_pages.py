"""The brand owner portal: a verified owner keeps the brand's marks, reference prices
and official photos, decides sellers' authorisation requests, searches listings and
videos for the brand and files infringement complaints, tracked to a decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from reelshop.catalog.models import Brand
from reelshop.errors import InvalidInput, NotFound
from reelshop.money import Money, MoneyError
from reelshop.security.authz import DbSession, ShopperPrincipal
from reelshop.trust import brands
from reelshop.web.forms import PostedForm
from reelshop.web.rendering import render
from reelshop.web.trust_pages import _official_image_bytes

router = APIRouter(include_in_schema=False)
MAX_IMAGE = 10 * 1024 * 1024 + 1


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.get("/brand", response_class=HTMLResponse)
def portal_home(request: Request, principal: ShopperPrincipal, session: DbSession) -> Response:
    owned = brands.owned_brands(session=session, user_id=principal.id)
    if len(owned) == 1:
        return RedirectResponse(f"/brand/{owned[0].id}", status_code=303)
    return render(request, "brands/home.html", {"owned": owned})


@router.get("/brand/{brand_id}", response_class=HTMLResponse)
def brand_page(
    request: Request, brand_id: str, principal: ShopperPrincipal, session: DbSession, q: str = ""
) -> Response:
    reg = brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)
    brand = session.get(Brand, reg.brand_id)
    assert brand is not None
    ranges = brands.price_ranges(session=session, brand_id=brand.id)
    requests = brands.authorisation_requests(session=session, brand_ids=[brand.id])
    authorised = {
        r.authorisation.seller_id for r in requests if r.authorisation.status == "approved"
    }
    hits = brands.search_marks(session=session, registration=reg, q=q[:60] or None)
    suspects = [h for h in hits if h.seller_id is None or h.seller_id not in authorised]
    return render(
        request,
        "brands/brand.html",
        {
            "brand": brand,
            "reg": reg,
            "ranges": [
                {
                    "row": r,
                    "min": Money(r.min_amount, r.currency),
                    "max": Money(r.max_amount, r.currency),
                }
                for r in ranges
            ],
            "images": brands.official_images(session=session, brand_id=brand.id),
            "pending": [r for r in requests if r.authorisation.status == "requested"],
            "approved": [r for r in requests if r.authorisation.status == "approved"],
            "complaints": brands.complaints(session=session, brand_ids=[brand.id]),
            "hits": suspects[:25],
            "hidden": len(hits) - len(suspects),
            "q": q[:60],
        },
    )


@router.post("/brand/{brand_id}/marks", response_class=HTMLResponse)
def update_marks(
    request: Request,
    brand_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    reg = brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)
    brands.update_marks(
        session=session,
        registration=reg,
        aliases=[a for a in _field(form, "aliases").split(",") if a.strip()],
    )
    return RedirectResponse(f"/brand/{brand_id}#marks", status_code=303)


def _minor(text: str, currency: str, field: str) -> int:
    try:
        return Money.from_decimal(text, currency).amount
    except (MoneyError, ValueError, ArithmeticError):
        raise InvalidInput(f"{field} is a price such as 89.99", field=field) from None


@router.post("/brand/{brand_id}/price-ranges", response_class=HTMLResponse)
def add_price_range(
    request: Request,
    brand_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    reg = brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)
    currency = (_field(form, "currency") or "USD").upper()
    brands.add_price_range(
        session=session,
        registration=reg,
        product_line=_field(form, "product_line"),
        keywords=[k for k in _field(form, "keywords").split(",") if k.strip()],
        currency=currency,
        min_amount=_minor(_field(form, "min"), currency, "min"),
        max_amount=_minor(_field(form, "max"), currency, "max"),
    )
    return RedirectResponse(f"/brand/{brand_id}#prices", status_code=303)


@router.post("/brand/{brand_id}/images", response_class=HTMLResponse)
async def add_image(
    request: Request, brand_id: str, principal: ShopperPrincipal, session: DbSession
) -> Response:
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidInput("choose an image", field="file")
    data = await upload.read(MAX_IMAGE)
    label = form.get("label")

    def work() -> None:
        reg = brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)
        brands.add_official_image(
            session=session,
            registration=reg,
            data=data,
            label=label if isinstance(label, str) else "",
        )

    await run_in_threadpool(work)
    return RedirectResponse(f"/brand/{brand_id}#images", status_code=303)


@router.get("/brand/{brand_id}/images/{image_id}")
def image(
    brand_id: str, image_id: str, principal: ShopperPrincipal, session: DbSession
) -> Response:
    reg = brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)
    if not any(
        i.id == image_id for i in brands.official_images(session=session, brand_id=reg.brand_id)
    ):
        raise NotFound("no such image")
    return _official_image_bytes(session, image_id)


@router.post("/brand/{brand_id}/complaints", response_class=HTMLResponse)
def file_complaint(
    request: Request,
    brand_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    reg = brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)
    target = _field(form, "target")
    brands.file_complaint(
        session=session,
        registration=reg,
        user_id=principal.id,
        description=_field(form, "description"),
        product_id=target if target.startswith("prd_") else None,
        video_id=target if target.startswith("vid_") else None,
    )
    return RedirectResponse(f"/brand/{brand_id}#complaints", status_code=303)


@router.post("/brand/{brand_id}/authorisations/{authorisation_id}", response_class=HTMLResponse)
def decide_authorisation(
    request: Request,
    brand_id: str,
    authorisation_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    form: PostedForm,
) -> Response:
    brands.owned_registration(session=session, user_id=principal.id, brand_id=brand_id)
    brands.decide_authorisation(
        session=session,
        authorisation_id=authorisation_id,
        actor_id=principal.id,
        approve=_field(form, "decision") == "approve",
        note=_field(form, "note"),
        as_staff=False,
    )
    return RedirectResponse(f"/brand/{brand_id}#requests", status_code=303)
