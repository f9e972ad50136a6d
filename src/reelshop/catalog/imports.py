"""Bulk import and export of a seller's products in the Shopify product CSV format.

An upload is checked at once (size, UTF-8, a product CSV header), stored, and
recorded as an ``ImportJob``; the worker then writes the products a batch per run,
re-emitting ``catalog.import_requested`` until the file is done, so the seller sees
progress while it runs. Each product is written inside its own savepoint: a product
with any bad row, or one the catalog refuses, is reported and leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from reelshop.catalog import service as catalog
from reelshop.catalog import shopify_csv
from reelshop.catalog.images import media_url
from reelshop.catalog.import_models import ImportJob, ImportStatus
from reelshop.catalog.models import Product
from reelshop.catalog.schemas import ProductInput
from reelshop.db import unit_of_work, utcnow
from reelshop.errors import (
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA,
    InvalidInput,
    NotFound,
    ProblemError,
)
from reelshop.ids import looks_like
from reelshop.money import Money
from reelshop.outbox.service import emit
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage, new_key

IMPORT_REQUESTED = "catalog.import_requested"
MAX_IMPORT_BYTES = 15 * 1024 * 1024  # Shopify's own limit for a product CSV
BATCH_SIZE = 25  # products written per worker run
MAX_REPORTED_ERRORS = 5_000
EXPORT_CHUNK = 100

_FIELD_COLUMN = {"handle": "Handle", "category": "Product Category", "status": "Status"}


def category_map(*, session: Session) -> shopify_csv.CategoryMap:
    return shopify_csv.CategoryMap(
        shopify_csv.CategoryRef(c.slug, c.path, c.name)
        for c in catalog.list_categories(session=session)
    )


# --- upload -----------------------------------------------------------------------


def start_import(
    *,
    session: Session,
    seller: SellerProfile,
    data: bytes,
    filename: str,
    actor_id: str | None,
) -> ImportJob:
    """Check and store an uploaded CSV and queue it for the worker.

    Refuses at once what can never import: too large (413), not UTF-8 text (415), or
    no ``Handle``/``Title`` header (422). Row-level problems come in the job's report.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ProblemError(
            f"a product CSV is at most {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split the file",
            problem=PAYLOAD_TOO_LARGE,
        )
    try:
        text = shopify_csv.decode_upload(data)
        shopify_csv.check_header(text)
    except shopify_csv.CsvFileError as exc:
        if exc.kind == "encoding":
            raise ProblemError(str(exc), problem=UNSUPPORTED_MEDIA, field="file") from None
        raise InvalidInput(str(exc), field="file") from None
    key = new_key("imports", ".csv")
    get_storage().put(key, data, content_type="text/csv")
    job = ImportJob(
        seller_id=seller.id,
        created_by=actor_id,
        filename=(filename or "products.csv")[:255],
        storage_key=key,
        size_bytes=len(data),
        status=ImportStatus.QUEUED,
        errors=[],
    )
    session.add(job)
    session.flush()
    emit(
        session=session,
        topic=IMPORT_REQUESTED,
        payload={"import_id": job.id, "cursor": 0},
        subject_id=job.id,
    )
    session.flush()
    return job


def get_import(*, session: Session, seller: SellerProfile, import_id: str) -> ImportJob:
    """The seller's own import; anybody else's is 404."""
    job = session.get(ImportJob, import_id) if looks_like("imp", import_id) else None
    if job is None or job.seller_id != seller.id:
        raise NotFound("no such import")
    return job


def list_imports(*, session: Session, seller: SellerProfile, limit: int = 20) -> list[ImportJob]:
    return list(
        session.scalars(
            select(ImportJob)
            .where(ImportJob.seller_id == seller.id)
            .order_by(ImportJob.created_at.desc(), ImportJob.id)
            .limit(limit)
        )
    )


# --- the worker's side --------------------------------------------------------------


def _lock_job(session: Session, import_id: str) -> ImportJob | None:
    query = select(ImportJob).where(ImportJob.id == import_id)
    query = query.with_for_update()
    return session.scalars(query).first()


def _fail(job: ImportJob, message: str) -> None:
    job.status = ImportStatus.FAILED
    job.message = message
    job.finished_at = utcnow()


