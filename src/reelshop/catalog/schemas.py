"""What a seller sends to list a product, and what the catalog API answers."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from reelshop.inventory.models import AdjustmentReason

MAX_OPTIONS = 3
MAX_VARIANTS = 100
MAX_IMAGES = 20

_HANDLE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HS_CODE = re.compile(r"^[0-9]{6,10}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
ProductStatusName = Literal["draft", "active", "archived"]


class VariantInput(BaseModel):
    """One SKU. ``price`` is in major units of the seller's currency ("12.99")."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    option_values: dict[str, str] = Field(default_factory=dict)
    price: Decimal = Field(ge=0, max_digits=14, allow_inf_nan=False)
    compare_at: Decimal | None = Field(default=None, ge=0, max_digits=14, allow_inf_nan=False)
    weight_grams: int | None = Field(default=None, ge=0, le=1_000_000)
    barcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    stock: int | None = Field(default=None, ge=0, le=1_000_000)

    @field_validator("option_values")
    @classmethod
    def _clean_values(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned = {k.strip(): v.strip() for k, v in value.items()}
        if any(not k or not v or len(v) > 120 for k, v in cleaned.items()):
            raise ValueError("option values must be non-empty text of at most 120 characters")
        return cleaned


class ProductInput(BaseModel):
    """A whole product as the seller wants it to be (create and full update)."""

    model_config = ConfigDict(extra="forbid")

    handle: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
    brand: ShortText | None = None
    product_type: ShortText | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    option_names: list[ShortText] = Field(default_factory=list, max_length=MAX_OPTIONS)
    status: ProductStatusName = "draft"
    hs_code: str | None = None
    origin_country: str | None = None
    length_mm: int | None = Field(default=None, gt=0, le=10_000)
    width_mm: int | None = Field(default=None, gt=0, le=10_000)
    height_mm: int | None = Field(default=None, gt=0, le=10_000)
    variants: list[VariantInput] = Field(min_length=1, max_length=MAX_VARIANTS)
    image_urls: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=MAX_IMAGES
    )

    @field_validator("handle")
    @classmethod
    def _check_handle(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.lower()
        if not _HANDLE.match(value):
            raise ValueError("a handle is lower-case letters, digits and single hyphens")
        return value

    @field_validator("hs_code")
    @classmethod
    def _check_hs_code(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        digits = value.replace(".", "").replace(" ", "")
        if not _HS_CODE.match(digits):
            raise ValueError("an HS code is 6 to 10 digits")
        return digits

    @field_validator("origin_country")
    @classmethod
    def _check_country(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip().upper()
        if not _COUNTRY.match(value):
            raise ValueError("country of origin is an ISO 3166 alpha-2 code such as CN")
        return value

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for tag in value:
            seen.setdefault(tag.lower(), tag)
        return list(seen.values())

    @field_validator("image_urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("https://", "http://")):
                raise ValueError("image URLs start with https:// or http://")
        return value

    @model_validator(mode="after")
    def _check_variants(self) -> ProductInput:
        names = self.option_names
        if len({n.lower() for n in names}) != len(names):
            raise ValueError("option names must be different from each other")
        codes = [v.code.lower() for v in self.variants]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate SKU codes: {', '.join(duplicates)}")
        combinations: set[tuple[str, ...]] = set()
        for variant in self.variants:
            if set(variant.option_values) != set(names):
                raise ValueError(
                    f"variant {variant.code}: option values must name exactly the options "
                    f"{names or '[] (no options)'}, got {sorted(variant.option_values)}"
                )
            combo = tuple(variant.option_values[n].lower() for n in names)
            if combo in combinations:
                raise ValueError(f"variant {variant.code}: the same options as another variant")
            combinations.add(combo)
            if (
                variant.compare_at is not None
                and variant.compare_at != 0
                and variant.compare_at <= variant.price
            ):
                raise ValueError(
                    f"variant {variant.code}: compare-at price must be above the price"
                )
        return self


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ProductStatusName


class ImageOut(BaseModel):
    id: str
    position: int
    url: str | None
    thumb_url: str | None
    width: int | None
    height: int | None
    content_type: str | None
    alt: str
    source_url: str | None


class StockLocationOut(BaseModel):
    location_id: str
    name: str
    country: str
    on_hand: int
    reserved: int
    available: int


class StockOut(BaseModel):
    sku_id: str
    on_hand: int
    reserved: int
    available: int
    locations: list[StockLocationOut] = Field(default_factory=list)


class SkuOut(BaseModel):
    id: str
    code: str
    option_values: dict[str, str]
    price: Decimal
    price_minor: int
    compare_at: Decimal | None
    currency: str
    weight_grams: int | None
    barcode: str | None
    position: int
    is_active: bool
    stock: StockOut | None = None


class ProductOut(BaseModel):
    id: str
    seller_id: str
    handle: str
    title: str
    description: str
    category: str  # the category's path, e.g. "electronics/audio"
    brand: str | None
    brand_id: str | None
    product_type: str | None
    tags: list[str]
    option_names: list[str]
    status: ProductStatusName
    currency: str
    hs_code: str | None
    origin_country: str | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    variants: list[SkuOut]
    images: list[ImageOut]


class ProductSummaryOut(BaseModel):
    id: str
    handle: str
    title: str
    status: ProductStatusName
    category: str
    currency: str
    min_price: Decimal | None
    max_price: Decimal | None
    variant_count: int
    thumb_url: str | None
    updated_at: datetime


class ProductPageOut(BaseModel):
    items: list[ProductSummaryOut]
    total: int
    page: int
    per_page: int


class CategoryOut(BaseModel):
    id: str
    slug: str
    name: str
    path: str
    parent_id: str | None
    depth: int


class AdjustmentInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: AdjustmentReason
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    location_id: str | None = None  # default: the seller's main warehouse


class AdjustmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sku_id: str
    location_id: str
    delta: int
    reason: str
    note: str | None
    actor_id: str | None
    created_at: datetime


class StockWithAdjustmentsOut(BaseModel):
    stock: StockOut
    adjustments: list[AdjustmentOut]
