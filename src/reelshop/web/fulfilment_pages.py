"""HTML pages of platform fulfilment and customs: the seller's fulfilment page (announce
inbound stock, see fees), the staff warehouse page (count stock in, ship
platform-fulfilled orders), the packing slip PDF and the landed-cost box at checkout."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from reelshop.accounts.models import StaffPermission
from reelshop.catalog.models import Product, Sku
from reelshop.errors import InvalidInput, ProblemError
from reelshop.logistics import customs, fulfilment
from reelshop.logistics.carriers import SIMULATED, get_carrier
from reelshop.logistics.packing_slip import render_packing_slip
from reelshop.money import Money
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
from reelshop.web.forms import PostedForm
from reelshop.web.rendering import render

router = APIRouter(include_in_schema=False)
WarehouseStaff = Annotated[Principal, Depends(require_staff(StaffPermission.SUPPORT))]
FORM_ROWS = 5


def _seller_id(session: Session, user_id: str) -> str:
    return sellers.own_shop(session=session, user_id=user_id).id


def _seller_skus(session: Session, seller_id: str) -> list[Sku]:
    return list(
        session.scalars(
            select(Sku)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.seller_id == seller_id, Sku.is_active.is_(True))
            .order_by(Product.title, Sku.position)
            .limit(300)
        )
    )


def _sku_names(session: Session, sku_ids: set[str]) -> dict[str, str]:
    if not sku_ids:
        return {}
    return {
        sku.id: f"{sku.product.title} · {sku.code}"
        for sku in session.scalars(
            select(Sku).options(selectinload(Sku.product)).where(Sku.id.in_(sku_ids))
        )
    }


def _fee_rows(session: Session, market_code: str) -> list[dict[str, Any]]:
    rows = []
    previous = 0
    for band in fulfilment.fee_bands(session=session, market_code=market_code):
        if band.up_to_oz is None:
            weight = f"over {previous} oz"
            extra = Money(band.extra_per_lb_amount, band.currency)
            note = f"+ {extra.format('en_US')} per started lb above {previous} oz"
        else:
            weight = f"{previous + 1 if previous else 0} to {band.up_to_oz} oz"
            note = ""
            previous = band.up_to_oz
        rows.append({"weight": weight, "fee": Money(band.fee_amount, band.currency), "note": note})
    return rows


def _seller_page(
    request: Request, session: Session, seller_id: str, *, status_code: int = 200, **extra: Any
) -> Response:
    terms = fulfilment.policy(session=session, market_code="US")
    skus = _seller_skus(session, seller_id)
    inbound = fulfilment.seller_inbound(session=session, seller_id=seller_id)
    names = _sku_names(session, {line.sku_id for row in inbound for line in row.lines})
    names.update({s.id: f"{s.product.title} · {s.code}" for s in skus})
    return render(
        request,
        "fulfilment/seller.html",
        {
            "warehouses": fulfilment.platform_warehouses(session=session),
            "skus": skus,
            "sku_names": names,
            "inbound": inbound,
            "stock": fulfilment.warehouse_stock(session=session, seller_id=seller_id),
            "charges": fulfilment.seller_fee_charges(session=session, seller_id=seller_id),
            "fee_rows": _fee_rows(session, "US"),
            "terms": terms,
            "rows": range(1, FORM_ROWS + 1),
            "Money": Money,
            **extra,
        },
        status_code=status_code,
    )


@router.get("/seller/fulfilment", response_class=HTMLResponse)
def seller_fulfilment(
    request: Request, principal: SellerPrincipal, session: ReadDbSession
) -> Response:
    return _seller_page(request, session, _seller_id(session, principal.id))


def _whole(value: str, field: str) -> int:
    try:
        return int(value.strip() or "0")
    except ValueError:
        raise InvalidInput("enter a whole number", field=field) from None


@router.post("/seller/fulfilment/inbound", response_class=HTMLResponse)
def announce_inbound(
    request: Request, principal: SellerPrincipal, session: DbSession, form: PostedForm
) -> Response:
    seller_id = _seller_id(session, principal.id)
    try:
        lines = []
        for i in range(1, FORM_ROWS + 1):
            sku_id = str(form.get(f"sku_{i}", "")).strip()
            if not sku_id:
                continue
            lines.append(
                fulfilment.InboundLineIn(
                    sku_id, _whole(str(form.get(f"quantity_{i}", "")), "quantity")
                )
            )
        fulfilment.announce_inbound(
            session=session,
            seller_id=seller_id,
            lines=lines,
            reference=str(form.get("reference", ""))[:80],
            location_id=str(form.get("location_id", "")) or None,
        )
    except ProblemError as exc:
        session.rollback()
        return _seller_page(request, session, seller_id, status_code=exc.status, error=exc.detail)
    return RedirectResponse("/seller/fulfilment", status_code=303)


def _staff_page(
    request: Request, session: Session, *, status_code: int = 200, **extra: Any
) -> Response:
    inbound = fulfilment.inbound_awaiting_receipt(session=session)
    names = _sku_names(session, {line.sku_id for row in inbound for line in row.lines})
    return render(
        request,
        "fulfilment/staff.html",
        {
            "inbound": inbound,
            "sku_names": names,
            "to_pick": fulfilment.orders_to_pick(session=session),
            **extra,
        },
        status_code=status_code,
    )


@router.get("/staff/fulfilment", response_class=HTMLResponse)
def staff_fulfilment(
    request: Request, principal: WarehouseStaff, session: ReadDbSession
) -> Response:
    return _staff_page(request, session)


@router.post("/staff/fulfilment/inbound/{inbound_id}/receive", response_class=HTMLResponse)
def receive_inbound(
    inbound_id: str,
    request: Request,
    principal: WarehouseStaff,
    session: DbSession,
    form: PostedForm,
) -> Response:
    try:
        counted = [
            fulfilment.ReceivedLineIn(
                key.removeprefix("received_"),
                _whole(str(value), "received_quantity"),
                _whole(
                    str(form.get("damaged_" + key.removeprefix("received_"), "0")),
                    "damaged_quantity",
                ),
            )
            for key, value in form.multi_items()
            if key.startswith("received_")
        ]
        fulfilment.receive_inbound(
            session=session, inbound_id=inbound_id, counted=counted, staff_id=principal.id
        )
    except ProblemError as exc:
        session.rollback()
        return _staff_page(request, session, status_code=exc.status, error=exc.detail)
    return RedirectResponse("/staff/fulfilment", status_code=303)


@router.post("/staff/fulfilment/orders/{order_id}/ship", response_class=HTMLResponse)
def ship_platform_order(
    order_id: str,
    request: Request,
    principal: WarehouseStaff,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    try:
        fulfilment.ship_platform_order(
            session=session,
            order_id=order_id,
            staff_id=principal.id,
            carrier=get_carrier(SIMULATED, secret_key=settings.secret_key),
        )
    except ProblemError as exc:
        session.rollback()
        return _staff_page(request, session, status_code=exc.status, error=exc.detail)
    return RedirectResponse("/staff/fulfilment", status_code=303)


@router.get("/seller/orders/{order_id}/packing-slip.pdf")
def packing_slip(order_id: str, principal: SellerPrincipal, session: ReadDbSession) -> Response:
    pdf = render_packing_slip(
        session=session, seller_id=_seller_id(session, principal.id), order_id=order_id
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="packing-slip-{order_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/checkout/landed-cost", response_class=HTMLResponse)
def landed_cost_box(
    request: Request, principal: ShopperPrincipal, session: ReadDbSession
) -> Response:
    rows = customs.cart_landed_costs(session=session, shopper=principal.user)
    return render(request, "fulfilment/_landed_cost_rows.html", {"landed": rows})
