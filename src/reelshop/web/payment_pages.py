"""HTML pages for payments: the pay step, the SIMULATED processor's 3-D-Secure-like
challenge, the payment status page, seller payouts and statements, and the staff
finance view."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reelshop.accounts.models import StaffPermission
from reelshop.checkout import service as checkout
from reelshop.errors import NotFound
from reelshop.idempotency import fingerprint, run_once
from reelshop.money import Money
from reelshop.payments import ledger, statements
from reelshop.payments import service as payments
from reelshop.payments.api import csv_response
from reelshop.payments.models import PaymentStatus
from reelshop.payments.provider import PaymentMethod
from reelshop.payments.simulator import TEST_CARDS, SimulatedProcessor
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
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

FinanceStaff = Annotated[Principal, Depends(require_staff(StaffPermission.FINANCE))]


def payment_status_url(checkout_id: str) -> str:
    return f"/checkout/{checkout_id}/payment"


def order_confirmation_url(checkout_id: str) -> str:
    """The checkout pages' confirmation (web/checkout_pages.py), shown once paid."""
    return f"/checkout/{checkout_id}"


@router.post("/checkout/{checkout_id}/pay")
def pay(
    checkout_id: str,
    request: Request,
    principal: ShopperPrincipal,
    session: DbSession,
    settings: AppSettings,
    card_number: Annotated[str, Form(max_length=23)],
    idempotency_key: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """The checkout page's pay button. A resubmitted form (same hidden key) pays once."""
    provider = payments.get_provider(SimulatedProcessor.name, settings)

    def start() -> dict[str, Any]:
        payment = payments.start_payment(
            session=session,
            provider=provider,
            checkout_id=checkout_id,
            shopper_id=principal.id,
            currency=None,
            method=PaymentMethod(card_number=card_number),
            return_url=payment_status_url(checkout_id),
        )
        return {"payment_id": payment.id, "action_url": payment.action_url}

    if idempotency_key:
        answer, _ = run_once(
            session=session,
            user_id=principal.id,
            key=idempotency_key,
            fingerprint=fingerprint("POST", request.url.path, card_number.encode()),
            ttl=timedelta(hours=settings.idempotency_ttl_h),
            produce=start,
        )
        result = answer.body
    else:
        result = start()
    target = result.get("action_url") or payment_status_url(checkout_id)
    return RedirectResponse(target, status_code=303)


@router.get("/checkout/{checkout_id}/payment", response_class=HTMLResponse)
def payment_status(
    checkout_id: str,
    request: Request,
    principal: ShopperPrincipal,
    session: ReadDbSession,
    returned: bool = False,
) -> Response:
    """Where the shopper waits for the processor's confirmation (it arrives by webhook).
    ``returned`` marks the way back from the challenge: the processor knows the outcome,
    we learn it from the next webhook."""
    chk = checkout.get_checkout(session=session, checkout_id=checkout_id, shopper_id=principal.id)
    payment = payments.latest_payment(session=session, checkout_id=chk.id)
    if payment is not None and payment.status == PaymentStatus.CAPTURED:
        return RedirectResponse(order_confirmation_url(chk.id), status_code=303)
    waiting = payment is not None and (
        payment.status
        in (PaymentStatus.PENDING, PaymentStatus.AUTHORISED, PaymentStatus.CAPTURE_REQUESTED)
        or (payment.status == PaymentStatus.REQUIRES_ACTION and returned)
    )
    return render(
        request,
        "payments/status.html",
        {
            "checkout": chk,
            "payment": payment,
            "waiting": waiting,
            "returned": returned,
            "total": checkout.checkout_total(chk),
        },
    )


# --- the simulated processor's challenge page ---------------------------------------------------


def _own_charge(session: Any, principal: Principal, charge_id: str) -> tuple[Any, Any]:
    processor = SimulatedProcessor(webhook_secret="")
    charge = processor.get_charge(session=session, charge_id=charge_id)
    payment = payments.get_payment(
        session=session, payment_id=charge.merchant_reference, shopper_id=principal.id
    )
    return charge, payment


@router.get("/simulated-processor/challenge/{charge_id}", response_class=HTMLResponse)
def challenge_page(
    charge_id: str, request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    charge, payment = _own_charge(session, principal, charge_id)
    return render(
        request,
        "payments/challenge.html",
        {
            "charge": charge,
            "payment": payment,
            "amount": Money(charge.amount, charge.currency),
        },
    )


@router.post("/simulated-processor/challenge/{charge_id}")
def complete_challenge(
    charge_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    settings: AppSettings,
    decision: Annotated[str, Form(pattern="^(approve|fail)$")],
) -> Response:
    _charge, payment = _own_charge(session, principal, charge_id)
    processor = SimulatedProcessor(webhook_secret=settings.simulated_processor_webhook_secret)
    processor.complete_challenge(
        session=session, charge_id=charge_id, approve=decision == "approve"
    )
    return RedirectResponse(
        payment_status_url(payment.checkout_id) + "?returned=true", status_code=303
    )


# --- seller payouts -----------------------------------------------------------------------------


def _seller(session: Any, principal: Principal) -> Any:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise NotFound("you have no shop yet")
    return seller


@router.get("/seller/payouts", response_class=HTMLResponse)
def seller_payouts(
    request: Request, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    seller = _seller(session, principal)
    return render(
        request,
        "payments/seller_payouts.html",
        {
            "seller": seller,
            "balance": payments.seller_balance(
                session=session, seller_id=seller.id, currency=seller.currency
            ),
            "escrow": payments.seller_escrow(session=session, seller_id=seller.id),
            "payouts": payments.list_payouts(session=session, seller_id=seller.id),
            "Money": Money,
        },
    )


@router.get("/seller/payouts/{payout_id}/statement.csv")
def seller_statement(
    payout_id: str, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    seller = _seller(session, principal)
    payout = payments.get_payout(session=session, seller_id=seller.id, payout_id=payout_id)
    return csv_response(
        statements.to_csv(statements.payout_statement(session=session, payout=payout)),
        f"reelshop-statement-{payout.id}.csv",
    )


# --- staff finance ------------------------------------------------------------------------------


@router.get("/staff/finance", response_class=HTMLResponse)
def finance_view(request: Request, principal: FinanceStaff, session: ReadDbSession) -> Response:
    return render(
        request,
        "payments/finance.html",
        {
            "summary": payments.finance_summary(session=session),
            "entries": ledger.recent_entries(session=session, limit=30),
            "Money": Money,
            "test_cards": TEST_CARDS,
        },
    )
