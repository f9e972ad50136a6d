"""Seller-center catalog pages: product list, product editor, CSV import and export.

Thin like the API: parse the form, call the catalog or import service, render. A form
that cannot be saved is rendered again with what was typed and the errors next to
their fields, answered with the error's 4xx status.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from reelshop.catalog import imports
from reelshop.catalog import service as catalog
from reelshop.catalog.api import Seller, SellerWriter
from reelshop.catalog.images import MAX_BYTES, media_url
from reelshop.catalog.import_api import read_capped
from reelshop.catalog.import_models import ImportJob, ImportStatus
from reelshop.catalog.models import Product
from reelshop.catalog.schemas import MAX_OPTIONS, MAX_VARIANTS, ProductInput
from reelshop.errors import PAYLOAD_TOO_LARGE, InvalidInput, ProblemError
from reelshop.inventory import service as inventory
from reelshop.money import Money
from reelshop.security.authz import DbSession
from reelshop.sellers.models import SellerProfile
from reelshop.web.forms import PostedForm
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
STATUSES = ("draft", "active", "archived")
VARIANT_FIELDS = (
    "code", "opt1", "opt2", "opt3", "price", "compare_at", "stock", "stock_was",
    "weight_grams", "barcode",
)  # fmt: skip
_VARIANT_KEY = re.compile(r"^variants-(\d{1,3})-([a-z0-9_]+)$")
SHOWN_ERRORS = 500


def _categories(session: Session) -> list[dict[str, Any]]:
    return [
        {"path": c.path, "name": c.name, "depth": c.path.count("/")}
        for c in catalog.list_categories(session=session)
    ]


def _decimal_text(amount: int | None, currency: str) -> str:
    return "" if amount is None else f"{Money(amount, currency).to_decimal():f}"


# --- product list --------------------------------------------------------------------


@dataclass(frozen=True)
class ListedProduct:
    product: Product
    category: str
    thumb_url: str | None
    price_range: str
    available: int
    variants: int


def _listed(session: Session, products: list[Product]) -> list[ListedProduct]:
    paths = catalog.category_paths(session=session)
    sku_ids = [s.id for p in products for s in p.skus if s.is_active]
    stock = inventory.available(session=session, sku_ids=sku_ids)
    out = []
    for product in products:
        skus = [s for s in product.skus if s.is_active]
        prices = sorted({s.price_amount for s in skus})
        if not prices:
            price_range = "—"
        elif len(prices) == 1:
            price_range = Money(prices[0], product.currency).format()
        else:
            low = Money(prices[0], product.currency).format()
            price_range = f"{low} to {Money(prices[-1], product.currency).format()}"
        thumb = next((i.thumb_key for i in product.images if i.thumb_key), None)
        out.append(
            ListedProduct(
                product=product,
                category=paths.get(product.category_id, ""),
                thumb_url=media_url(thumb),
                price_range=price_range,
                available=sum(stock.get(s.id, 0) for s in skus),
                variants=len(skus),
            )
        )
    return out


@router.get("/seller/products", response_class=HTMLResponse)
def product_list(
    request: Request,
    seller: Seller,
    session: DbSession,
    status: str = "",
    category: str = "",
    q: str = "",
    page: str = "1",
) -> Response:
    filters = {"status": status, "category": category, "q": q[:200]}
    error = None
    code = 200
    items: list[ListedProduct] = []
    total = 0
    page_number = int(page) if page.isdigit() and 0 < int(page) <= 100_000 else 1
    try:
        if status and status not in STATUSES:
            raise InvalidInput("status is draft, active or archived", field="status")
        found = catalog.list_seller_products(
            session=session,
            seller=seller,
            status=status or None,
            q=q[:200] or None,
            category=category or None,
            page=page_number,
            per_page=PER_PAGE,
        )
        items = _listed(session, found.items)
        total = found.total
    except ProblemError as exc:
        error, code = exc.detail, exc.status
    pages = max(1, -(-total // PER_PAGE))

    def page_url(number: int) -> str:
        query = {k: v for k, v in filters.items() if v}
        query["page"] = str(number)
        return "/seller/products?" + urlencode(query)

    return render(
        request,
        "seller/products.html",
        {
            "items": items,
            "total": total,
            "page": page_number,
            "pages": pages,
            "prev_url": page_url(page_number - 1) if page_number > 1 else None,
            "next_url": page_url(page_number + 1) if page_number < pages else None,
            "filters": filters,
            "statuses": STATUSES,
            "categories": _categories(session),
            "error": error,
            "saved": request.query_params.get("saved"),
        },
        status_code=code,
    )


# --- product editor ------------------------------------------------------------------


def _blank_variant() -> dict[str, str]:
    return dict.fromkeys(VARIANT_FIELDS, "")


def _form_from_product(session: Session, product: Product) -> dict[str, Any]:
    names = list(product.option_names or [])
    skus = [s for s in product.skus if s.is_active]
    stock = catalog.stock_by_location(session=session, sku_ids=[s.id for s in skus])
    variants = []
    for sku in skus:
        on_hand = str(sum(row.on_hand for row in stock.get(sku.id, [])))
        row = _blank_variant()
        row.update(
            {
                "code": sku.code,
                "price": _decimal_text(sku.price_amount, product.currency),
                "compare_at": _decimal_text(sku.compare_at_amount, product.currency),
                "stock": on_hand,
                "stock_was": on_hand,
                "weight_grams": "" if sku.weight_grams is None else str(sku.weight_grams),
                "barcode": sku.barcode or "",
            }
        )
        for n, name in enumerate(names, start=1):
            row[f"opt{n}"] = str((sku.option_values or {}).get(name, ""))
        variants.append(row)
    return {
        "title": product.title,
        "handle": product.handle,
        "description": product.description,
        "category": catalog.category_paths(session=session).get(product.category_id, ""),
        "brand": product.brand_text or "",
        "product_type": product.product_type or "",
        "tags": ", ".join(product.tags or []),
        "option1": names[0] if len(names) > 0 else "",
        "option2": names[1] if len(names) > 1 else "",
        "option3": names[2] if len(names) > 2 else "",
        "hs_code": product.hs_code or "",
        "origin_country": product.origin_country or "",
        "length_mm": "" if product.length_mm is None else str(product.length_mm),
        "width_mm": "" if product.width_mm is None else str(product.width_mm),
        "height_mm": "" if product.height_mm is None else str(product.height_mm),
        "variants": variants or [_blank_variant()],
    }


_PRODUCT_FIELDS = (
    "title", "handle", "description", "category", "brand", "product_type", "tags",
    "option1", "option2", "option3", "hs_code", "origin_country",
    "length_mm", "width_mm", "height_mm",
)  # fmt: skip


def _form_from_post(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _PRODUCT_FIELDS:
        raw = form.get(name)
        values[name] = raw[:20_000] if isinstance(raw, str) else ""
    rows: dict[int, dict[str, str]] = {}
    for key, raw in form.multi_items():
        match = _VARIANT_KEY.match(key)
        if match and isinstance(raw, str) and match.group(2) in VARIANT_FIELDS:
            rows.setdefault(int(match.group(1)), _blank_variant())[match.group(2)] = raw[:500]
    values["variants"] = [rows[i] for i in sorted(rows)][:MAX_VARIANTS]
    return values


def _none_if_blank(value: str) -> str | None:
    value = value.strip()
    return value or None


def _product_input(
    values: dict[str, Any], *, status: str, image_urls: list[str]
) -> tuple[ProductInput | None, dict[str, str]]:
    """The form as a ProductInput, or the errors keyed by form field name."""
    errors: dict[str, str] = {}
    names = [values[f"option{n}"].strip() for n in range(1, MAX_OPTIONS + 1)]
    while names and not names[-1]:
        names.pop()
    if any(not n for n in names):
        errors["option1"] = "fill in option names from the first one, without gaps"
    variants = []
    for index, row in enumerate(values["variants"]):
        stock_text = row["stock"].strip()
        changed = stock_text != row.get("stock_was", "").strip()
        variants.append(
            {
                "code": row["code"],
                "option_values": {
                    name: row[f"opt{n}"] for n, name in enumerate(names, start=1) if name
                },
                "price": row["price"].strip() or None,
                "compare_at": _none_if_blank(row["compare_at"]),
                "weight_grams": _none_if_blank(row["weight_grams"]),
                "barcode": _none_if_blank(row["barcode"]),
                "stock": stock_text if (stock_text and changed) else None,
            }
        )
        if not row["price"].strip():
            errors[f"variants-{index}-price"] = "a price is required"
    data = {
        "handle": _none_if_blank(values["handle"]),
        "title": values["title"],
        "description": values["description"].replace("\r\n", "\n"),
        "category": values["category"],
        "brand": _none_if_blank(values["brand"]),
        "product_type": _none_if_blank(values["product_type"]),
        "tags": [t.strip() for t in values["tags"].split(",") if t.strip()],
        "option_names": [n for n in names if n],
        "status": status,
        "hs_code": _none_if_blank(values["hs_code"]),
        "origin_country": _none_if_blank(values["origin_country"]),
        "length_mm": _none_if_blank(values["length_mm"]),
        "width_mm": _none_if_blank(values["width_mm"]),
        "height_mm": _none_if_blank(values["height_mm"]),
        "variants": variants,
        "image_urls": image_urls,
    }
    try:
        product = ProductInput.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc", ())
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if len(loc) >= 2 and loc[0] == "variants" and isinstance(loc[1], int):
                field = str(loc[2]) if len(loc) > 2 else "code"
                field = "opt1" if field == "option_values" else field
                errors.setdefault(f"variants-{loc[1]}-{field}", message)
            elif loc and loc[0] == "option_names":
                errors.setdefault("option1", message)
            elif loc:
                errors.setdefault(str(loc[0]), message)
            else:
                errors.setdefault("_form", message)
        return None, errors
    if errors:
        return None, errors
    return product, errors


def _form_field(field: object) -> str | None:
    """The form input a service error names: ``variants[2]`` (a price) is row 2's price."""
    if not isinstance(field, str):
        return None
    match = re.fullmatch(r"variants\[(\d+)\]", field)
    return f"variants-{match.group(1)}-price" if match else field


