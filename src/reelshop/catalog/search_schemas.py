"""What the shop search API answers."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from reelshop.catalog.images import media_url
from reelshop.catalog.search import FacetValue, PriceBucket, SearchHit, SearchResult
from reelshop.money import Money


class MoneyOut(BaseModel):
    amount: Decimal  # major units, e.g. 12.99
    amount_minor: int  # minor units, e.g. 1299
    currency: str
    formatted: str

    @classmethod
    def of(cls, money: Money | None) -> MoneyOut | None:
        if money is None:
            return None
        return cls(
            amount=money.to_decimal(),
            amount_minor=money.amount,
            currency=money.currency,
            formatted=money.format("en_US"),
        )


class SearchItemOut(BaseModel):
    id: str
    title: str
    url: str
    price: MoneyOut | None
    compare_at: MoneyOut | None
    thumb_url: str | None
    seller_id: str
    seller_name: str
    ships_from: str
    brand: str | None
    category: str
    rating: float | None  # filled once reviews exist
    rating_count: int | None
    units_sold: int | None

    @classmethod
    def of(cls, hit: SearchHit) -> SearchItemOut:
        return cls(
            id=hit.product_id,
            title=hit.title,
            url=f"/products/{hit.product_id}",
            price=MoneyOut.of(hit.price),
            compare_at=MoneyOut.of(hit.compare_at),
            thumb_url=media_url(hit.thumb_key),
            seller_id=hit.seller_id,
            seller_name=hit.seller_name,
            ships_from=hit.ships_from,
            brand=hit.brand_name or None,
            category=hit.category_path,
            rating=hit.rating,
            rating_count=hit.rating_count,
            units_sold=hit.units_sold,
        )


class FacetValueOut(BaseModel):
    value: str
    label: str
    count: int

    @classmethod
    def of(cls, facet: FacetValue) -> FacetValueOut:
        return cls(value=facet.value, label=facet.label, count=facet.count)


class PriceBucketOut(BaseModel):
    min_price: MoneyOut | None
    max_price: MoneyOut | None  # exclusive
    count: int

    @classmethod
    def of(cls, bucket: PriceBucket) -> PriceBucketOut:
        return cls(
            min_price=MoneyOut.of(bucket.min_price),
            max_price=MoneyOut.of(bucket.max_price),
            count=bucket.count,
        )


class FacetsOut(BaseModel):
    category: list[FacetValueOut]
    brand: list[FacetValueOut]
    ships_from: list[FacetValueOut]
    rating: list[FacetValueOut]
    price: list[PriceBucketOut]


class SearchOut(BaseModel):
    items: list[SearchItemOut]
    total: int
    page: int
    per_page: int
    pages: int
    facets: FacetsOut
    corrected: dict[str, list[str]]  # a typed word and the indexed words searched for it

    @classmethod
    def of(cls, result: SearchResult) -> SearchOut:
        def values(name: str) -> list[FacetValueOut]:
            return [FacetValueOut.of(f) for f in result.facets.get(name, [])]

        return cls(
            items=[SearchItemOut.of(h) for h in result.items],
            total=result.total,
            page=result.page,
            per_page=result.per_page,
            pages=result.pages,
            facets=FacetsOut(
                category=values("category"),
                brand=values("brand"),
                ships_from=values("ships_from"),
                rating=values("rating"),
                price=[PriceBucketOut.of(b) for b in result.price_buckets],
            ),
            corrected=result.corrected,
        )
