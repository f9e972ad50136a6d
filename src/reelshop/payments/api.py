"""JSON API for payments: pay a checkout, the processor's webhooks, refunds, payouts,
and the finance summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from reelshop.accounts.models import StaffPermission
from reelshop.errors import NotFound, problem_responses
from reelshop.idempotency import IdempotencyKey
from reelshop.money import Money
from reelshop.payments import service as payments
from reelshop.payments import statements
from reelshop.payments.provider import PaymentMethod
from reelshop.payments.schemas import (
    AmountOut,
    FinanceSummaryOut,
    PaymentIn,
    PaymentOut,
    PayoutOut,
    RefundIn,
    RefundOut,
    WebhookAck,
)
from reelshop.security import audit
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    Principal,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
    require_staff,
)
from reelshop.sellers import service as sellers

router = APIRouter(tags=["payments"])

FinancePrincipal = Annotated[Principal, Depends(require_staff(StaffPermission.FINANCE))]


def confirmation_url(checkout_id: str) -> str:
    """Where the processor sends the shopper back after a challenge."""
    return f"/checkout/{checkout_id}/payment?returned=true"


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/checkouts/{checkout_id}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    summary="Pay a checkout (needs an Idempotency-Key header)",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def pay_checkout(
    checkout_id: str,
    body: PaymentIn,
    principal: ShopperPrincipal,
    session: DbSession,
    settings: AppSettings,
    idempotency: IdempotencyKey,
) -> Response:
    provider = payments.get_provider("simulated", settings)
    return idempotency.run(
        lambda: PaymentOut.of(
            payments.start_payment(
                session=session,
                provider=provider,
                checkout_id=checkout_id,
                shopper_id=principal.id,
                currency=body.currency,
                method=PaymentMethod(card_number=body.card_number),
                return_url=confirmation_url(checkout_id),
            )
        ),
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentOut,
    summary="One of your payments",
    responses=problem_responses(401, 404),
)
def get_payment(payment_id: str, principal: ShopperPrincipal, session: ReadDbSession) -> PaymentOut:
    return PaymentOut.of(
        payments.get_payment(session=session, payment_id=payment_id, shopper_id=principal.id)
    )


@router.post(
    "/payments/webhooks/{provider}",
    response_model=WebhookAck,
    summary="Events from a payment processor (signed; applied once)",
    responses=problem_responses(400, 401, 404),
)
def receive_webhook(
    provider: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    body: Annotated[bytes, Depends(raw_body)],
) -> WebhookAck:
    processor = payments.get_provider(provider, settings)
    # Verified before anything touches the database: a forged event writes nothing.
    event = processor.parse_and_verify_webhook(body=body, headers=request.headers)
    outcome = payments.apply_webhook(session=session, provider=processor, event=event)
    return WebhookAck(received=True, outcome=outcome)


@router.post(
    "/orders/{order_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    summary="Refund part or all of an order (finance staff; needs an Idempotency-Key)",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
def refund_order(
    order_id: str,
    body: RefundIn,
    principal: FinancePrincipal,
    session: DbSession,
    settings: AppSettings,
    idempotency: IdempotencyKey,
) -> Response:
    provider = payments.get_provider("simulated", settings)

    def refund() -> RefundOut:
        made = payments.refund_order(
            session=session,
            provider=provider,
            order_id=order_id,
            amount=Money(body.amount, body.currency),
            reason=body.reason,
            actor_id=principal.id,
        )
        audit.record(
            session=session,
            actor_id=principal.id,
            action="payments.refund_issued",
            target_type="order",
            target_id=order_id,
            reason=body.reason,
            detail={"amount": body.amount, "currency": body.currency},
        )
        return RefundOut.of(made)

    return idempotency.run(refund, status_code=status.HTTP_201_CREATED)


def _seller_id(session: DbSession | ReadDbSession, principal: Principal) -> str:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise NotFound("you have no shop yet")
    return seller.id


@router.get(
    "/seller/payouts",
    response_model=list[PayoutOut],
    summary="Your payouts, newest first",
    responses=problem_responses(401, 403, 404),
)
def list_payouts(principal: SellerPrincipal, session: ReadDbSession) -> list[PayoutOut]:
    seller_id = _seller_id(session, principal)
    return [PayoutOut.of(p) for p in payments.list_payouts(session=session, seller_id=seller_id)]


@router.get(
    "/seller/payouts/{payout_id}/statement.csv",
    response_class=Response,
    summary="The statement of one payout, as CSV",
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 404)},
)
def payout_statement(
    payout_id: str, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    seller_id = _seller_id(session, principal)
    payout = payments.get_payout(session=session, seller_id=seller_id, payout_id=payout_id)
    return csv_response(
        statements.to_csv(statements.payout_statement(session=session, payout=payout)),
        f"reelshop-statement-{payout.id}.csv",
    )


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/finance/summary",
    response_model=FinanceSummaryOut,
    summary="Escrow, commission, payables and payouts (finance staff)",
    responses=problem_responses(401, 403),
)
def finance_summary(principal: FinancePrincipal, session: ReadDbSession) -> FinanceSummaryOut:
    summary = payments.finance_summary(session=session)

    def out(values: list[Money]) -> list[AmountOut]:
        return [AmountOut.of(v) for v in values]

    return FinanceSummaryOut(
        escrow=out(summary.escrow),
        commission_revenue=out(summary.commission_revenue),
        voucher_subsidy=out(summary.voucher_subsidy),
        seller_payables=out(summary.seller_payables),
        seller_receivables=out(summary.seller_receivables),
        creator_payables=out(summary.creator_payables),
        payouts_in_transit=out(summary.payouts_in_transit),
        held_orders=summary.held_orders,
    )