def _summary(errors: dict[str, str]) -> str:
    """The alert above the form: a whole-product problem verbatim, else a pointer to fields."""
    return errors.get("_form") or "Please correct the marked fields."


def _editor(
    request: Request,
    session: Session,
    seller: SellerProfile,
    *,
    product: Product | None,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    error: str | None = None,
    image_error: str | None = None,
    status_code: int = 200,
) -> Response:
    images = []
    if product is not None:
        for image in product.images:
            images.append(
                {
                    "thumb_url": media_url(image.thumb_key),
                    "source_url": image.source_url,
                    "alt": image.alt,
                }
            )
    return render(
        request,
        "seller/product_edit.html",
        {
            "product": product,
            "form": form,
            "errors": errors or {},
            "error": error,
            "image_error": image_error,
            "images": images,
            "categories": _categories(session),
            "currency": product.currency if product else seller.currency,
            "max_variants": MAX_VARIANTS,
            "max_image_mb": MAX_BYTES // (1024 * 1024),
            "saved": request.query_params.get("saved"),
        },
        status_code=status_code,
    )


def _apply_row_action(form: dict[str, Any], action: str) -> bool:
    """Add or remove a variant row, or show new option columns, without saving.
    True when the action was one of these."""
    if action == "apply_options":
        return True
    if action == "add_variant":
        if len(form["variants"]) < MAX_VARIANTS:
            form["variants"].append(_blank_variant())
        return True
    if action.startswith("remove_variant:"):
        index = action.partition(":")[2]
        if index.isdigit() and int(index) < len(form["variants"]) and len(form["variants"]) > 1:
            form["variants"].pop(int(index))
        return True
    return False


