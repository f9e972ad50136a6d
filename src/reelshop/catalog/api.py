"""JSON API for the catalog: a seller's own products, images and stock; the category tree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from sqlalchemy.orm import Session

from reelshop.catalog import service as catalog
from reelshop.catalog.images import MAX_BYTES, media_url
from reelshop.catalog.models import Category, Product, ProductImage, Sku
from reelshop.catalog.schemas import (
    AdjustmentInput,
    AdjustmentOut,
    CategoryOut,
    ImageOut,
    ProductInput,
    ProductOut,
    ProductPageOut,
    ProductStatusName,
    ProductSummaryOut,
    SkuOut,
    StatusChange,
    StockLocationOut,
    StockOut,
    StockWithAdjustmentsOut,
)
from reelshop.errors import PAYLOAD_TOO_LARGE, Forbidden, ProblemError, problem_responses
from reelshop.money import Money
from reelshop.security.authz import DbSession, Principal, ReadDbSession, SellerPrincipal
from reelshop.security.scopes import Scope
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerProfile, SellerStatus

router = APIRouter(tags=["catalog"])


def approved_seller(principal: Principal, session: Session) -> SellerProfile:
    """The calling seller's approved shop; reusable by seller-center pages."""
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise Forbidden("this account has no seller profile yet; apply to sell first")
    if seller.status != SellerStatus.APPROVED:
        raise Forbidden(
            f"your seller profile is {seller.status}; products can be managed once it is approved"
        )
    return seller


def _seller_with(scope: Scope) -> Callable[[Principal, Session], SellerProfile]:
    def dependency(principal: SellerPrincipal, session: DbSession) -> SellerProfile:
        if not principal.has_scope(scope):
            raise Forbidden(f"this token lacks the {scope.value!r} scope")
        return approved_seller(principal, session)

    return dependency


current_seller = _seller_with(Scope.CATALOG_READ)
current_seller_writer = _seller_with(Scope.CATALOG_WRITE)


Seller = Annotated[SellerProfile, Depends(current_seller)]
SellerWriter = Annotated[SellerProfile, Depends(current_seller_writer)]


# --- shaping ---------------------------------------------------------------------------


def _decimal_or_none(amount: int | None, currency: str) -> Money | None:
    return Money(amount, currency) if amount is not None else None


def stock_out(sku_id: str, rows: Sequence[catalog.LocationStock]) -> StockOut:
    return StockOut(
        sku_id=sku_id,
        on_hand=sum(r.on_hand for r in rows),
        reserved=sum(r.reserved for r in rows),
        available=sum(r.available for r in rows),
        locations=[
            StockLocationOut(
                location_id=r.location.id,
                name=r.location.name,
                country=r.location.country,
                on_hand=r.on_hand,
                reserved=r.reserved,
                available=r.available,
            )
            for r in rows
        ],
    )


def sku_out(sku: Sku, currency: str, stock: StockOut | None) -> SkuOut:
    compare_at = _decimal_or_none(sku.compare_at_amount, currency)
    return SkuOut(
        id=sku.id,
        code=sku.code,
        option_values={str(k): str(v) for k, v in sku.option_values.items()},
        price=Money(sku.price_amount, currency).to_decimal(),
        price_minor=sku.price_amount,
        compare_at=compare_at.to_decimal() if compare_at else None,
        currency=currency,
        weight_grams=sku.weight_grams,
        barcode=sku.barcode,
        position=sku.position,
        is_active=sku.is_active,
        stock=stock,
    )


def image_out(image: ProductImage) -> ImageOut:
    return ImageOut(
        id=image.id,
        position=image.position,
        url=media_url(image.storage_key),
        thumb_url=media_url(image.thumb_key),
        width=image.width,
        height=image.height,
        content_type=image.content_type,
        alt=image.alt,
        source_url=image.source_url,
    )


def product_out(product: Product, category: Category, stock: dict[str, StockOut]) -> ProductOut:
    return ProductOut(
        id=product.id,
        seller_id=product.seller_id,
        handle=product.handle,
        title=product.title,
        description=product.description,
        category=category.path,
        brand=product.brand_text,
        brand_id=product.brand_id,
        product_type=product.product_type,
        tags=list(product.tags),
        option_names=list(product.option_names),
        status=product.status,
        currency=product.currency,
        hs_code=product.hs_code,
        origin_country=product.origin_country,
        length_mm=product.length_mm,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        created_at=product.created_at,
        updated_at=product.updated_at,
        published_at=product.published_at,
        variants=[sku_out(s, product.currency, stock.get(s.id)) for s in product.skus],
        images=[image_out(i) for i in product.images],
    )


def _full(session: DbSession, product: Product) -> ProductOut:
    category = catalog.category_by_id(session=session, category_id=product.category_id)
    rows = catalog.stock_by_location(session=session, sku_ids=[s.id for s in product.skus])
    return product_out(product, category, {k: stock_out(k, v) for k, v in rows.items()})