def _add_errors(job: ImportJob, errors: list[dict[str, Any]]) -> None:
    merged = [*job.errors, *errors]
    merged.sort(key=lambda e: (int(e.get("line") or 0), str(e.get("column") or "")))
    job.errors = merged[:MAX_REPORTED_ERRORS]


def _validate(session: Session, job: ImportJob, seller: SellerProfile) -> list[dict[str, Any]]:
    """Read and check the whole file; store the valid products for the batches to come."""
    storage = get_storage()
    text = shopify_csv.decode_upload(storage.get(job.storage_key))
    result = shopify_csv.parse(
        text, currency=seller.currency, categories=category_map(session=session)
    )
    valid = [
        {
            "handle": p.handle,
            "line": p.first_line,
            "product": p.product.model_dump(mode="json"),
            "image_alts": p.image_alts,
        }
        for p in result.valid
        if p.product is not None
    ]
    invalid = [p for p in result.products if not p.ok]
    job.rows = result.rows
    job.total = len(valid) + len([p for p in invalid if p.handle])
    job.failed = len([p for p in invalid if p.handle])
    job.processed = job.failed
    _add_errors(job, [e.as_dict() for e in result.errors])
    key = new_key("imports", ".json")
    storage.put(key, json.dumps(valid).encode(), content_type="application/json")
    job.validated_key = key
    job.status = ImportStatus.RUNNING
    job.started_at = utcnow()
    return valid


def _write_product(
    session: Session, seller: SellerProfile, item: dict[str, Any], actor_id: str | None
) -> bool:
    """Create or update one product (matched by handle). True when it was new."""
    data = ProductInput.model_validate(item["product"])
    existing = catalog.find_by_handle(session=session, seller=seller, handle=item["handle"])
    if existing is not None:
        # Our own export lists uploaded images by their media URL; reading that file back
        # must not add each one again as a URL image.
        own = {media_url(i.storage_key) for i in existing.images if i.storage_key}
        urls = [u for u in data.image_urls if urlsplit(u).path not in own]
        if len(urls) != len(data.image_urls):
            data = data.model_copy(update={"image_urls": urls})
    if existing is None:
        product = catalog.create_product(
            session=session, seller=seller, data=data, actor_id=actor_id, prescreen=True
        )
    else:
        product = catalog.update_product(
            session=session,
            seller=seller,
            product_id=existing.id,
            data=data,
            actor_id=actor_id,
            prescreen=True,
        )
    alts: dict[str, str] = item.get("image_alts") or {}
    for image in product.images:
        if image.storage_key is None and image.source_url in alts:
            image.alt = alts[image.source_url]
    session.flush()
    return existing is None


def run_import_batch(*, session: Session, import_id: str, cursor: int) -> ImportJob | None:
    """Write the next batch of an import; re-emits the event while products remain.

    Idempotent under at-least-once delivery: an event whose ``cursor`` is not the
    job's current one was already handled and is ignored.
    """
    job = _lock_job(session, import_id)
    if job is None or job.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return job
    if job.cursor != cursor:
        return job
    seller = session.get(SellerProfile, job.seller_id)
    if seller is None:
        _fail(job, "the seller no longer exists")
        return job
    storage = get_storage()
    if job.status == ImportStatus.QUEUED:
        try:
            valid = _validate(session, job, seller)
        except (shopify_csv.CsvFileError, ValueError) as exc:
            _fail(job, f"the file could not be read: {exc}")
            return job
    else:
        assert job.validated_key is not None
        valid = json.loads(storage.get(job.validated_key))
    batch = valid[job.cursor : job.cursor + BATCH_SIZE]
    errors: list[dict[str, Any]] = []
    for item in batch:
        try:
            with session.begin_nested():
                created = _write_product(session, seller, item, job.created_by)
        except (ProblemError, IntegrityError) as exc:
            job.failed += 1
            message = exc.detail if isinstance(exc, ProblemError) else "conflicts with another row"
            field = exc.extensions.get("field") if isinstance(exc, ProblemError) else None
            errors.append(
                {
                    "line": item["line"],
                    "column": _FIELD_COLUMN.get(str(field)) if field else None,
                    "message": message,
                    "handle": item["handle"],
                }
            )
        else:
            if created:
                job.created += 1
            else:
                job.updated += 1
        job.processed += 1
    if errors:
        _add_errors(job, errors)
    job.cursor += len(batch)
    if job.cursor >= len(valid):
        job.status = ImportStatus.DONE
        job.finished_at = utcnow()
    else:
        emit(
            session=session,
            topic=IMPORT_REQUESTED,
            payload={"import_id": job.id, "cursor": job.cursor},
            subject_id=job.id,
        )
    session.flush()
    return job


