"""The packing slip of one seller order as a PDF (fpdf2): what goes in the box, with the
ship-to block. The address is decrypted only here, only for the order's own seller."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Sku
from reelshop.checkout import service as checkout
from reelshop.checkout.models import Checkout, OrderStatus
from reelshop.errors import Conflict, NotFound
from reelshop.sellers.models import SellerProfile

# DejaVu covers the accents and CJK-free scripts product titles use; the core
# Helvetica font (Latin-1 only) is the fallback where the font is not installed.
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
SLIPPABLE = frozenset(
    {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED}
)


@dataclass(frozen=True)
class SlipLine:
    title: str
    options: str
    sku_code: str
    quantity: int


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def render_packing_slip(*, session: Session, seller_id: str, order_id: str) -> bytes:
    """The PDF bytes. A foreign or unknown order is a 404; an unpaid or cancelled one a 409."""
    order = checkout.seller_order(session=session, seller_id=seller_id, order_id=order_id)
    if order.status not in SLIPPABLE:
        raise Conflict(f"order {order.id} is {order.status}; only paid orders are packed")
    checkout_row = session.get(Checkout, order.checkout_id)
    if checkout_row is None:
        raise NotFound("no such order")
    address = checkout.address_of(checkout_row)
    seller = session.get(SellerProfile, seller_id)
    codes = dict(
        session.execute(
            select(Sku.id, Sku.code).where(Sku.id.in_([line.sku_id for line in order.lines]))
        ).all()
    )
    lines = [
        SlipLine(
            title=line.title,
            options=", ".join(f"{k}: {v}" for k, v in (line.option_values or {}).items()),
            sku_code=codes.get(line.sku_id, line.sku_id),
            quantity=line.quantity,
        )
        for line in order.lines
    ]

    pdf = FPDF(format="A4")
    pdf.set_title(f"Packing slip {order.id}")
    pdf.set_creator("reelshop")
    regular = _FONT_DIR / "DejaVuSans.ttf"
    bold = _FONT_DIR / "DejaVuSans-Bold.ttf"
    unicode_font = regular.exists() and bold.exists()
    if unicode_font:
        pdf.add_font("slip", "", str(regular))
        pdf.add_font("slip", "B", str(bold))
        family = "slip"
    else:
        family = "Helvetica"

    def text(value: str) -> str:
        return value if unicode_font else _latin1(value)

    pdf.add_page()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font(family, "B", 18)
    pdf.cell(0, 10, "Packing slip", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(
        0, 6, text(f"From: {seller.display_name if seller else ''}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.cell(0, 6, f"Order: {order.id}", new_x="LMARGIN", new_y="NEXT")
    placed = order.placed_at.strftime("%Y-%m-%d")
    pdf.cell(
        0, 6, f"Placed: {placed}   Shipping: {order.shipping_method}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(4)

    pdf.set_font(family, "B", 11)
    pdf.cell(0, 7, "Ship to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 11)
    block = [
        address.get("recipient"),
        address.get("line1"),
        address.get("line2"),
        " ".join(
            part
            for part in (
                f"{address.get('city') or ''},",
                address.get("region") or "",
                address.get("postal_code") or "",
            )
            if part
        ),
        address.get("country"),
        address.get("phone"),
    ]
    for row in block:
        if row:
            pdf.cell(0, 6, text(str(row)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    widths = (95, 55, 30)
    pdf.set_font(family, "B", 10)
    for width, head in zip(widths, ("Item", "SKU", "Quantity"), strict=True):
        pdf.cell(width, 8, head, border="B")
    pdf.ln()
    pdf.set_font(family, "", 10)
    for line in lines:
        title = line.title if not line.options else f"{line.title} ({line.options})"
        pdf.cell(widths[0], 8, text(title[:60]), border="B")
        pdf.cell(widths[1], 8, text(line.sku_code[:32]), border="B")
        pdf.cell(widths[2], 8, str(line.quantity), border="B", align="R")
        pdf.ln()
    pdf.ln(3)
    pdf.set_font(family, "B", 10)
    pdf.cell(
        0,
        7,
        f"Units in this order: {sum(line.quantity for line in lines)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)
    pdf.set_font(family, "", 9)
    pdf.cell(0, 5, f"Order reference: {order.id.upper()}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
