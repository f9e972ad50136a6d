"""HTML pages: cart, checkout, order confirmation, shopper orders, seller orders.

The pay step belongs to payments: the confirmation page posts its form to
``/checkout/{checkout_id}/pay``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reelshop.accounts.models import Address
from reelshop.checkout import cart as carts
from reelshop.checkout import service
from reelshop.checkout.models import Order, OrderStatus
from reelshop.checkout.orders import ALLOWED_TRANSITIONS
from reelshop.errors import Forbidden, InvalidInput, ProblemError
from reelshop.idempotency import fingerprint, run_once
from reelshop.money import Money
from reelshop.security.authz import (
    AppSettings,
    DbSession,
    ReadDbSession,
    SellerPrincipal,
    ShopperPrincipal,
)
from reelshop.sellers import service as sellers
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)

TIMELINE = [
    OrderStatus.PLACED,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
]
STATUS_LABEL = {
    "placed": "Awaiting payment",
    "paid": "Paid",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "awaiting_payment": "Awaiting payment",
    "expired": "Expired",
    "open": "Open",
}


def _quantity(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidInput("quantity must be a whole number", field="quantity") from None
    return carts.check_quantity(value)


def _money(amount: int, currency: str) -> Money:
    return Money(amount, currency)


def _seller_names(session: Any, seller_ids: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for seller_id in seller_ids:
        if seller_id and seller_id not in names:
            names[seller_id] = sellers.get_seller(session=session, seller_id=seller_id).display_name
    return names


def _cart_context(session: Any, principal: Any) -> dict[str, Any]:
    review = carts.review_cart(session=session, shopper=principal.user)
    groups = review.by_seller()
    return {
        "review": review,
        "groups": groups,
        "seller_names": _seller_names(session, list(groups)),
        "subtotal": review.subtotal(),
        "ready": bool(review.lines) and not review.problems and len(review.currencies) == 1,
        "active": "cart",
    }


# --- cart -----------------------------------------------------------------------------------


@router.get("/cart", response_class=HTMLResponse)
def cart_page(request: Request, principal: ShopperPrincipal, session: ReadDbSession) -> Response:
    return render(request, "checkout/cart.html", _cart_context(session, principal))


@router.post("/cart/items")
def add_to_cart(
    principal: ShopperPrincipal,
    session: DbSession,
    sku_id: Annotated[str, Form(max_length=40)],
    quantity: Annotated[str, Form(max_length=10)] = "1",
    video_id: Annotated[str | None, Form(max_length=40)] = None,
    creator_id: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    carts.add_line(
        session=session,
        shopper=principal.user,
        sku_id=sku_id,
        quantity=_quantity(quantity),
        video_id=video_id or None,
        creator_id=creator_id or None,
    )
    return RedirectResponse("/cart", status_code=303)


@router.post("/cart/items/{line_id}")
def update_cart_item(
    line_id: str,
    principal: ShopperPrincipal,
    session: DbSession,
    quantity: Annotated[str, Form(max_length=10)] = "",
    remove: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if remove:
        carts.remove_line(session=session, shopper=principal.user, line_id=line_id)
    else:
        carts.set_quantity(
            session=session, shopper=principal.user, line_id=line_id, quantity=_quantity(quantity)
        )
    return RedirectResponse("/cart", status_code=303)


@router.post("/cart/accept-prices")
def accept_prices(principal: ShopperPrincipal, session: DbSession) -> Response:
    carts.accept_current_prices(session=session, shopper=principal.user)
    return RedirectResponse("/cart", status_code=303)


# --- checkout -------------------------------------------------------------------------------


def _checkout_context(
    session: Any, principal: Any, form: dict[str, Any] | None = None
) -> dict[str, Any]:
    ctx = _cart_context(session, principal)
    rates = service.shipping_rates(session=session, market_code=principal.user.market_code)
    addresses: list[Address] = list(principal.user.addresses)
    ctx.update(
        {
            "rates": {
                method: {
                    "price": Money(r.amount, r.currency),
                    "days": f"{r.min_days} to {r.max_days}",
                }
                for method, r in rates.items()
            },
            "addresses": addresses,
            "form": form or {},
            "idempotency_key": secrets.token_urlsafe(16),
        }
    )
    return ctx


def _hold_minutes(settings: Any) -> int:
    return max(1, int(settings.checkout_reservation_ttl_s) // 60)


@router.get("/checkout", response_class=HTMLResponse)
def checkout_page(
    request: Request, principal: ShopperPrincipal, session: ReadDbSession, settings: AppSettings
) -> Response:
    ctx = _checkout_context(session, principal)
    ctx["hold_minutes"] = _hold_minutes(settings)
    if not ctx["review"].lines:
        return RedirectResponse("/cart", status_code=303)
    return render(request, "checkout/checkout.html", ctx)


async def _form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:300] for k, v in form.items() if isinstance(v, str)}


@router.post("/checkout", response_class=HTMLResponse)
def place_order(
    request: Request,
    principal: ShopperPrincipal,
    session: DbSession,
    settings: AppSettings,
    values: Annotated[dict[str, str], Depends(_form_values)],
) -> Response:
    shipping = {
        key.removeprefix("shipping_"): value
        for key, value in values.items()
        if key.startswith("shipping_")
    }
    codes = [c for c in values.get("voucher_code", "").replace(",", " ").split() if c][:5]
    address_choice = values.get("address_id", "new")
    address = None
    if address_choice == "new":
        address = service.AddressInput(
            recipient=values.get("recipient", "").strip(),
            line1=values.get("line1", "").strip(),
            line2=values.get("line2", "").strip() or None,
            city=values.get("city", "").strip(),
            region=values.get("region", "").strip(),
            postal_code=values.get("postal_code", "").strip(),
            country=values.get("country", "").strip().upper() or principal.user.market_code,
            phone=values.get("phone", "").strip() or None,
        )

    def place() -> dict[str, str]:
        if address is not None and not all(
            (address.recipient, address.line1, address.city, address.region, address.postal_code)
        ):
            raise InvalidInput("fill in the recipient, street, city, region and postal code")
        checkout = service.place_checkout(
            session=session,
            shopper=principal.user,
            address_id=None if address is not None else address_choice,
            address=address,
            shipping=shipping,
            voucher_codes=codes,
            reservation_ttl=timedelta(seconds=settings.checkout_reservation_ttl_s),
        )
        return {"checkout_id": checkout.id}

    key = values.get("idempotency_key", "")
    try:
        if key:
            body = "&".join(f"{k}={v}" for k, v in sorted(values.items()) if k != "csrf_token")
            answer, _ = run_once(
                session=session,
                user_id=principal.id,
                key=key,
                fingerprint=fingerprint("POST", "/checkout", body.encode()),
                ttl=timedelta(hours=settings.idempotency_ttl_h),
                produce=place,
                status_code=201,
            )
            checkout_id = str(answer.body["checkout_id"])
        else:
            checkout_id = place()["checkout_id"]
    except ProblemError as exc:
        session.rollback()
        ctx = _checkout_context(session, principal, values)
        ctx["hold_minutes"] = _hold_minutes(settings)
        ctx["error"] = exc.detail
        ctx["problems"] = exc.extensions.get("problems", [])
        return render(request, "checkout/checkout.html", ctx, status_code=exc.status)
    return RedirectResponse(f"/checkout/{checkout_id}", status_code=303)


@router.get("/checkout/{checkout_id}", response_class=HTMLResponse)
def confirmation_page(
    checkout_id: str, request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    checkout = service.get_checkout(
        session=session, checkout_id=checkout_id, shopper_id=principal.id
    )
    orders = service.orders_of_checkout(session=session, checkout_id=checkout.id)
    return render(
        request,
        "checkout/confirmation.html",
        {
            "checkout": checkout,
            "orders": orders,
            "address": service.address_of(checkout),
            "seller_names": _seller_names(session, [o.seller_id for o in orders]),
            "money": _money,
            "label": STATUS_LABEL,
            "idempotency_key": secrets.token_urlsafe(16),
            "active": "cart",
        },
    )


# --- shopper's orders -----------------------------------------------------------------------


def _timeline(order: Order) -> list[dict[str, Any]]:
    reached = {change.to_status: change.at for change in order.history}
    steps = [
        {
            "status": s.value,
            "label": "Placed" if s == OrderStatus.PLACED else STATUS_LABEL[s.value],
            "at": reached.get(s.value),
        }
        for s in TIMELINE
    ]
    for extra in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        if extra.value in reached:
            steps.append(
                {"status": extra.value, "label": STATUS_LABEL[extra.value], "at": reached[extra]}
            )
    return steps


@router.get("/orders", response_class=HTMLResponse)
def orders_page(request: Request, principal: ShopperPrincipal, session: ReadDbSession) -> Response:
    orders = service.shopper_orders(session=session, shopper_id=principal.id, limit=50)
    return render(
        request,
        "orders/list.html",
        {
            "orders": orders,
            "seller_names": _seller_names(session, [o.seller_id for o in orders]),
            "money": _money,
            "label": STATUS_LABEL,
            "active": "orders",
        },
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    order_id: str, request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    order = service.shopper_order(session=session, shopper_id=principal.id, order_id=order_id)
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "timeline": _timeline(order),
            "seller_name": _seller_names(session, [order.seller_id])[order.seller_id],
            "money": _money,
            "label": STATUS_LABEL,
            "active": "orders",
        },
    )


# --- seller center --------------------------------------------------------------------------


def _own_seller(session: Any, principal: Any) -> Any:
    seller = sellers.seller_for_user(session=session, user_id=principal.id)
    if seller is None:
        raise Forbidden("this account has no shop yet")
    return seller


@router.get("/seller/orders", response_class=HTMLResponse)
def seller_orders_page(
    request: Request,
    principal: SellerPrincipal,
    session: ReadDbSession,
    status: str | None = None,
) -> Response:
    seller = _own_seller(session, principal)
    wanted = status if status in {s.value for s in OrderStatus} else None
    orders = service.seller_orders(session=session, seller_id=seller.id, status=wanted, limit=100)
    return render(
        request,
        "orders/seller_list.html",
        {
            "orders": orders,
            "status": wanted,
            "statuses": [s.value for s in OrderStatus],
            "money": _money,
            "label": STATUS_LABEL,
        },
    )


@router.get("/seller/orders/{order_id}", response_class=HTMLResponse)
def seller_order_page(
    order_id: str, request: Request, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    seller = _own_seller(session, principal)
    order = service.seller_order(session=session, seller_id=seller.id, order_id=order_id)
    return render(
        request,
        "orders/seller_detail.html",
        {
            "order": order,
            "timeline": _timeline(order),
            "can_cancel": order.status == OrderStatus.PAID
            and OrderStatus.CANCELLED in ALLOWED_TRANSITIONS[OrderStatus(order.status)],
            "money": _money,
            "label": STATUS_LABEL,
        },
    )


@router.post("/seller/orders/{order_id}/cancel")
def seller_cancel(
    order_id: str,
    principal: SellerPrincipal,
    session: DbSession,
    reason: Annotated[str, Form(min_length=3, max_length=200)],
) -> Response:
    seller = _own_seller(session, principal)
    service.seller_cancel(
        session=session,
        seller_id=seller.id,
        order_id=order_id,
        actor_id=principal.id,
        reason=reason,
    )
    return RedirectResponse(f"/seller/orders/{order_id}", status_code=303)