@router.get("/seller/products/new", response_class=HTMLResponse)
def new_product_form(request: Request, seller: Seller, session: DbSession) -> Response:
    form: dict[str, Any] = dict.fromkeys(_PRODUCT_FIELDS, "")
    form["variants"] = [_blank_variant()]
    return _editor(request, session, seller, product=None, form=form)


@router.post("/seller/products/new", response_class=HTMLResponse)
def create_product_submit(
    request: Request, seller: SellerWriter, session: DbSession, raw: PostedForm
) -> Response:
    form = _form_from_post(raw)
    if _apply_row_action(form, str(raw.get("action") or "")):
        return _editor(request, session, seller, product=None, form=form)
    data, errors = _product_input(form, status="draft", image_urls=[])
    if data is None:
        return _editor(
            request, session, seller, product=None, form=form, errors=errors,
            error=_summary(errors), status_code=422,
        )  # fmt: skip
    try:
        with session.begin_nested():
            product = catalog.create_product(
                session=session, seller=seller, data=data, actor_id=seller.user_id, prescreen=True
            )
    except ProblemError as exc:
        field = _form_field(exc.extensions.get("field"))
        return _editor(
            request, session, seller, product=None, form=form,
            errors={str(field): exc.detail} if field else {}, error=exc.detail,
            status_code=exc.status,
        )  # fmt: skip
    return RedirectResponse(f"/seller/products/{product.id}?saved=1", status_code=303)


