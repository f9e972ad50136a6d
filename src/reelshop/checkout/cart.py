"""The shopper's cart across sellers, and the review that says what changed since.

A cart line remembers the unit price the shopper saw. :func:`review_cart` compares
every line with now — price, stock, whether the seller may still sell it — and
checkout refuses to place a cart whose review has problems, so nobody pays a price
they were not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from reelshop.accounts.models import User
from reelshop.analytics import capture as analytics_capture
from reelshop.catalog import service as catalog
from reelshop.catalog.models import Sku
from reelshop.checkout import promotions
from reelshop.checkout.models import MAX_LINE_QUANTITY, Cart, CartLine, FlashDeal
from reelshop.db import insert_on_conflict, utcnow
from reelshop.errors import InvalidInput, NotFound
from reelshop.ids import looks_like
from reelshop.inventory import service as inventory
from reelshop.money import Money
from reelshop.sellers import service as sellers


class LineProblem:
    PRICE_CHANGED = "price_changed"
    OUT_OF_STOCK = "out_of_stock"
    NOT_AVAILABLE = "not_available"


def check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("quantity must be a whole number", field="quantity")
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidInput(f"quantity must be between 1 and {MAX_LINE_QUANTITY}", field="quantity")
    return quantity


@dataclass(frozen=True)
class UnitPrice:
    list_price: Money
    price: Money  # what the shopper pays per unit now
    deal: FlashDeal | None


def unit_prices(*, session: Session, skus: list[Sku], now: datetime) -> dict[str, UnitPrice]:
    """Steps 1 and 2 of the price-priority order: list price, replaced by a live flash deal."""
    deals = promotions.live_deals(session=session, sku_ids=[s.id for s in skus], now=now)
    prices: dict[str, UnitPrice] = {}
    for sku in skus:
        list_price = catalog.sku_price(sku)
        deal = deals.get(sku.id)
        if deal is not None and deal.deal_price_amount < list_price.amount:
            prices[sku.id] = UnitPrice(
                list_price, Money(deal.deal_price_amount, list_price.currency), deal
            )
        else:
            prices[sku.id] = UnitPrice(list_price, list_price, None)
    return prices


def sellable_problem(sku: Sku, *, session: Session, market_code: str) -> str | None:
    """Why this SKU cannot be bought in ``market_code`` now, or None."""
    product = sku.product
    if not product.on_sale or not sku.is_active:
        return "this item is no longer for sale"
    seller = sellers.get_seller(session=session, seller_id=product.seller_id)
    category = catalog.category_by_id(session=session, category_id=product.category_id)
    if not sellers.can_sell(seller, market_code=market_code, category_slug=category.path):
        return f"{seller.display_name} is not selling this in your market right now"
    return None


def get_cart(*, session: Session, shopper_id: str) -> Cart | None:
    return (
        session.scalars(
            select(Cart)
            .where(Cart.shopper_id == shopper_id)
            .options(joinedload(Cart.lines))
            .execution_options(populate_existing=True)
        )
        .unique()
        .first()
    )


def _cart_for_update(session: Session, shopper_id: str) -> Cart:
    cart = get_cart(session=session, shopper_id=shopper_id)
    if cart is not None:
        return cart
    from reelshop.ids import new_id

    session.execute(
        insert_on_conflict(session, Cart)
        .values(id=new_id("crt"), shopper_id=shopper_id, created_at=utcnow(), updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["shopper_id"])
    )
    cart = get_cart(session=session, shopper_id=shopper_id)
    assert cart is not None
    return cart


def add_line(
    *,
    session: Session,
    shopper: User,
    sku_id: str,
    quantity: int,
    video_id: str | None = None,
    creator_id: str | None = None,
) -> Cart:
    """Put ``quantity`` more of a SKU in the cart (one line per SKU; 99 at most)."""
    check_quantity(quantity)
    sku = catalog.get_skus(session=session, sku_ids=[sku_id]).get(sku_id)
    if sku is None:
        raise NotFound("no such item", field="sku_id")
    problem = sellable_problem(sku, session=session, market_code=shopper.market_code)
    if problem is not None:
        raise InvalidInput(problem, field="sku_id", sku_id=sku_id)
    cart = _cart_for_update(session, shopper.id)
    price = unit_prices(session=session, skus=[sku], now=utcnow())[sku.id].price
    line = next((ln for ln in cart.lines if ln.sku_id == sku.id), None)
    if line is None:
        cart.lines.append(
            CartLine(
                sku_id=sku.id,
                quantity=quantity,
                price_seen_amount=price.amount,
                currency=price.currency,
                video_id=video_id,
                creator_id=creator_id,
            )
        )
    else:
        if line.quantity + quantity > MAX_LINE_QUANTITY:
            raise InvalidInput(
                f"at most {MAX_LINE_QUANTITY} of one item per order "
                f"(you already have {line.quantity})",
                field="quantity",
            )
        line.quantity += quantity
        line.price_seen_amount = price.amount
        line.currency = price.currency
        line.video_id = video_id or line.video_id
        line.creator_id = creator_id or line.creator_id
    cart.updated_at = utcnow()
    session.flush()
    analytics_capture.added_to_cart(
        session=session,
        user_id=shopper.id,
        market_code=shopper.market_code,
        product_id=sku.product_id,
        quantity=quantity,
        video_id=video_id,
        creator_id=creator_id,
    )
    return cart


def _own_line(session: Session, shopper_id: str, line_id: str) -> tuple[Cart, CartLine]:
    cart = get_cart(session=session, shopper_id=shopper_id)
    line = None
    if cart is not None and looks_like("crl", line_id):
        line = next((ln for ln in cart.lines if ln.id == line_id), None)
    if cart is None or line is None:
        raise NotFound("no such cart line")
    return cart, line


def set_quantity(*, session: Session, shopper: User, line_id: str, quantity: int) -> Cart:
    """Change a line's quantity; the price shown now becomes the price seen."""
    check_quantity(quantity)
    cart, line = _own_line(session, shopper.id, line_id)
    sku = catalog.get_skus(session=session, sku_ids=[line.sku_id])[line.sku_id]
    price = unit_prices(session=session, skus=[sku], now=utcnow())[sku.id].price
    line.quantity = quantity
    line.price_seen_amount = price.amount
    cart.updated_at = utcnow()
    session.flush()
    return cart


