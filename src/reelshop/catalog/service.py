"""The catalog: a seller's products, their variants, images and stock, and the category tree.

Reads used across domains (checkout, search, feed) sit at the top. Seller writes
check ownership first (another seller's product is a 404, never a 403), validate the
whole product before writing any of it, and emit ``product.changed`` in the same
transaction so search re-indexes it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from reelshop.catalog import images as image_pipeline
from reelshop.catalog.models import (
    Brand,
    Category,
    ModerationStatus,
    Product,
    ProductImage,
    ProductStatus,
    Sku,
)
from reelshop.catalog.schemas import ProductInput, VariantInput
from reelshop.db import utcnow
from reelshop.errors import Conflict, InvalidInput, NotFound, ProblemError
from reelshop.ids import looks_like
from reelshop.inventory import service as inventory
from reelshop.inventory.models import AdjustmentReason, StockAdjustment, StockLocation
from reelshop.money import Money, MoneyError
from reelshop.outbox.service import emit
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerProfile
from reelshop.storage import get_storage, new_key

PRODUCT_CHANGED = "product.changed"
SELLING_MARKET = "US"
MAX_PER_PAGE = 200


# --- reads used across domains ---------------------------------------------------------


def sku_price(sku: Sku) -> Money:
    return Money(sku.price_amount, sku.product.currency)


def get_skus(*, session: Session, sku_ids: Iterable[str]) -> dict[str, Sku]:
    """SKUs with their product loaded, in one query; unknown ids are left out."""
    ids = [i for i in set(sku_ids) if looks_like("sku", i)]
    if not ids:
        return {}
    rows = session.scalars(
        select(Sku).where(Sku.id.in_(ids)).options(selectinload(Sku.product))
    ).all()
    return {sku.id: sku for sku in rows}


def get_active_product(*, session: Session, product_id: str) -> Product:
    """A product a shopper may see; anything else is 404."""
    product = session.get(Product, product_id) if looks_like("prd", product_id) else None
    if product is None or not product.on_sale:
        raise NotFound("no such product")
    return product


# --- categories and brands -------------------------------------------------------------


def slugify(text: str, *, max_length: int = 180) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def list_categories(*, session: Session) -> list[Category]:
    """Every category, parents before their children, siblings by position then name."""
    rows = session.scalars(select(Category).order_by(Category.position, Category.name)).all()
    children: dict[str | None, list[Category]] = {}
    for category in rows:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[Category] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        category = stack.pop()
        ordered.append(category)
        stack.extend(reversed(children.get(category.id, [])))
    return ordered


def get_category(*, session: Session, slug_or_path: str) -> Category:
    key = slug_or_path.strip().strip("/").lower()
    category = session.scalars(
        select(Category).where(or_(Category.path == key, Category.slug == key)).limit(1)
    ).first()
    if category is None:
        raise NotFound(f"unknown category {slug_or_path!r}")
    return category


def category_by_id(*, session: Session, category_id: str) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("no such category")
    return category


def category_paths(*, session: Session) -> dict[str, str]:
    """Category id to path, for shaping lists without one lookup per row."""
    return {str(row[0]): str(row[1]) for row in session.execute(select(Category.id, Category.path))}


def _category_for_input(session: Session, slug_or_path: str) -> Category:
    try:
        return get_category(session=session, slug_or_path=slug_or_path)
    except NotFound:
        raise InvalidInput(f"unknown category {slug_or_path!r}", field="category") from None


def top_level_slug(category: Category) -> str:
    return category.path.split("/")[0]


def find_brand(*, session: Session, name: str) -> Brand | None:
    return session.scalars(select(Brand).where(Brand.slug == slugify(name))).first()


# --- a seller's products ---------------------------------------------------------------


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    total: int
    page: int
    per_page: int


def get_seller_product(*, session: Session, seller: SellerProfile, product_id: str) -> Product:
    """The seller's own product; anybody else's is indistinguishable from a missing one."""
    product = session.get(Product, product_id) if looks_like("prd", product_id) else None
    if product is None or product.seller_id != seller.id:
        raise NotFound("no such product")
    return product


def find_by_handle(*, session: Session, seller: SellerProfile, handle: str) -> Product | None:
    return session.scalars(
        select(Product).where(Product.seller_id == seller.id, Product.handle == handle.lower())
    ).first()


def list_seller_products(
    *,
    session: Session,
    seller: SellerProfile,
    status: str | None = None,
    q: str | None = None,
    category: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> ProductPage:
    """The seller's products, newest change first; ``q`` matches title, handle or SKU code."""
    if page < 1:
        raise InvalidInput("page starts at 1", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page is between 1 and {MAX_PER_PAGE}", field="per_page")
    conditions = [Product.seller_id == seller.id]
    if status:
        if status not in {s.value for s in ProductStatus}:
            raise InvalidInput("status is draft, active or archived", field="status")
        conditions.append(Product.status == status)
    if category:
        node = _category_for_input(session, category)
        subtree = select(Category.id).where(
            or_(Category.id == node.id, Category.path.startswith(node.path + "/"))
        )
        conditions.append(Product.category_id.in_(subtree))
    if q and q.strip():
        needle = q.strip().lower()
        by_code = select(Sku.product_id).where(func.lower(Sku.code) == needle)
        conditions.append(
            or_(
                func.lower(Product.title).contains(needle, autoescape=True),
                Product.handle.contains(needle, autoescape=True),
                Product.id.in_(by_code),
            )
        )
    total = session.scalar(select(func.count()).select_from(Product).where(*conditions)) or 0
    items = session.scalars(
        select(Product)
        .where(*conditions)
        .order_by(Product.updated_at.desc(), Product.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Product.skus), selectinload(Product.images))
    ).all()
    return ProductPage(items=list(items), total=int(total), page=page, per_page=per_page)


