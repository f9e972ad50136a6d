"""GET /api/v1/search: the shop's product search, public like the shop itself."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from reelshop.catalog import search as shop_search
from reelshop.catalog.search_schemas import SearchOut
from reelshop.errors import InvalidInput, problem_responses
from reelshop.money import Money, MoneyError
from reelshop.security.authz import ReadDbSession

router = APIRouter(tags=["search"])

MAX_PAGE = 50  # deeper than 1,000 results is a crawler, not a shopper


def _price(value: Decimal | None, name: str) -> Money | None:
    if value is None:
        return None
    try:
        return shop_search.price_from_decimal(value)
    except MoneyError as exc:
        raise InvalidInput(f"{name}: {exc}", field=name) from None


def build_query(
    *,
    q: str,
    category: str | None,
    brand: str | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    ships_from: str | None,
    rating_min: float | None,
    sort: shop_search.SortOrder,
    page: int,
    per_page: int = 20,
) -> shop_search.SearchQuery:
    """Validated search parameters; shared with the shop pages."""
    low = _price(min_price, "min_price")
    high = _price(max_price, "max_price")
    if low is not None and high is not None and low.amount > high.amount:
        raise InvalidInput("min_price is above max_price", field="min_price")
    return shop_search.SearchQuery(
        q=q.strip(),
        category=category or None,
        brand=brand or None,
        min_price=low,
        max_price=high,
        ships_from=ships_from or None,
        rating_min=rating_min,
        sort=sort,
        page=page,
        per_page=per_page,
    )


Q = Annotated[str, Query(max_length=200, description="Words to look for; typos are tolerated")]
CategoryParam = Annotated[
    str | None,
    Query(max_length=400, pattern=r"^[a-z0-9][a-z0-9/-]*$", description="Slug or path"),
]
BrandParam = Annotated[str | None, Query(max_length=120, pattern=r"^[a-z0-9][a-z0-9-]*$")]
PriceParam = Annotated[Decimal | None, Query(ge=0, le=1_000_000, description="USD, e.g. 19.99")]
CountryParam = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166 code")]
RatingParam = Annotated[float | None, Query(ge=0, le=5)]
PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE)]


@router.get(
    "/search",
    summary="Search the shop: keyword and semantic ranking, facets and sorting",
    response_model=SearchOut,
    responses=problem_responses(422),
)
def search_products(
    session: ReadDbSession,
    q: Q = "",
    category: CategoryParam = None,
    brand: BrandParam = None,
    min_price: PriceParam = None,
    max_price: PriceParam = None,
    ships_from: CountryParam = None,
    rating_min: RatingParam = None,
    sort: shop_search.SortOrder = "relevance",
    page: PageParam = 1,
) -> SearchOut:
    query = build_query(
        q=q,
        category=category,
        brand=brand,
        min_price=min_price,
        max_price=max_price,
        ships_from=ships_from,
        rating_min=rating_min,
        sort=sort,
        page=page,
    )
    return SearchOut.of(shop_search.search(session=session, query=query))