def remove_line(*, session: Session, shopper: User, line_id: str) -> Cart:
    cart, line = _own_line(session, shopper.id, line_id)
    cart.lines.remove(line)
    cart.updated_at = utcnow()
    session.flush()
    return cart


def accept_current_prices(*, session: Session, shopper: User) -> Cart:
    """The shopper saw the new prices: they become the prices seen."""
    cart = _cart_for_update(session, shopper.id)
    skus = catalog.get_skus(session=session, sku_ids=[ln.sku_id for ln in cart.lines])
    prices = unit_prices(session=session, skus=list(skus.values()), now=utcnow())
    for line in cart.lines:
        if line.sku_id in prices:
            price = prices[line.sku_id].price
            line.price_seen_amount = price.amount
            line.currency = price.currency
    session.flush()
    return cart


@dataclass
class ReviewedLine:
    line: CartLine
    sku: Sku | None
    unit: UnitPrice | None
    available: int
    problems: list[dict[str, object]] = field(default_factory=list)

    @property
    def seller_id(self) -> str | None:
        return self.sku.product.seller_id if self.sku else None

    @property
    def line_total(self) -> Money | None:
        return self.unit.price * self.line.quantity if self.unit else None


@dataclass
class CartReview:
    cart: Cart | None
    lines: list[ReviewedLine]
    currencies: list[str]

    @property
    def problems(self) -> list[dict[str, object]]:
        return [p for ln in self.lines for p in ln.problems]

    def by_seller(self) -> dict[str, list[ReviewedLine]]:
        groups: dict[str, list[ReviewedLine]] = {}
        for line in self.lines:
            groups.setdefault(line.seller_id or "", []).append(line)
        return groups

    def subtotal(self) -> Money | None:
        if len(self.currencies) != 1:
            return None
        total = Money.zero(self.currencies[0])
        for line in self.lines:
            if line.line_total is not None:
                total = total + line.line_total
        return total


def review_cart(*, session: Session, shopper: User, now: datetime | None = None) -> CartReview:
    """Every line against the current price, stock and the seller's right to sell."""
    now = now or utcnow()
    cart = get_cart(session=session, shopper_id=shopper.id)
    if cart is None or not cart.lines:
        return CartReview(cart, [], [])
    skus = catalog.get_skus(session=session, sku_ids=[ln.sku_id for ln in cart.lines])
    prices = unit_prices(session=session, skus=list(skus.values()), now=now)
    stock = inventory.available(session=session, sku_ids=list(skus))
    reviewed: list[ReviewedLine] = []
    for line in cart.lines:
        sku = skus.get(line.sku_id)
        item = ReviewedLine(line, sku, prices.get(line.sku_id), stock.get(line.sku_id, 0))
        base = {"line_id": line.id, "sku_id": line.sku_id}
        reason = (
            sellable_problem(sku, session=session, market_code=shopper.market_code)
            if sku
            else "this item is no longer for sale"
        )
        if reason is not None:
            item.problems.append({**base, "code": LineProblem.NOT_AVAILABLE, "detail": reason})
        elif item.available < line.quantity:
            item.problems.append(
                {
                    **base,
                    "code": LineProblem.OUT_OF_STOCK,
                    "detail": (
                        "sold out"
                        if item.available <= 0
                        else f"only {item.available} left; you asked for {line.quantity}"
                    ),
                    "available": max(item.available, 0),
                }
            )
        if item.unit is not None and item.unit.price.amount != line.price_seen_amount:
            seen = Money(line.price_seen_amount, line.currency)
            item.problems.append(
                {
                    **base,
                    "code": LineProblem.PRICE_CHANGED,
                    "detail": f"the price changed from {seen.format()} to "
                    f"{item.unit.price.format()}",
                    "price_seen_amount": line.price_seen_amount,
                    "price_amount": item.unit.price.amount,
                }
            )
        reviewed.append(item)
    currencies = sorted({r.unit.price.currency for r in reviewed if r.unit is not None})
    return CartReview(cart, reviewed, currencies)


def clear(*, session: Session, cart: Cart) -> None:
    cart.lines.clear()
    cart.updated_at = utcnow()
    session.flush()
