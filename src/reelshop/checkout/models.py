"""Tables of the checkout domain: carts, checkouts, orders, vouchers, flash deals, prices seen."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from reelshop.catalog.models import Sku
from reelshop.db import Base, CreatedAtMixin, utcnow
from reelshop.ids import new_id
from reelshop.security.fields import Encrypted

MAX_LINE_QUANTITY = 99


class CheckoutStatus(StrEnum):
    OPEN = "open"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class ShippingMethod(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"


class VoucherFunding(StrEnum):
    PLATFORM = "platform"
    SELLER = "seller"


class VoucherKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class Cart(CreatedAtMixin, Base):
    """One cart per shopper, across sellers."""

    __tablename__ = "carts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("crt"))
    shopper_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartLine.created_at"
    )


class CartLine(CreatedAtMixin, Base):
    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("cart_id", "sku_id", name="uq_cart_lines_cart_sku"),
        CheckConstraint(f"quantity BETWEEN 1 AND {MAX_LINE_QUANTITY}", name="quantity_range"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("crl"))
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    # The unit price the shopper was shown when adding; checkout refuses silently changed prices.
    price_seen_amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    video_id: Mapped[str | None] = mapped_column(String(40), default=None)
    creator_id: Mapped[str | None] = mapped_column(String(40), default=None)

    cart: Mapped[Cart] = relationship(back_populates="lines")


class Checkout(CreatedAtMixin, Base):
    """The parent of one order per seller: what the shopper pays in one payment."""

    __tablename__ = "checkouts"
    __table_args__ = (
        Index("ix_checkouts_status_expires", "status", "expires_at"),
        CheckConstraint("total_amount >= 0", name="total_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("chk"))
    shopper_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    market_code: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20), default=CheckoutStatus.AWAITING_PAYMENT)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_amount: Mapped[int]
    discount_amount: Mapped[int] = mapped_column(default=0)
    shipping_amount: Mapped[int] = mapped_column(default=0)
    total_amount: Mapped[int]
    # JSON of the address as typed or copied at placement, sealed (personal data).
    shipping_address: Mapped[str] = mapped_column(Encrypted("checkouts.shipping_address"))
    shipping_country: Mapped[str] = mapped_column(String(2))
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_reason: Mapped[str | None] = mapped_column(String(200), default=None)

    orders: Mapped[list[Order]] = relationship(
        back_populates="checkout", order_by="Order.created_at"
    )


class Order(CreatedAtMixin, Base):
    """What one seller owes the shopper from one checkout."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_seller_placed", "seller_id", "placed_at"),
        Index("ix_orders_status_delivered", "status", "delivered_at"),
        CheckConstraint("total_amount >= 0", name="total_not_negative"),
        CheckConstraint("refunded_amount <= total_amount", name="refund_within_total"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ord"))
    checkout_id: Mapped[str] = mapped_column(ForeignKey("checkouts.id"), index=True)
    shopper_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PLACED)
    currency: Mapped[str] = mapped_column(String(3))
    shipping_method: Mapped[str] = mapped_column(String(16), default=ShippingMethod.STANDARD)
    subtotal_amount: Mapped[int]
    shipping_amount: Mapped[int] = mapped_column(default=0)
    discount_amount: Mapped[int] = mapped_column(default=0)
    platform_discount_amount: Mapped[int] = mapped_column(default=0)
    seller_discount_amount: Mapped[int] = mapped_column(default=0)
    total_amount: Mapped[int]
    refunded_amount: Mapped[int] = mapped_column(default=0)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)

    checkout: Mapped[Checkout] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position"
    )
    history: Mapped[list[OrderStatusChange]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderStatusChange.at"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("oln"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(255))
    option_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    list_price_amount: Mapped[int]  # the SKU's price before any deal
    unit_price_amount: Mapped[int]  # what the shopper pays per unit (deal price if any)
    quantity: Mapped[int]
    line_total_amount: Mapped[int]
    flash_deal_id: Mapped[str | None] = mapped_column(ForeignKey("flash_deals.id"), default=None)
    reservation_id: Mapped[str | None] = mapped_column(
        ForeignKey("reservations.id"), default=None, index=True
    )
    video_id: Mapped[str | None] = mapped_column(String(40), default=None)
    creator_id: Mapped[str | None] = mapped_column(String(40), default=None)

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderStatusChange(Base):
    """The order's timeline: every transition, who made it and why."""

    __tablename__ = "order_status_changes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("osc"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str | None] = mapped_column(String(40), default=None)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="history")


class ShippingRate(Base):
    """Flat per-seller shipping price by market and method (reference data, seeded)."""

    __tablename__ = "shipping_rates"

    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), primary_key=True)
    method: Mapped[str] = mapped_column(String(16), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]
    min_days: Mapped[int]
    max_days: Mapped[int]


class FlashDealRule(Base):
    """A market's rules for flash deals (reference data, seeded; US after the leading
    platform's published policy)."""

    __tablename__ = "flash_deal_rules"

    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"), primary_key=True)
    max_duration_hours: Mapped[int]
    lowest_price_lookback_days: Mapped[int]
    max_quantity: Mapped[int] = mapped_column(default=100_000)