# --- export -------------------------------------------------------------------------


def _export_product(
    product: Product,
    stock: dict[str, int],
    categories: dict[str, tuple[str, str]],
    cmap: shopify_csv.CategoryMap,
    base_url: str,
) -> shopify_csv.ExportProduct:
    slug, path = categories.get(product.category_id, ("", ""))
    images = []
    for image in product.images:
        url = image.source_url or (
            base_url.rstrip("/") + (media_url(image.storage_key) or "") if image.storage_key else ""
        )
        if url:
            images.append(shopify_csv.ExportImage(url=url, alt=image.alt))
    return shopify_csv.ExportProduct(
        handle=product.handle,
        title=product.title,
        description=product.description,
        vendor=product.brand_text,
        category_label=cmap.export_label(slug, path),
        product_type=product.product_type,
        tags=list(product.tags or []),
        option_names=list(product.option_names or []),
        status=product.status,
        variants=[
            shopify_csv.ExportVariant(
                code=sku.code,
                option_values={str(k): str(v) for k, v in (sku.option_values or {}).items()},
                price=Money(sku.price_amount, product.currency).to_decimal(),
                compare_at=(
                    Money(sku.compare_at_amount, product.currency).to_decimal()
                    if sku.compare_at_amount is not None
                    else None
                ),
                weight_grams=sku.weight_grams,
                barcode=sku.barcode,
                stock=stock.get(sku.id, 0),
            )
            for sku in product.skus
            if sku.is_active
        ],
        images=images,
    )


def export_products(
    factory: sessionmaker[Session], *, seller_id: str, base_url: str
) -> Iterator[str]:
    """The seller's whole catalog as Shopify CSV text, a chunk of products at a time.

    Opens its own read-only unit of work per chunk, so a long download holds no
    transaction open between chunks. Stock is units on hand over all locations.
    """

    def products() -> Iterator[shopify_csv.ExportProduct]:
        after = ""
        with unit_of_work(factory) as session:
            cmap = category_map(session=session)
            categories = {c.id: (c.slug, c.path) for c in catalog.list_categories(session=session)}
        while True:
            with unit_of_work(factory) as session:
                chunk = list(
                    session.scalars(
                        select(Product)
                        .where(Product.seller_id == seller_id, Product.handle > after)
                        .order_by(Product.handle)
                        .limit(EXPORT_CHUNK)
                        .options(selectinload(Product.skus), selectinload(Product.images))
                    )
                )
                if not chunk:
                    return
                sku_ids = [s.id for p in chunk for s in p.skus]
                stock = _on_hand(session, sku_ids)
                shaped = [_export_product(p, stock, categories, cmap, base_url) for p in chunk]
            yield from shaped
            after = chunk[-1].handle

    return shopify_csv.write_csv(products())


def _on_hand(session: Session, sku_ids: list[str]) -> dict[str, int]:
    levels = catalog.stock_by_location(session=session, sku_ids=sku_ids)
    return {sku_id: sum(row.on_hand for row in rows) for sku_id, rows in levels.items()}


def percent_done(job: ImportJob) -> int:
    if job.status == ImportStatus.DONE:
        return 100
    if not job.total:
        return 0
    return min(99, (100 * job.processed) // job.total)


def export_filename(seller: SellerProfile) -> str:
    stamp = utcnow().strftime("%Y%m%d")
    return f"products-{catalog.slugify(seller.display_name) or 'shop'}-{stamp}.csv"


__all__ = [
    "BATCH_SIZE",
    "IMPORT_REQUESTED",
    "MAX_IMPORT_BYTES",
    "category_map",
    "export_filename",
    "export_products",
    "get_import",
    "list_imports",
    "percent_done",
    "run_import_batch",
    "start_import",
]
