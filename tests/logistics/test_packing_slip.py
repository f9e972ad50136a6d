from __future__ import annotations

import re
import zlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.errors import Conflict, NotFound
from reelshop.logistics.packing_slip import render_packing_slip
from tests.factories import make_product, make_seller, make_user, page_login
from tests.logistics.helpers import paid_order
from tests.payments.helpers import LineSpec, OrderSpec, place_checkout


def _text_streams(pdf: bytes) -> bytes:
    out = b""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out += zlib.decompress(match.group(1))
        except zlib.error:
            out += match.group(1)
    return out


def test_slip_is_a_pdf_with_the_order_and_only_for_its_seller(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    order = paid_order(session, session_factory, settings, quantity=3)
    other = paid_order(session, session_factory, settings)
    with unit_of_work(session_factory) as s:
        pdf = render_packing_slip(session=s, seller_id=order.seller.id, order_id=order.order_id)
        assert pdf.startswith(b"%PDF-")
        assert b"%%EOF" in pdf[-64:]
        assert f"Packing slip {order.order_id}".encode() in pdf  # the document title
        assert len(_text_streams(pdf)) > 200
        with pytest.raises(NotFound):
            render_packing_slip(session=s, seller_id=other.seller.id, order_id=order.order_id)
        with pytest.raises(NotFound):
            render_packing_slip(session=s, seller_id=order.seller.id, order_id="ord_nope")


def test_unpaid_orders_have_no_slip(session: Session) -> None:
    _, seller = make_seller(session, commit=False)
    product = make_product(
        session, seller=seller, title="Bol\u00e9ro \u2013 sp\u00e9cial", commit=False
    )
    shopper = make_user(session, commit=False)
    session.commit()
    placed = place_checkout(session, shopper=shopper, orders=[OrderSpec([LineSpec(product, 1)])])
    with pytest.raises(Conflict):
        render_packing_slip(session=session, seller_id=seller.id, order_id=placed.order_ids[0])


def test_shipping_page_offers_no_slip_for_an_order_with_nothing_to_pack(
    session: Session, client: TestClient
) -> None:
    seller_user, seller = make_seller(session, commit=False)
    product = make_product(session, seller=seller, commit=False)
    shopper = make_user(session, commit=False)
    session.commit()
    placed = place_checkout(session, shopper=shopper, orders=[OrderSpec([LineSpec(product, 1)])])
    page_login(client, seller_user.email)
    shipping = client.get(f"/seller/orders/{placed.order_ids[0]}/shipping")
    assert shipping.status_code == 200
    assert "packing-slip.pdf" not in shipping.text


def test_slip_download_link_and_foreign_seller_404(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    order = paid_order(session, session_factory, settings)
    other = paid_order(session, session_factory, settings)
    page_login(client, order.seller_email)
    shipping = client.get(f"/seller/orders/{order.order_id}/shipping")
    assert f"/seller/orders/{order.order_id}/packing-slip.pdf" in shipping.text
    slip = client.get(f"/seller/orders/{order.order_id}/packing-slip.pdf")
    assert slip.status_code == 200 and slip.headers["content-type"] == "application/pdf"
    assert slip.content.startswith(b"%PDF") and order.order_id.encode() in slip.content
    assert client.get(f"/seller/orders/{other.order_id}/packing-slip.pdf").status_code == 404
    assert client.get("/seller/orders/not-an-id/packing-slip.pdf").status_code == 404
    client.cookies.clear()
    page_login(client, other.shopper_email)
    assert client.get(f"/seller/orders/{order.order_id}/packing-slip.pdf").status_code in (403, 404)