def summary_out(product: Product, paths: dict[str, str]) -> ProductSummaryOut:
    active = [s.price_amount for s in product.skus if s.is_active] or [
        s.price_amount for s in product.skus
    ]
    thumb = next((i.thumb_key for i in product.images if i.thumb_key), None)
    return ProductSummaryOut(
        id=product.id,
        handle=product.handle,
        title=product.title,
        status=product.status,
        category=paths.get(product.category_id, ""),
        currency=product.currency,
        min_price=Money(min(active), product.currency).to_decimal() if active else None,
        max_price=Money(max(active), product.currency).to_decimal() if active else None,
        variant_count=sum(1 for s in product.skus if s.is_active),
        thumb_url=media_url(thumb),
        updated_at=product.updated_at,
    )


# --- routes ----------------------------------------------------------------------------


@router.get(
    "/categories",
    summary="The category tree, parents before children",
)
def categories(session: ReadDbSession) -> list[CategoryOut]:
    return [
        CategoryOut(
            id=c.id,
            slug=c.slug,
            name=c.name,
            path=c.path,
            parent_id=c.parent_id,
            depth=c.path.count("/"),
        )
        for c in catalog.list_categories(session=session)
    ]


@router.get(
    "/seller/products",
    responses=problem_responses(401, 403, 422),
    summary="The calling seller's products, newest change first",
)
def list_products(
    seller: Seller,
    session: DbSession,
    status_: Annotated[ProductStatusName | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=400)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=catalog.MAX_PER_PAGE)] = 50,
) -> ProductPageOut:
    found = catalog.list_seller_products(
        session=session,
        seller=seller,
        status=status_,
        q=q,
        category=category,
        page=page,
        per_page=per_page,
    )
    paths = catalog.category_paths(session=session)
    return ProductPageOut(
        items=[summary_out(p, paths) for p in found.items],
        total=found.total,
        page=found.page,
        per_page=found.per_page,
    )


@router.post(
    "/seller/products",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
    summary="List a new product with its variants",
)
def create_product(body: ProductInput, seller: SellerWriter, session: DbSession) -> ProductOut:
    product = catalog.create_product(
        session=session, seller=seller, data=body, actor_id=seller.user_id, prescreen=True
    )
    return _full(session, product)


@router.get(
    "/seller/products/{product_id}",
    responses=problem_responses(401, 403, 404),
    summary="One of the calling seller's products, with stock per variant",
)
def get_product(product_id: str, seller: Seller, session: DbSession) -> ProductOut:
    product = catalog.get_seller_product(session=session, seller=seller, product_id=product_id)
    return _full(session, product)


@router.put(
    "/seller/products/{product_id}",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Replace a product; variants are matched by SKU code, missing ones deactivated",
)
def update_product(
    product_id: str, body: ProductInput, seller: SellerWriter, session: DbSession
) -> ProductOut:
    product = catalog.update_product(
        session=session,
        seller=seller,
        product_id=product_id,
        data=body,
        actor_id=seller.user_id,
        prescreen=True,
    )
    return _full(session, product)


@router.post(
    "/seller/products/{product_id}/status",
    responses=problem_responses(401, 403, 404, 422),
    summary="Publish (active), unpublish (draft) or archive a product",
)
def change_status(
    product_id: str, body: StatusChange, seller: SellerWriter, session: DbSession
) -> ProductOut:
    product = catalog.set_status(
        session=session,
        seller=seller,
        product_id=product_id,
        status=body.status,
        actor_id=seller.user_id,
    )
    return _full(session, product)


@router.post(
    "/seller/products/{product_id}/images",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
    summary="Upload a JPEG, PNG or WebP image (at most 8 MB and 40 megapixels)",
)
def upload_image(
    product_id: str,
    seller: SellerWriter,
    session: DbSession,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
    alt: Annotated[str, Form(max_length=255)] = "",
) -> ImageOut:
    data = file.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ProblemError(
            f"images are at most {MAX_BYTES // (1024 * 1024)} MB", problem=PAYLOAD_TOO_LARGE
        )
    image = catalog.add_image(
        session=session,
        seller=seller,
        product_id=product_id,
        data=data,
        filename=file.filename or "",
        alt=alt,
    )
    return image_out(image)


def _stock_answer(
    session: DbSession, seller: SellerProfile, sku_id: str
) -> StockWithAdjustmentsOut:
    rows = catalog.sku_stock(session=session, seller=seller, sku_id=sku_id)
    adjustments = catalog.list_sku_adjustments(session=session, seller=seller, sku_id=sku_id)
    return StockWithAdjustmentsOut(
        stock=stock_out(sku_id, rows),
        adjustments=[AdjustmentOut.model_validate(a) for a in adjustments],
    )


@router.get(
    "/seller/skus/{sku_id}/stock",
    responses=problem_responses(401, 403, 404),
    summary="Stock of one of the seller's SKUs per location, with its latest adjustments",
)
def get_stock(sku_id: str, seller: Seller, session: DbSession) -> StockWithAdjustmentsOut:
    return _stock_answer(session, seller, sku_id)


@router.post(
    "/seller/skus/{sku_id}/stock",
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Adjust stock on hand with a reason (received, damaged, count correction, ...)",
)
def adjust_stock(
    sku_id: str, body: AdjustmentInput, seller: SellerWriter, session: DbSession
) -> StockWithAdjustmentsOut:
    catalog.adjust_sku_stock(
        session=session,
        seller=seller,
        sku_id=sku_id,
        delta=body.delta,
        reason=body.reason,
        note=body.note,
        location_id=body.location_id,
        actor_id=seller.user_id,
    )
    return _stock_answer(session, seller, sku_id)