@router.get("/seller/products/{product_id}", response_class=HTMLResponse)
def edit_product_form(
    request: Request, product_id: str, seller: Seller, session: DbSession
) -> Response:
    product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
    return _editor(
        request, session, seller, product=product, form=_form_from_product(session, product)
    )


@router.post("/seller/products/{product_id}", response_class=HTMLResponse)
def update_product_submit(
    request: Request, product_id: str, seller: SellerWriter, session: DbSession, raw: PostedForm
) -> Response:
    product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
    form = _form_from_post(raw)
    if _apply_row_action(form, str(raw.get("action") or "")):
        return _editor(request, session, seller, product=product, form=form)
    url_images = [i.source_url for i in product.images if i.storage_key is None and i.source_url]
    data, errors = _product_input(form, status=product.status, image_urls=url_images)
    if data is None:
        return _editor(
            request, session, seller, product=product, form=form, errors=errors,
            error=_summary(errors), status_code=422,
        )  # fmt: skip
    try:
        with session.begin_nested():
            catalog.update_product(
                session=session,
                seller=seller,
                product_id=product.id,
                data=data,
                actor_id=seller.user_id,
                prescreen=True,
            )
    except ProblemError as exc:
        session.expire_all()
        product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
        field = _form_field(exc.extensions.get("field"))
        return _editor(
            request, session, seller, product=product, form=form,
            errors={str(field): exc.detail} if field else {}, error=exc.detail,
            status_code=exc.status,
        )  # fmt: skip
    return RedirectResponse(f"/seller/products/{product.id}?saved=1", status_code=303)


@router.post("/seller/products/{product_id}/status", response_class=HTMLResponse)
def change_status_submit(
    request: Request,
    product_id: str,
    seller: SellerWriter,
    session: DbSession,
    status: Annotated[str, Form(max_length=16)],
) -> Response:
    product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
    try:
        with session.begin_nested():
            catalog.set_status(
                session=session,
                seller=seller,
                product_id=product.id,
                status=status,
                actor_id=seller.user_id,
            )
    except ProblemError as exc:
        session.expire_all()
        product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
        return _editor(
            request, session, seller, product=product,
            form=_form_from_product(session, product), error=exc.detail, status_code=exc.status,
        )  # fmt: skip
    return RedirectResponse(f"/seller/products/{product.id}?saved=status", status_code=303)


