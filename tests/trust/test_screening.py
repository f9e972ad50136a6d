"""Screening stored listings: signals with evidence, publish / hold / block, the
queue, the worker job on product.changed, reports, and the image match."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from reelshop.catalog import service as catalog
from reelshop.catalog.models import ModerationStatus, Product, ProductImage
from reelshop.catalog.schemas import ProductInput
from reelshop.errors import Conflict, InvalidInput, NotFound
from reelshop.outbox.models import OutboxEvent
from reelshop.sellers.models import SellerProfile
from reelshop.trust import brands, reports, screening, service
from reelshop.trust.image_match import distance, hash_bytes
from reelshop.trust.jobs import screen_changed_listing
from reelshop.trust.models import CaseStatus, ListingAssessment, ModerationCase
from tests.catalog.support import make_tree, product_body
from tests.factories import make_product, make_seller, make_staff, make_user
from tests.trust.helpers import photo_bytes, register_nike


def _listing(
    session: Session, seller: SellerProfile, title: str, price: str, **extra: object
) -> str:
    body = product_body(
        title=title,
        brand=extra.pop("brand", "Nike"),
        category="electronics/audio",
        status="active",
        option_names=[],
        variants=[{"code": "A", "price": price, "stock": 5}],
        **extra,
    )
    product = catalog.create_product(
        session=session, seller=seller, data=ProductInput(**body), actor_id=None, prescreen=True
    )
    session.commit()
    return product.id


@pytest.fixture
def world(session: Session) -> dict[str, str]:
    make_tree(session)
    staff = make_staff(session)
    brand_id = register_nike(session, staff.id)
    _, seller = make_seller(session, categories=["electronics"])
    return {"staff": staff.id, "brand": brand_id, "seller": seller.id}


def _seller(session: Session, world: dict[str, str]) -> SellerProfile:
    seller = session.get(SellerProfile, world["seller"])
    assert seller is not None
    return seller


def test_disguised_cheap_listing_is_held_with_evidence(
    session: Session, world: dict[str, str]
) -> None:
    pid = _listing(session, _seller(session, world), "N1ke Air Max 90 sneakers", "19.99")
    assert session.get(Product, pid).moderation_status == ModerationStatus.PENDING  # type: ignore[union-attr]
    result = screening.screen_listing(session=session, product_id=pid, semantic=False)
    session.commit()
    kinds = {s.kind for s in result.signals}
    assert {"disguised_brand", "price_far_below"} <= kinds
    assert result.decision in ("hold", "block")
    product = session.get(Product, pid)
    assert product is not None and product.moderation_status in ("held", "blocked")
    stored = session.get(ListingAssessment, pid)
    assert stored is not None and stored.score == result.score
    disguise = next(s for s in stored.signals if s["kind"] == "disguised_brand")
    assert disguise["evidence"]["matched"] == "N1ke"
    text = disguise["evidence"]["text"]
    assert text[disguise["evidence"]["start"] : disguise["evidence"]["end"]] == "N1ke"
    price = next(s for s in stored.signals if s["kind"] == "price_far_below")
    assert price["evidence"]["min"] == 9000 and price["evidence"]["price"] == 1999
    queue = service.queue(session=session)
    assert [row.case.product_id for row in queue] == [pid]
    assert queue[0].case.gmv_exposure_amount == 1999 * 5


def test_clean_listing_publishes_and_authorised_seller_is_not_flagged(
    session: Session, world: dict[str, str]
) -> None:
    seller = _seller(session, world)
    clean = _listing(session, seller, "Cotton tote bag", "12.00", brand="Lumi")
    screening.screen_listing(session=session, product_id=clean, semantic=False)
    branded = _listing(session, seller, "Nike Air Max 90", "25.00")
    first = screening.screen_listing(session=session, product_id=branded, semantic=False)
    session.commit()
    assert session.get(Product, clean).moderation_status == "published"  # type: ignore[union-attr]
    assert first.flagged
    row = brands.request_authorisation(
        session=session,
        seller=seller,
        brand_id=world["brand"],
        statement="We are a Nike distributor",
        filename="letter.pdf",
        data=b"%PDF-1.4 letter",
    )
    brands.decide_authorisation(
        session=session,
        authorisation_id=row.id,
        actor_id=world["staff"],
        approve=True,
        note="distributor agreement seen",
        as_staff=True,
    )
    session.commit()
    again = screening.screen_listing(session=session, product_id=branded, semantic=False)
    session.commit()
    assert not again.flagged
    assert session.get(Product, branded).moderation_status == "published"  # type: ignore[union-attr]


def test_job_on_product_changed_screens_and_taken_down_stays_down(
    session: Session, world: dict[str, str]
) -> None:
    pid = _listing(session, _seller(session, world), "Nike Air Max 90 replica 1:1", "9.99")
    event = session.scalars(
        select(OutboxEvent).where(
            OutboxEvent.topic == "product.changed", OutboxEvent.subject_id == pid
        )
    ).one()
    screen_changed_listing(session, event)
    session.commit()
    assert session.get(Product, pid).moderation_status == "blocked"  # type: ignore[union-attr]
    service.take_down_listing(
        session=session, product_id=pid, actor_id=world["staff"], reason="fake"
    )
    session.commit()
    screen_changed_listing(session, event)
    session.commit()
    assert session.get(Product, pid).moderation_status == "taken_down"  # type: ignore[union-attr]
    case = session.scalars(select(ModerationCase).where(ModerationCase.product_id == pid)).one()
    assert case.status == CaseStatus.TAKEN_DOWN and case.open_product_id is None


def test_staff_approval_sticks_until_the_risk_rises(
    session: Session, world: dict[str, str]
) -> None:
    pid = _listing(session, _seller(session, world), "Nike Air Max 90", "60.00")
    screening.screen_listing(session=session, product_id=pid, semantic=False)
    session.commit()
    case = service.queue(session=session)[0].case
    service.decide_case(
        session=session, case_id=case.id, action="approve", actor_id=world["staff"], note=""
    )
    session.commit()
    screening.screen_listing(session=session, product_id=pid, semantic=False)
    session.commit()
    assert session.get(Product, pid).moderation_status == "published"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        service.decide_case(
            session=session, case_id=case.id, action="take_down", actor_id=world["staff"], note="x"
        )


def test_reports_feed_the_score_and_always_open_a_case(
    session: Session, world: dict[str, str]
) -> None:
    product = make_product(session, title="Bamboo towel set")
    shoppers = [make_user(session) for _ in range(3)]
    reports.submit_report(
        session=session, reporter_id=shoppers[0].id, product_id=product.id,
        kind="counterfeit", reason="the label is fake", semantic=False,
    )  # fmt: skip
    session.commit()
    assert session.get(Product, product.id).moderation_status == "published"  # type: ignore[union-attr]
    assert [r.case.source for r in service.queue(session=session)] == ["report"]
    with pytest.raises(Conflict):
        reports.submit_report(
            session=session, reporter_id=shoppers[0].id, product_id=product.id,
            kind="counterfeit", reason="again", semantic=False,
        )  # fmt: skip
    session.rollback()
    for shopper in shoppers[1:2]:  # a new shop (10) and two counterfeit reports (30)
        reports.submit_report(
            session=session, reporter_id=shopper.id, product_id=product.id,
            kind="counterfeit", reason="fake stitching", semantic=False,
        )  # fmt: skip
    session.commit()
    assert session.get(Product, product.id).moderation_status == "held"  # type: ignore[union-attr]
    with pytest.raises(NotFound):  # a held listing cannot be reported (shoppers cannot see it)
        reports.submit_report(
            session=session, reporter_id=make_user(session).id, product_id=product.id,
            kind="misleading", reason="wrong size", semantic=False,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "reason", "error"),
    [
        ("fake", "because", InvalidInput),
        ("counterfeit", "no", InvalidInput),
        ("counterfeit", "x" * 1001, InvalidInput),
    ],
)
def test_report_bad_input(session: Session, kind: str, reason: str, error: type[Exception]) -> None:
    product = make_product(session)
    shopper = make_user(session)
    with pytest.raises(error):
        reports.submit_report(
            session=session, reporter_id=shopper.id, product_id=product.id, kind=kind, reason=reason
        )
    with pytest.raises(NotFound):
        reports.submit_report(
            session=session,
            reporter_id=shopper.id,
            product_id="prd_x",
            kind="counterfeit",
            reason="fake!",
        )


def _reencode(data: bytes, *, scale: float = 1.0, crop: float = 1.0, quality: int = 60) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    if crop < 1:
        dw, dh = int(w * (1 - crop) / 2), int(h * (1 - crop) / 2)
        image = image.crop((dw, dh, w - dw, h - dh))
    image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def test_image_hash_survives_resize_crop_reencode_but_not_another_photo() -> None:
    official = hash_bytes(photo_bytes("nike-official"))
    assert official is not None
    for copy in (
        _reencode(photo_bytes("nike-official"), scale=0.5),
        _reencode(photo_bytes("nike-official"), crop=0.88),
        _reencode(photo_bytes("nike-official"), scale=0.7, crop=0.9, quality=40),
    ):
        mine = hash_bytes(copy)
        assert mine is not None
        best = min(distance(a, b) for a in mine.all() for b in official.all())
        assert best <= 10
    other = hash_bytes(photo_bytes("something-else"))
    assert other is not None
    assert min(distance(a, b) for a in other.all() for b in official.all()) > 10
    assert hash_bytes(b"not an image") is None


def test_official_photo_copy_by_unauthorised_seller_is_held(
    session: Session, world: dict[str, str]
) -> None:
    from reelshop.storage import get_storage, new_key

    pid = _listing(
        session, _seller(session, world), "Classic running sneakers", "35.00", brand=None
    )
    key = new_key("products", ".jpg")
    get_storage().put(
        key, _reencode(photo_bytes("nike-official"), scale=0.6), content_type="image/jpeg"
    )
    session.add(ProductImage(product_id=pid, storage_key=key, position=0))
    session.commit()
    result = screening.screen_listing(session=session, product_id=pid, semantic=False)
    session.commit()
    assert "official_image" in {s.kind for s in result.signals}
    assert result.flagged
