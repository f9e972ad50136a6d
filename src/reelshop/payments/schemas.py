"""API shapes for payments, refunds, webhooks, payouts and the finance summary."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from reelshop.money import Money
from reelshop.payments.models import Payment, Payout, Refund


class PaymentIn(BaseModel):
    card_number: str = Field(min_length=12, max_length=23, examples=["4242424242424242"])
    currency: str | None = Field(
        default=None,
        pattern="^[A-Za-z]{3}$",
        description="Optional; when given it must be the checkout's currency (else 422)",
    )


class PaymentOut(BaseModel):
    id: str
    checkout_id: str
    status: str
    amount: int = Field(description="minor units")
    currency: str
    action_url: str | None = Field(
        description="Where the shopper completes a challenge (status requires_action)"
    )
    failure_code: str | None
    failure_message: str | None
    refunded_amount: int
    created_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return cls(
            id=payment.id,
            checkout_id=payment.checkout_id,
            status=payment.status,
            amount=payment.amount,
            currency=payment.currency,
            action_url=payment.action_url,
            failure_code=payment.failure_code,
            failure_message=payment.failure_message,
            refunded_amount=payment.refunded_amount,
            created_at=payment.created_at,
        )


class WebhookAck(BaseModel):
    received: bool
    outcome: str


class RefundIn(BaseModel):
    amount: int = Field(gt=0, le=10**12, description="minor units")
    currency: str = Field(pattern="^[A-Z]{3}$")
    reason: str = Field(min_length=3, max_length=200)


class RefundOut(BaseModel):
    id: str
    order_id: str
    payment_id: str
    amount: int
    currency: str
    after_settlement: bool
    created_at: datetime

    @classmethod
    def of(cls, refund: Refund) -> RefundOut:
        return cls(
            id=refund.id,
            order_id=refund.order_id,
            payment_id=refund.payment_id,
            amount=refund.amount,
            currency=refund.currency,
            after_settlement=refund.after_settlement,
            created_at=refund.created_at,
        )


class PayoutOut(BaseModel):
    id: str
    amount: int
    currency: str
    status: str
    created_at: datetime
    paid_at: datetime | None
    statement_url: str

    @classmethod
    def of(cls, payout: Payout) -> PayoutOut:
        return cls(
            id=payout.id,
            amount=payout.amount,
            currency=payout.currency,
            status=payout.status,
            created_at=payout.created_at,
            paid_at=payout.paid_at,
            statement_url=f"/api/v1/seller/payouts/{payout.id}/statement.csv",
        )


class AmountOut(BaseModel):
    amount: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> AmountOut:
        return cls(amount=money.amount, currency=money.currency)


class FinanceSummaryOut(BaseModel):
    escrow: list[AmountOut]
    commission_revenue: list[AmountOut]
    voucher_subsidy: list[AmountOut]
    seller_payables: list[AmountOut]
    seller_receivables: list[AmountOut]
    creator_payables: list[AmountOut]
    payouts_in_transit: list[AmountOut]
    held_orders: int
