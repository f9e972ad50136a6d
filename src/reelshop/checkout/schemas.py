"""API shapes of the checkout domain. Amounts are integer minor units with their currency."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from reelshop.checkout.cart import CartReview, ReviewedLine
from reelshop.checkout.models import (
    MAX_LINE_QUANTITY,
    Checkout,
    FlashDeal,
    Order,
    OrderLine,
    OrderStatusChange,
    Voucher,
)


class Amount(BaseModel):
    amount: int = Field(description="minor units (cents for USD)")
    currency: str


def _amount(value: int, currency: str) -> Amount:
    return Amount(amount=value, currency=currency)


class CartLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: str = Field(min_length=1, max_length=40)
    quantity: StrictInt = Field(ge=1, le=MAX_LINE_QUANTITY)
    video_id: str | None = Field(default=None, max_length=40)
    creator_id: str | None = Field(default=None, max_length=40)


class CartLineUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: StrictInt = Field(ge=1, le=MAX_LINE_QUANTITY)


class LineProblemOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    line_id: str
    sku_id: str
    code: Literal["price_changed", "out_of_stock", "not_available"]
    detail: str


class CartLineOut(BaseModel):
    id: str
    sku_id: str
    product_id: str | None
    seller_id: str | None
    title: str
    option_values: dict[str, Any]
    quantity: int
    unit_price: Amount | None
    list_price: Amount | None
    price_seen: Amount
    line_total: Amount | None
    flash_deal_id: str | None
    problems: list[LineProblemOut]

    @classmethod
    def of(cls, item: ReviewedLine) -> CartLineOut:
        line, sku, unit = item.line, item.sku, item.unit
        return cls(
            id=line.id,
            sku_id=line.sku_id,
            product_id=sku.product_id if sku else None,
            seller_id=item.seller_id,
            title=sku.product.title if sku else "Unavailable item",
            option_values=dict(sku.option_values or {}) if sku else {},
            quantity=line.quantity,
            unit_price=_amount(unit.price.amount, unit.price.currency) if unit else None,
            list_price=_amount(unit.list_price.amount, unit.list_price.currency) if unit else None,
            price_seen=_amount(line.price_seen_amount, line.currency),
            line_total=(
                _amount(item.line_total.amount, item.line_total.currency)
                if item.line_total
                else None
            ),
            flash_deal_id=unit.deal.id if unit and unit.deal else None,
            problems=[LineProblemOut.model_validate(p) for p in item.problems],
        )


class CartOut(BaseModel):
    id: str | None
    lines: list[CartLineOut]
    currencies: list[str]
    subtotal: Amount | None
    ready_for_checkout: bool

    @classmethod
    def of(cls, review: CartReview) -> CartOut:
        subtotal = review.subtotal()
        return cls(
            id=review.cart.id if review.cart else None,
            lines=[CartLineOut.of(item) for item in review.lines],
            currencies=review.currencies,
            subtotal=_amount(subtotal.amount, subtotal.currency) if subtotal else None,
            ready_for_checkout=bool(review.lines)
            and not review.problems
            and len(review.currencies) == 1,
        )


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str = Field(min_length=1, max_length=120)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=120)
    region: str = Field(min_length=1, max_length=120)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
    phone: str | None = Field(default=None, max_length=40)


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address_id: str | None = Field(default=None, max_length=40)
    address: AddressIn | None = None
    shipping: dict[str, Literal["standard", "express"]] = Field(
        default_factory=dict, description="shipping method per seller id (standard by default)"
    )
    voucher_codes: list[str] = Field(default_factory=list, max_length=10)


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sku_id: str
    product_id: str
    title: str
    option_values: dict[str, Any]
    quantity: int
    list_price_amount: int
    unit_price_amount: int
    line_total_amount: int
    flash_deal_id: str | None
    video_id: str | None
    creator_id: str | None


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    reason: str | None
    at: datetime


class OrderOut(BaseModel):
    id: str
    checkout_id: str
    seller_id: str
    status: str
    currency: str
    shipping_method: str
    subtotal_amount: int
    shipping_amount: int
    discount_amount: int
    seller_discount_amount: int
    platform_discount_amount: int
    total_amount: int
    refunded_amount: int
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    lines: list[OrderLineOut]
    history: list[StatusChangeOut] | None = None

    @classmethod
    def of(
        cls,
        order: Order,
        lines: list[OrderLine] | None = None,
        history: list[OrderStatusChange] | None = None,
    ) -> OrderOut:
        return cls(
            id=order.id,
            checkout_id=order.checkout_id,
            seller_id=order.seller_id,
            status=order.status,
            currency=order.currency,
            shipping_method=order.shipping_method,
            subtotal_amount=order.subtotal_amount,
            shipping_amount=order.shipping_amount,
            discount_amount=order.discount_amount,
            seller_discount_amount=order.seller_discount_amount,
            platform_discount_amount=order.platform_discount_amount,
            total_amount=order.total_amount,
            refunded_amount=order.refunded_amount,
            placed_at=order.placed_at,
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            completed_at=order.completed_at,
            cancelled_at=order.cancelled_at,
            lines=[OrderLineOut.model_validate(ln) for ln in (lines or order.lines)],
            history=(
                [StatusChangeOut.model_validate(h) for h in history]
                if history is not None
                else None
            ),
        )


class CheckoutOut(BaseModel):
    id: str
    status: str
    currency: str
    subtotal_amount: int
    discount_amount: int
    shipping_amount: int
    total_amount: int
    expires_at: datetime
    created_at: datetime
    paid_at: datetime | None
    shipping_country: str
    pay_url: str
    orders: list[OrderOut]

    @classmethod
    def of(cls, checkout: Checkout, orders: list[Order]) -> CheckoutOut:
        return cls(
            id=checkout.id,
            status=checkout.status,
            currency=checkout.currency,
            subtotal_amount=checkout.subtotal_amount,
            discount_amount=checkout.discount_amount,
            shipping_amount=checkout.shipping_amount,
            total_amount=checkout.total_amount,
            expires_at=checkout.expires_at,
            created_at=checkout.created_at,
            paid_at=checkout.paid_at,
            shipping_country=checkout.shipping_country,
            pay_url=f"/checkout/{checkout.id}/pay",
            orders=[OrderOut.of(o) for o in orders],
        )


class SellerCancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=200)


class VoucherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=3, max_length=40)
    kind: Literal["percent", "fixed"]
    percent_bp: StrictInt | None = Field(default=None, ge=1, le=10_000)
    amount: StrictInt | None = Field(default=None, ge=1, le=100_000_000)
    max_discount_amount: StrictInt | None = Field(default=None, ge=1, le=100_000_000)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    market_code: str = Field(default="US", min_length=2, max_length=2)
    min_spend_amount: StrictInt = Field(default=0, ge=0, le=1_000_000_000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    max_uses_total: StrictInt | None = Field(default=None, ge=1, le=100_000_000)
    max_uses_per_user: StrictInt = Field(default=1, ge=1, le=1000)


class VoucherOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    funded_by: str
    seller_id: str | None
    kind: str
    percent_bp: int | None
    amount: int | None
    max_discount_amount: int | None
    currency: str
    market_code: str
    min_spend_amount: int
    starts_at: datetime
    ends_at: datetime
    max_uses_total: int | None
    max_uses_per_user: int
    uses_count: int

    @classmethod
    def of(cls, voucher: Voucher) -> VoucherOut:
        return cls.model_validate(voucher)


class VoucherCheckOut(BaseModel):
    code: str
    valid: bool
    reason: str | None
    funded_by: str | None = None
    seller_id: str | None = None
    kind: str | None = None
    percent_bp: int | None = None
    amount: int | None = None
    currency: str | None = None
    min_spend_amount: int | None = None
    ends_at: datetime | None = None
    uses_left_for_you: int | None = None
    discount_on_cart: Amount | None = None


class FlashDealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: str = Field(min_length=1, max_length=40)
    deal_price_amount: StrictInt = Field(ge=1, le=1_000_000_000)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    quantity: StrictInt = Field(ge=1, le=1_000_000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    market_code: str = Field(default="US", min_length=2, max_length=2)


class FlashDealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sku_id: str
    seller_id: str
    market_code: str
    currency: str
    deal_price_amount: int
    reference_price_amount: int
    quantity_total: int
    quantity_taken: int
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, deal: FlashDeal) -> FlashDealOut:
        return cls.model_validate(deal)
