"""The Shop tab: category browsing, search with facets, and the product page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlencode

from babel import Locale
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from reelshop.catalog import search as shop_search
from reelshop.catalog import storefront
from reelshop.catalog.images import media_url
from reelshop.catalog.search_api import MAX_PAGE, build_query
from reelshop.errors import InvalidInput, ProblemError
from reelshop.money import Money
from reelshop.security.authz import OptionalPrincipal, ReadDbSession
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

CART_FORM = "/cart/items"  # the checkout capability's route
SORT_LABELS = {
    "relevance": "Best match",
    "best_selling": "Best selling",
    "newest": "Newest",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
}
FILTER_KEYS = ("q", "category", "brand", "min_price", "max_price", "ships_from", "rating_min")


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    return str(Locale("en").territories.get(code.upper(), code))


def _decimal(value: str | None, name: str) -> Decimal | None:
    if not value:
        return None
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise InvalidInput(f"{name} is not an amount", field=name) from None
    if not parsed.is_finite() or parsed < 0:
        raise InvalidInput(f"{name} must be zero or more", field=name)
    return parsed


def _rating(value: str | None) -> float | None:
    if not value:
        return None
    try:
        rating = float(value)
    except ValueError:
        raise InvalidInput("rating_min is a number from 0 to 5", field="rating_min") from None
    if not 0 <= rating <= 5:
        raise InvalidInput("rating_min is a number from 0 to 5", field="rating_min")
    return rating


def _link(base: str, params: dict[str, str], **changes: str | None) -> str:
    """This listing's URL with some parameters changed (None or "" drops one); any change
    other than the page goes back to page 1."""
    merged = {k: v for k, v in {**params, **changes}.items() if v}
    if "page" not in changes:
        merged.pop("page", None)
    return f"{base}?{urlencode(merged)}" if merged else base


def _listing(
    request: Request,
    session: ReadDbSession,
    *,
    base: str,
    params: dict[str, str],
    sort: str,
    page: int,
    heading: str,
    trail: list[dict[str, str]],
    children: list[storefront.CategoryTile] | None = None,
    category: str | None = None,
    default_sort: str = "relevance",
) -> Response:
    """``category`` is the browsed category, already in ``base``; a search's category
    filter travels in ``params`` instead."""
    if sort not in SORT_LABELS:
        raise InvalidInput(f"sort is one of {', '.join(SORT_LABELS)}", field="sort")
    query = build_query(
        q=params.get("q", ""),
        category=category or params.get("category"),
        brand=params.get("brand"),
        min_price=_decimal(params.get("min_price"), "min_price"),
        max_price=_decimal(params.get("max_price"), "max_price"),
        ships_from=(params.get("ships_from") or "").upper() or None,
        rating_min=_rating(params.get("rating_min")),
        sort=sort,  # type: ignore[arg-type]
        page=page,
    )
    result = shop_search.search(session=session, query=query)
    keep = {**params, "sort": sort if sort != default_sort else ""}
    price_links = []
    for bucket in result.price_buckets:
        if not bucket.count:
            continue
        low, high = bucket.min_price, bucket.max_price
        if low and high:
            label = f"{low.format()} to {high.format()}"
        elif high:
            label = f"Under {high.format()}"
        else:
            label = f"{low.format() if low else '$0'} & up"
        url = _link(
            base,
            keep,
            min_price=str(low.to_decimal()) if low else None,
            max_price=str(Money(high.amount - 1, high.currency).to_decimal()) if high else None,
        )
        price_links.append({"label": label, "url": url, "count": bucket.count})
    return render(
        request,
        "shop/listing.html",
        {
            "active": "shop",
            "heading": heading,
            "trail": trail,
            "result": result,
            "params": params,
            "sort": sort,
            "sort_labels": SORT_LABELS,
            "base": base,
            "link": lambda **changes: _link(base, keep, **changes),
            "thumb": media_url,
            "country_name": country_name,
            "active_filters": [(k, params[k]) for k in FILTER_KEYS[1:] if params.get(k)],
            "children": children or [],
            "price_links": price_links,
        },
    )


def _params(**values: str | None) -> dict[str, str]:
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


Text = Annotated[str | None, Query(max_length=400)]
PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE)]


@router.get("/shop/browse", response_class=HTMLResponse)
def browse(request: Request, session: ReadDbSession, principal: OptionalPrincipal) -> Response:
    counts = shop_search.category_counts(session=session)
    _, tiles = storefront.category_tiles(session=session, counts=counts)
    return render(request, "shop/browse.html", {"active": "shop", "tiles": tiles})


@router.get("/shop/browse/{category_path:path}", response_class=HTMLResponse)
def browse_category(
    request: Request,
    session: ReadDbSession,
    principal: OptionalPrincipal,
    category_path: str,
    q: Text = None,
    brand: Text = None,
    min_price: Text = None,
    max_price: Text = None,
    ships_from: Text = None,
    rating_min: Text = None,
    sort: str = "best_selling",
    page: PageParam = 1,
) -> Response:
    category = storefront.category_by_slug_or_path(session=session, key=category_path)
    counts = shop_search.category_counts(session=session)
    _, children = storefront.category_tiles(
        session=session, counts=counts, parent_path=category.path
    )
    params = _params(
        q=q,
        brand=brand,
        min_price=min_price,
        max_price=max_price,
        ships_from=ships_from,
        rating_min=rating_min,
    )
    trail = [
        {"name": c.name, "url": f"/shop/browse/{c.path}"}
        for c in storefront.category_trail(session=session, category=category)
    ]
    return _listing(
        request,
        session,
        base=f"/shop/browse/{category.path}",
        params=params,
        sort=sort,
        page=page,
        heading=category.name,
        trail=trail,
        children=children,
        category=category.path,
        default_sort="best_selling",
    )


@router.get("/shop/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: ReadDbSession,
    principal: OptionalPrincipal,
    q: Annotated[str, Query(max_length=200)] = "",
    category: Text = None,
    brand: Text = None,
    min_price: Text = None,
    max_price: Text = None,
    ships_from: Text = None,
    rating_min: Text = None,
    sort: str = "relevance",
    page: PageParam = 1,
) -> Response:
    params = _params(
        q=q,
        category=category,
        brand=brand,
        min_price=min_price,
        max_price=max_price,
        ships_from=ships_from,
        rating_min=rating_min,
    )
    heading = f"Results for “{q.strip()}”" if q.strip() else "All products"
    try:
        return _listing(
            request,
            session,
            base="/shop/search",
            params=params,
            sort=sort,
            page=page,
            heading=heading,
            trail=[],
        )
    except ProblemError as exc:
        return render(
            request,
            "shop/listing.html",
            {
                "active": "shop",
                "heading": heading,
                "error": exc.detail,
                "params": params,
                "sort": "relevance",
                "sort_labels": SORT_LABELS,
                "base": "/shop/search",
                "link": lambda **changes: _link("/shop/search", {"q": q}, **changes),
                "active_filters": [],
                "trail": [],
            },
            status_code=exc.status,
        )


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(
    request: Request,
    session: ReadDbSession,
    principal: OptionalPrincipal,
    product_id: str,
    sku: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    view = storefront.product_view(session=session, product_id=product_id, sku_id=sku)
    return render(
        request,
        "shop/product.html",
        {
            "active": "shop",
            "view": view,
            "media_url": media_url,
            "country_name": country_name,
            "cart_form": CART_FORM,
        },
    )
