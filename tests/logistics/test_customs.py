from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout import cart as carts
from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.logistics import customs
from reelshop.logistics import service as logistics
from reelshop.logistics.customs import DeclaredItem
from reelshop.logistics.customs_models import CustomsRule
from tests.factories import make_product, make_seller, make_user, page_login
from tests.logistics.helpers import carrier, paid_order


def _items(*rows: tuple[str | None, int, int]) -> list[DeclaredItem]:
    return [DeclaredItem("thing", hs, "CN", qty, unit) for hs, qty, unit in rows]


def test_at_or_under_de_minimis_nothing_is_due(session: Session) -> None:
    rule = session.get(CustomsRule, "US")
    assert rule is not None and rule.de_minimis_amount == 80_000
    cost = customs.estimate(
        session=session,
        market_code="US",
        origin_country="CN",
        currency="USD",
        items=_items(("6109.10", 2, 40_000)),  # exactly $800
    )
    assert cost is not None and cost.de_minimis_applied and cost.total.amount == 0


def test_duty_by_hs_chapter_plus_fees_above_de_minimis(session: Session) -> None:
    cost = customs.estimate(
        session=session,
        market_code="US",
        origin_country="CN",
        currency="USD",
        items=_items(
            ("6109.10", 1, 50_000),  # knitted apparel, 16 % -> 80.00
            ("8518.30", 1, 30_001),  # electrical, 2 % -> 6.0002 -> 6.00
            (None, 1, 10_000),  # no HS code: the default 5 % -> 5.00
        ),
    )
    assert cost is not None and not cost.de_minimis_applied
    assert cost.declared_value == 90_001
    assert cost.duty == 8_000 + 600 + 500
    assert cost.fees == 269 + 500
    assert cost.total.amount == 9_100 + 769


def test_domestic_unknown_market_and_foreign_currency(session: Session) -> None:
    big = _items(("6109", 1, 500_000))
    domestic = customs.estimate(
        session=session, market_code="US", origin_country="US", currency="USD", items=big
    )
    assert domestic is not None and domestic.total.amount == 0 and not domestic.de_minimis_applied
    assert (
        customs.estimate(
            session=session, market_code="ZZ", origin_country="CN", currency="USD", items=big
        )
        is None
    )
    assert (
        customs.estimate(
            session=session, market_code="US", origin_country="CN", currency="EUR", items=big
        )
        is None
    )
    assert customs.hs_chapter("61.09.10") == "61" and customs.hs_chapter("6") is None


def test_cross_border_parcel_gets_a_declaration_from_the_catalog(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    cn = paid_order(session, session_factory, settings, ships_from="CN", quantity=3)
    us = paid_order(session, session_factory, settings, ships_from="US")
    with unit_of_work(session_factory) as s:
        from reelshop.catalog.models import Product
        from reelshop.checkout.models import Order

        order = s.get(Order, cn.order_id)
        assert order is not None
        product = s.get(Product, order.lines[0].product_id)
        assert product is not None
        product.hs_code, product.origin_country = "8518.30", "CN"
    with unit_of_work(session_factory) as s:
        parcel = logistics.create_shipment(
            session=s,
            seller_id=cn.seller.id,
            order_id=cn.order_id,
            carrier=carrier(settings, seed=3),
            weight_grams=400,
        )
        declaration = customs.declare_parcel(session=s, shipment_id=parcel.id)
        assert declaration is not None
        assert (declaration.origin_country, declaration.destination_country) == ("CN", "US")
        assert declaration.declared_value_amount == 3 * 2500 and declaration.complete
        assert declaration.items[0]["hs_code"] == "8518.30"
        assert declaration.items[0]["quantity"] == 3
        assert customs.declare_parcel(session=s, shipment_id=parcel.id) is declaration
        domestic = logistics.create_shipment(
            session=s,
            seller_id=us.seller.id,
            order_id=us.order_id,
            carrier=carrier(settings, seed=4),
            weight_grams=400,
        )
        assert customs.declare_parcel(session=s, shipment_id=domestic.id) is None
        assert customs.declare_parcel(session=s, shipment_id="shp_nope") is None
        estimate = customs.record_order_estimate(session=s, order_id=cn.order_id)
        assert estimate is not None and estimate.de_minimis_applied
        assert estimate.duty_amount == 0 and estimate.declared_value_amount == 7500
        assert customs.record_order_estimate(session=s, order_id="ord_nope") is None


def test_checkout_page_shows_the_landed_cost_box(session: Session, client: TestClient) -> None:
    _, seller = make_seller(session, ships_from="CN", commit=False)
    product = make_product(session, seller=seller, price_cents=45_000, stock=5, commit=False)
    product.hs_code = "6109.10"
    shopper = make_user(session, commit=False)
    session.commit()
    carts.add_line(session=session, shopper=shopper, sku_id=product.skus[0].id, quantity=2)
    session.commit()
    page_login(client, shopper.email)
    page = client.get("/checkout")
    assert page.status_code == 200 and 'hx-get="/checkout/landed-cost"' in page.text
    box = client.get("/checkout/landed-cost")
    assert box.status_code == 200
    # $900 of knitted apparel from China: 16 % duty ($144) + $7.69 fees
    assert "$151.69" in box.text and "Lumi Electronics" in box.text
    api = client.get("/api/v1/checkout/landed-cost")
    assert api.status_code == 200
    assert api.json()[0]["total"] == 15_169 and api.json()[0]["de_minimis_applied"] is False