class Voucher(CreatedAtMixin, Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("uses_count >= 0", name="uses_not_negative"),
        CheckConstraint(
            "max_uses_total IS NULL OR uses_count <= max_uses_total", name="uses_within_limit"
        ),
        CheckConstraint("min_spend_amount >= 0", name="min_spend_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("vch"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    funded_by: Mapped[str] = mapped_column(String(16))
    seller_id: Mapped[str | None] = mapped_column(
        ForeignKey("seller_profiles.id"), default=None, index=True
    )
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    kind: Mapped[str] = mapped_column(String(16))
    percent_bp: Mapped[int | None] = mapped_column(default=None)  # 1000 = 10 %
    amount: Mapped[int | None] = mapped_column(default=None)  # fixed, minor units
    max_discount_amount: Mapped[int | None] = mapped_column(default=None)
    currency: Mapped[str] = mapped_column(String(3))
    min_spend_amount: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    max_uses_total: Mapped[int | None] = mapped_column(default=None)
    max_uses_per_user: Mapped[int] = mapped_column(default=1)
    uses_count: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(40), default=None)


class VoucherUsage(Base):
    """Uses of a voucher per shopper: the guarded counter behind the per-user limit."""

    __tablename__ = "voucher_usages"
    __table_args__ = (CheckConstraint("uses_count >= 0", name="uses_not_negative"),)

    voucher_id: Mapped[str] = mapped_column(
        ForeignKey("vouchers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    uses_count: Mapped[int] = mapped_column(default=0)


class VoucherRedemption(CreatedAtMixin, Base):
    __tablename__ = "voucher_redemptions"
    __table_args__ = (
        UniqueConstraint(
            "voucher_id", "user_id", "checkout_id", name="uq_voucher_redemptions_once"
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("vrd"))
    voucher_id: Mapped[str] = mapped_column(ForeignKey("vouchers.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    checkout_id: Mapped[str] = mapped_column(ForeignKey("checkouts.id"), index=True)
    discount_amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    released_at: Mapped[datetime | None] = mapped_column(default=None)


class FlashDeal(CreatedAtMixin, Base):
    """A deal price for a limited quantity of one SKU in a time window."""

    __tablename__ = "flash_deals"
    __table_args__ = (
        CheckConstraint("quantity_taken >= 0", name="taken_not_negative"),
        CheckConstraint("quantity_taken <= quantity_total", name="taken_within_total"),
        CheckConstraint("deal_price_amount >= 0", name="price_not_negative"),
        Index("ix_flash_deals_sku_window", "sku_id", "starts_at", "ends_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("fld"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("seller_profiles.id"), index=True)
    market_code: Mapped[str] = mapped_column(ForeignKey("markets.code"))
    currency: Mapped[str] = mapped_column(String(3))
    deal_price_amount: Mapped[int]
    reference_price_amount: Mapped[int]  # the 30-day lowest it had to beat
    quantity_total: Mapped[int]
    quantity_taken: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(40), default=None)


class SkuPriceRecord(Base):
    """Every price a SKU has had, from first seen: the evidence for "lowest in 30 days"."""

    __tablename__ = "sku_price_records"
    __table_args__ = (Index("ix_sku_price_records_sku_at", "sku_id", "effective_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("spr"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    price_amount: Mapped[int]
    effective_at: Mapped[datetime] = mapped_column(default=utcnow)

    sku: Mapped[Sku] = relationship()


class IdempotencyRecord(Base):
    """The first answer to a state-changing request, replayed for retries with its key."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index("ix_idempotency_records_expires", "expires_at"),)

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


@event.listens_for(Session, "before_flush")
def _record_sku_prices(session: Session, _context: Any, _instances: Any) -> None:
    """Write a price record whenever a SKU is first stored or its price changes, through
    any ORM session (catalog writes, imports, seeds), so "lowest price in 30 days" has
    its evidence. Core bulk statements bypass this; :func:`promotions.lowest_price`
    also counts the current price, so a missed change can only make a deal harder."""
    for obj in list(session.new):
        if isinstance(obj, Sku) and obj.price_amount is not None:
            session.add(SkuPriceRecord(sku=obj, price_amount=obj.price_amount))
    for obj in list(session.dirty):
        if isinstance(obj, Sku):
            history = inspect(obj).attrs.price_amount.history
            if history.added and history.deleted and history.added[0] != history.deleted[0]:
                with session.no_autoflush:
                    known = session.scalar(
                        select(SkuPriceRecord.id).where(SkuPriceRecord.sku_id == obj.id).limit(1)
                    )
                if known is None:  # bulk-loaded: the old price was in force since creation
                    session.add(
                        SkuPriceRecord(
                            sku_id=obj.id,
                            price_amount=history.deleted[0],
                            effective_at=obj.created_at or utcnow(),
                        )
                    )
                session.add(SkuPriceRecord(sku_id=obj.id, price_amount=obj.price_amount))