@router.post("/seller/products/{product_id}/images", response_class=HTMLResponse)
def upload_image_submit(
    request: Request,
    product_id: str,
    seller: SellerWriter,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    alt: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
    try:
        data = file.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ProblemError(
                f"images are at most {MAX_BYTES // (1024 * 1024)} MB", problem=PAYLOAD_TOO_LARGE
            )
        with session.begin_nested():
            catalog.add_image(
                session=session,
                seller=seller,
                product_id=product.id,
                data=data,
                filename=file.filename or "",
                alt=alt,
            )
    except ProblemError as exc:
        session.expire_all()
        product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
        return _editor(
            request, session, seller, product=product,
            form=_form_from_product(session, product), image_error=exc.detail,
            status_code=exc.status,
        )  # fmt: skip
    return RedirectResponse(f"/seller/products/{product.id}?saved=image", status_code=303)


# --- CSV import and export -------------------------------------------------------------


def _job_view(job: ImportJob) -> dict[str, Any]:
    return {
        "job": job,
        "percent": imports.percent_done(job),
        "finished": job.status in (ImportStatus.DONE, ImportStatus.FAILED),
        "errors": job.errors[:SHOWN_ERRORS],
        "more_errors": max(0, len(job.errors) - SHOWN_ERRORS),
    }


@router.get("/seller/imports", response_class=HTMLResponse)
def imports_page(request: Request, seller: Seller, session: DbSession) -> Response:
    return render(
        request,
        "seller/imports.html",
        {
            "jobs": imports.list_imports(session=session, seller=seller),
            "max_mb": imports.MAX_IMPORT_BYTES // (1024 * 1024),
        },
    )


@router.post("/seller/imports", response_class=HTMLResponse)
def upload_import_submit(
    request: Request,
    seller: SellerWriter,
    session: DbSession,
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        with session.begin_nested():
            job = imports.start_import(
                session=session,
                seller=seller,
                data=read_capped(file),
                filename=file.filename or "",
                actor_id=seller.user_id,
            )
    except ProblemError as exc:
        return render(
            request,
            "seller/imports.html",
            {
                "jobs": imports.list_imports(session=session, seller=seller),
                "max_mb": imports.MAX_IMPORT_BYTES // (1024 * 1024),
                "error": exc.detail,
                "filename": file.filename or "",
            },
            status_code=exc.status,
        )
    return RedirectResponse(f"/seller/imports/{job.id}", status_code=303)


@router.get("/seller/imports/{import_id}", response_class=HTMLResponse)
def import_detail(request: Request, import_id: str, seller: Seller, session: DbSession) -> Response:
    job = imports.get_import(session=session, seller=seller, import_id=import_id)
    return render(request, "seller/import_detail.html", _job_view(job))


@router.get("/seller/imports/{import_id}/progress", response_class=HTMLResponse)
def import_progress(
    request: Request, import_id: str, seller: Seller, session: DbSession
) -> Response:
    """The progress block alone, polled by htmx until the import is finished."""
    job = imports.get_import(session=session, seller=seller, import_id=import_id)
    return render(request, "seller/_import_progress.html", _job_view(job))


@router.get("/seller/imports/{import_id}/errors.csv")
def import_errors_csv(import_id: str, seller: Seller, session: DbSession) -> Response:
    job = imports.get_import(session=session, seller=seller, import_id=import_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Line", "Column", "Handle", "Problem"])
    for error in job.errors:
        writer.writerow(
            [error.get("line"), error.get("column") or "", error.get("handle") or "",
             error.get("message")]
        )  # fmt: skip
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.id}-errors.csv"'},
    )
