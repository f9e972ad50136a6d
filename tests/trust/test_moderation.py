"""Take-downs, strikes, suspension and appeals: the contract claims rely on."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from reelshop.catalog.models import ModerationStatus, Product
from reelshop.catalog.search_models import ProductSearchDoc
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.outbox.models import OutboxEvent
from reelshop.security.models import AuditEntry
from reelshop.sellers.models import SellerProfile, SellerStatus
from reelshop.trust import service as trust
from reelshop.trust.models import Strike
from tests.factories import make_product, make_seller, make_staff
from tests.trust.helpers import run_threads


def _events(session: Session, topic: str) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == topic)
        )
        or 0
    )


def test_take_down_hides_listing_audits_and_emits(session: Session) -> None:
    product = make_product(session)
    staff = make_staff(session)
    trust.take_down_listing(
        session=session, product_id=product.id, actor_id=staff.id, reason="fake", ref="clm_x"
    )
    session.commit()
    session.refresh(product)
    assert product.moderation_status == ModerationStatus.TAKEN_DOWN
    assert not product.on_sale
    doc = session.scalars(
        select(ProductSearchDoc).where(ProductSearchDoc.product_id == product.id)
    ).first()
    assert doc is not None and not doc.searchable
    assert _events(session, "listing.moderated") == 1
    actions = session.scalars(select(AuditEntry.action)).all()
    assert "trust.listing.take_down" in actions
    # idempotent
    trust.take_down_listing(session=session, product_id=product.id, actor_id=None, reason="x")
    session.commit()
    assert _events(session, "listing.moderated") == 1


def test_take_down_bad_input(session: Session) -> None:
    with pytest.raises(NotFound):
        trust.take_down_listing(session=session, product_id="prd_nope", actor_id=None, reason="x")
    product = make_product(session)
    with pytest.raises(InvalidInput):
        trust.take_down_listing(session=session, product_id=product.id, actor_id=None, reason=" ")


def test_three_strikes_suspend_and_refs_are_idempotent(session: Session) -> None:
    _, seller = make_seller(session)
    for ref in ("a", "b"):
        trust.add_strike(
            session=session, seller_id=seller.id, reason="fake", ref=ref, actor_id=None
        )
    again = trust.add_strike(
        session=session, seller_id=seller.id, reason="x", ref="b", actor_id=None
    )
    session.commit()
    assert again.ref == "b"
    assert trust.active_strikes(session=session, seller_id=seller.id) == 2
    session.refresh(seller)
    assert seller.status == SellerStatus.APPROVED
    third = trust.add_strike(
        session=session, seller_id=seller.id, reason="x", ref="c", actor_id=None
    )
    session.commit()
    session.refresh(seller)
    assert seller.status == SellerStatus.SUSPENDED and third.suspended_seller
    assert _events(session, "seller.suspended") == 1
    _, other = make_seller(session)
    with pytest.raises(Conflict):
        trust.add_strike(session=session, seller_id=other.id, reason="x", ref="c", actor_id=None)
    with pytest.raises(NotFound):
        trust.add_strike(session=session, seller_id="sel_nope", reason="x", ref="d", actor_id=None)


def test_granted_appeal_lifts_strike_and_reinstates(session: Session) -> None:
    _, seller = make_seller(session)
    _, other = make_seller(session)
    staff = make_staff(session)
    strikes = [
        trust.add_strike(
            session=session, seller_id=seller.id, reason="r", ref=f"s{i}", actor_id=None
        )
        for i in range(3)
    ]
    session.commit()
    with pytest.raises(NotFound):
        trust.appeal_strike(
            session=session, seller_id=other.id, strike_id=strikes[0].id, statement="mine"
        )
    appeal = trust.appeal_strike(
        session=session, seller_id=seller.id, strike_id=strikes[0].id, statement="it was genuine"
    )
    session.commit()
    with pytest.raises(Conflict):
        trust.appeal_strike(
            session=session, seller_id=seller.id, strike_id=strikes[0].id, statement="again"
        )
    trust.decide_appeal(
        session=session, appeal_id=appeal.id, grant=True, actor_id=staff.id, note="invoice ok"
    )
    session.commit()
    session.refresh(seller)
    assert seller.status == SellerStatus.APPROVED
    assert trust.active_strikes(session=session, seller_id=seller.id) == 2
    with pytest.raises(Conflict):
        trust.decide_appeal(
            session=session, appeal_id=appeal.id, grant=False, actor_id=staff.id, note="n"
        )


def test_strikes_racing_suspend_exactly_once(session: Session, engine: Engine) -> None:
    _, seller = make_seller(session)
    seller_id = seller.id

    def strike(s: Session, index: int) -> None:
        trust.add_strike(
            session=s, seller_id=seller_id, reason="race", ref=f"r{index}", actor_id=None
        )

    outcomes = run_threads(5, strike, engine)
    assert outcomes == ["ok"] * 5
    session.expire_all()
    assert session.get(SellerProfile, seller_id).status == SellerStatus.SUSPENDED  # type: ignore[union-attr]
    suspending = session.scalar(
        select(func.count()).select_from(Strike).where(Strike.suspended_seller.is_(True))
    )
    assert suspending == 1
    assert _events(session, "seller.suspended") == 1


def test_same_ref_racing_strikes_once(session: Session, engine: Engine) -> None:
    _, seller = make_seller(session)
    seller_id = seller.id

    def strike(s: Session, index: int) -> None:
        trust.add_strike(
            session=s, seller_id=seller_id, reason="race", ref="claim-1", actor_id=None
        )

    outcomes = run_threads(4, strike, engine)
    assert outcomes == ["ok"] * 4
    session.expire_all()
    assert trust.active_strikes(session=session, seller_id=seller_id) == 1


def test_take_down_product_model_state(session: Session) -> None:
    product = make_product(session)
    trust.take_down_listing(session=session, product_id=product.id, actor_id=None, reason="r")
    session.commit()
    assert session.get(Product, product.id).moderation_status == "taken_down"  # type: ignore[union-attr]