@dataclass(frozen=True)
class _Prices:
    price: int
    compare_at: int | None


def _prices(variants: Sequence[VariantInput], currency: str) -> list[_Prices]:
    """Every variant's prices in minor units; the first bad one is a 422 naming it."""
    out = []
    for index, variant in enumerate(variants):
        field = f"variants[{index}]"
        try:
            price = Money.from_decimal(variant.price, currency)
            compare_at = (
                Money.from_decimal(variant.compare_at, currency)
                if variant.compare_at is not None
                else None
            )
        except MoneyError as exc:
            raise InvalidInput(f"variant {variant.code}: {exc}", field=field) from None
        if price.amount < 0 or (compare_at is not None and compare_at.amount < 0):
            raise InvalidInput(f"variant {variant.code}: prices cannot be negative", field=field)
        out.append(_Prices(price.amount, compare_at.amount if compare_at else None))
    return out


def _unique_handle(session: Session, seller: SellerProfile, base: str) -> str:
    base = base or "product"
    taken = set(
        session.scalars(
            select(Product.handle).where(
                Product.seller_id == seller.id,
                or_(Product.handle == base, Product.handle.startswith(base + "-")),
            )
        ).all()
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check_handle_free(
    session: Session, seller: SellerProfile, handle: str, product_id: str | None
) -> None:
    existing = find_by_handle(session=session, seller=seller, handle=handle)
    if existing is not None and existing.id != product_id:
        raise Conflict(f"you already have a product with the handle {handle!r}", field="handle")


def _assert_can_activate(seller: SellerProfile, category: Category, skus: Sequence[Sku]) -> None:
    sellers.assert_can_sell(
        seller, market_code=SELLING_MARKET, category_slug=top_level_slug(category)
    )
    if not any(sku.is_active and sku.price_amount > 0 for sku in skus):
        raise InvalidInput(
            "a product goes live with at least one active variant that has a price",
            field="status",
        )


def _apply_fields(
    session: Session, product: Product, data: ProductInput, category: Category
) -> None:
    brand = find_brand(session=session, name=data.brand) if data.brand else None
    product.title = data.title
    product.description = data.description
    product.category_id = category.id
    product.brand_id = brand.id if brand else None
    product.brand_text = data.brand
    product.product_type = data.product_type
    product.tags = list(data.tags)
    product.option_names = list(data.option_names)
    product.hs_code = data.hs_code
    product.origin_country = data.origin_country
    product.length_mm = data.length_mm
    product.width_mm = data.width_mm
    product.height_mm = data.height_mm


def _apply_image_urls(product: Product, urls: Sequence[str]) -> None:
    """Keep uploaded images; make the URL-only images match ``urls``."""
    wanted = list(dict.fromkeys(urls))
    for image in list(product.images):
        if image.storage_key is None and image.source_url not in wanted:
            product.images.remove(image)
    known = {image.source_url for image in product.images}
    position = max((image.position for image in product.images), default=-1) + 1
    for url in wanted:
        if url not in known:
            product.images.append(ProductImage(source_url=url, position=position))
            position += 1


def _set_stock(
    session: Session,
    seller: SellerProfile,
    product: Product,
    variants: Sequence[VariantInput],
    actor_id: str | None,
    reason: AdjustmentReason,
) -> None:
    wanted = {v.code.lower(): v.stock for v in variants if v.stock is not None}
    if not wanted:
        return
    location = inventory.default_location(
        session=session, seller_id=seller.id, country=seller.ships_from_country
    )
    for sku in product.skus:
        stock = wanted.get(sku.code.lower())
        if stock is not None:
            inventory.set_on_hand(
                session=session,
                sku_id=sku.id,
                location_id=location.id,
                on_hand=stock,
                reason=reason,
                actor_id=actor_id,
            )


def _await_review(product: Product) -> None:
    """A seller's new or edited listing stays off the shelf until trust and safety's
    worker job (on ``product.changed``) has assessed it; a taken-down one stays down."""
    if product.moderation_status != ModerationStatus.TAKEN_DOWN:
        product.moderation_status = ModerationStatus.PENDING


def _changed(session: Session, product: Product) -> None:
    emit(
        session=session,
        topic=PRODUCT_CHANGED,
        payload={"product_id": product.id, "seller_id": product.seller_id},
        subject_id=product.id,
    )


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent write took the same handle or SKU code
        raise Conflict("another change to this catalog happened at the same time; retry") from exc


def create_product(
    *,
    session: Session,
    seller: SellerProfile,
    data: ProductInput,
    actor_id: str | None,
    prescreen: bool = False,
) -> Product:
    """``prescreen`` (every seller-facing route sets it) keeps the listing pending until
    trust and safety has assessed it."""
    category = _category_for_input(session, data.category)
    prices = _prices(data.variants, seller.currency)
    if data.handle:
        _check_handle_free(session, seller, data.handle, None)
        handle = data.handle
    else:
        handle = _unique_handle(session, seller, slugify(data.title))
    product = Product(seller_id=seller.id, handle=handle, currency=seller.currency, status="draft")
    _apply_fields(session, product, data, category)
    for position, (variant, price) in enumerate(zip(data.variants, prices, strict=True)):
        product.skus.append(
            Sku(
                code=variant.code,
                option_values=dict(variant.option_values),
                price_amount=price.price,
                compare_at_amount=price.compare_at,
                weight_grams=variant.weight_grams,
                barcode=variant.barcode,
                position=position,
                is_active=True,
            )
        )
    _apply_image_urls(product, data.image_urls)
    if data.status == ProductStatus.ACTIVE.value:
        _assert_can_activate(seller, category, product.skus)
        product.published_at = utcnow()
    product.status = data.status
    if prescreen:
        _await_review(product)
    session.add(product)
    _flush(session)
    _set_stock(session, seller, product, data.variants, actor_id, AdjustmentReason.RECEIVED)
    _changed(session, product)
    session.flush()
    return product


def update_product(
    *,
    session: Session,
    seller: SellerProfile,
    product_id: str,
    data: ProductInput,
    actor_id: str | None,
    prescreen: bool = False,
) -> Product:
    """Make the product what ``data`` says. Variants are matched by SKU code: matching ones
    are updated, new ones added, and ones no longer listed are deactivated (not deleted:
    orders and stock history point at them)."""
    product = get_seller_product(session=session, seller=seller, product_id=product_id)
    category = _category_for_input(session, data.category)
    prices = _prices(data.variants, product.currency)
    if data.handle and data.handle != product.handle:
        _check_handle_free(session, seller, data.handle, product.id)
        product.handle = data.handle
    _apply_fields(session, product, data, category)
    existing = {sku.code.lower(): sku for sku in product.skus}
    listed: set[str] = set()
    next_position = len(data.variants)
    for position, (variant, price) in enumerate(zip(data.variants, prices, strict=True)):
        key = variant.code.lower()
        listed.add(key)
        sku = existing.get(key)
        if sku is None:
            sku = Sku(code=variant.code)
            product.skus.append(sku)
        sku.code = variant.code
        sku.option_values = dict(variant.option_values)
        sku.price_amount = price.price
        sku.compare_at_amount = price.compare_at
        sku.weight_grams = variant.weight_grams
        sku.barcode = variant.barcode
        sku.position = position
        sku.is_active = True
    for key, sku in existing.items():
        if key not in listed:
            sku.is_active = False
            sku.position = next_position
            next_position += 1
    _apply_image_urls(product, data.image_urls)
    _change_status(seller, product, category, data.status)
    if prescreen:
        _await_review(product)
    product.updated_at = utcnow()  # also when only variants changed
    _flush(session)
    _set_stock(session, seller, product, data.variants, actor_id, AdjustmentReason.COUNT_CORRECTION)
    _changed(session, product)
    session.flush()
    return product


def _change_status(
    seller: SellerProfile, product: Product, category: Category, status: str
) -> None:
    if status not in {s.value for s in ProductStatus}:
        raise InvalidInput("status is draft, active or archived", field="status")
    if status == ProductStatus.ACTIVE:
        _assert_can_activate(seller, category, product.skus)
        if product.published_at is None:
            product.published_at = utcnow()
    product.status = status


def set_status(
    *,
    session: Session,
    seller: SellerProfile,
    product_id: str,
    status: str,
    actor_id: str | None,
) -> Product:
    """Publish, unpublish (draft) or archive. Going live re-checks the seller's approval."""
    product = get_seller_product(session=session, seller=seller, product_id=product_id)
    category = session.get(Category, product.category_id)
    assert category is not None
    _change_status(seller, product, category, status)
    product.updated_at = utcnow()
    _changed(session, product)
    session.flush()
    return product


def add_image(
    *,
    session: Session,
    seller: SellerProfile,
    product_id: str,
    data: bytes,
    filename: str,
    alt: str = "",
) -> ProductImage:
    """Validate, re-encode and store an uploaded image as the product's next image.

    ``filename`` is only a hint for the default alt text; the bytes decide the type.
    """
    product = get_seller_product(session=session, seller=seller, product_id=product_id)
    if len(product.images) >= 20:
        raise Conflict("a product has at most 20 images; remove one first")
    try:
        processed = image_pipeline.process(data)
    except ProblemError as exc:
        if filename:
            exc.detail = f"{filename[:100]}: {exc.detail}"
        raise
    storage = get_storage()
    key = new_key("images", ".webp")
    thumb_key = key.removesuffix(".webp") + "-400.webp"
    storage.put(key, processed.data, content_type=processed.content_type)
    storage.put(thumb_key, processed.thumb, content_type=processed.content_type)
    image = ProductImage(
        storage_key=key,
        thumb_key=thumb_key,
        width=processed.width,
        height=processed.height,
        content_type=processed.content_type,
        alt=(alt or product.title)[:255],
        position=max((i.position for i in product.images), default=-1) + 1,
    )
    product.images.append(image)
    product.updated_at = utcnow()
    _changed(session, product)
    session.flush()
    return image


def image_for_key(*, session: Session, key: str) -> ProductImage | None:
    """The image a stored object belongs to (its full size or its thumbnail)."""
    return session.scalars(
        select(ProductImage)
        .where(or_(ProductImage.storage_key == key, ProductImage.thumb_key == key))
        .limit(1)
    ).first()


# --- stock of a seller's SKUs ----------------------------------------------------------


@dataclass(frozen=True)
class LocationStock:
    location: StockLocation
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def get_seller_sku(*, session: Session, seller: SellerProfile, sku_id: str) -> Sku:
    sku = session.get(Sku, sku_id) if looks_like("sku", sku_id) else None
    if sku is None or sku.product.seller_id != seller.id:
        raise NotFound("no such SKU")
    return sku


def sku_stock(*, session: Session, seller: SellerProfile, sku_id: str) -> list[LocationStock]:
    sku = get_seller_sku(session=session, seller=seller, sku_id=sku_id)
    return stock_by_location(session=session, sku_ids=[sku.id]).get(sku.id, [])


def stock_by_location(
    *, session: Session, sku_ids: Sequence[str]
) -> dict[str, list[LocationStock]]:
    found: dict[str, list[LocationStock]] = {sku_id: [] for sku_id in sku_ids}
    for level, location in inventory.levels(session=session, sku_ids=sku_ids):
        found[level.sku_id].append(LocationStock(location, level.on_hand, level.reserved))
    return found


def adjust_sku_stock(
    *,
    session: Session,
    seller: SellerProfile,
    sku_id: str,
    delta: int,
    reason: AdjustmentReason,
    note: str | None,
    location_id: str | None,
    actor_id: str | None,
) -> list[LocationStock]:
    """A seller's stock correction at one of their own locations (default: main warehouse)."""
    sku = get_seller_sku(session=session, seller=seller, sku_id=sku_id)
    if reason == AdjustmentReason.SOLD:
        raise InvalidInput("sales take stock through orders, not adjustments", field="reason")
    if location_id is None:
        location = inventory.default_location(
            session=session, seller_id=seller.id, country=seller.ships_from_country
        )
    else:
        found = session.get(StockLocation, location_id)
        if found is None or found.seller_id != seller.id:
            raise NotFound("no such stock location")
        location = found
    inventory.adjust(
        session=session,
        sku_id=sku.id,
        location_id=location.id,
        delta=delta,
        reason=reason,
        actor_id=actor_id,
        note=note,
    )
    return sku_stock(session=session, seller=seller, sku_id=sku.id)


def list_sku_adjustments(
    *, session: Session, seller: SellerProfile, sku_id: str, limit: int = 100
) -> list[StockAdjustment]:
    sku = get_seller_sku(session=session, seller=seller, sku_id=sku_id)
    return inventory.list_adjustments(session=session, sku_id=sku.id, limit=limit)
