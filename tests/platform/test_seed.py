"""The demo seed: log-ins that work, cross-border and US sellers, the counts its scale
promises, and the same marketplace again for the same seed."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop import seed
from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, User
from reelshop.config import Settings
from reelshop.db import make_engine, make_session_factory
from reelshop.payments.verify import verify as ledger_verify
from reelshop.seed import DEMO_PASSWORD, SCALES, run_seed
from reelshop.sellers.models import SellerProfile

FOUNDATION_STEPS = [
    (name, step) for name, step in seed.SEED_STEPS if name in ("accounts", "sellers")
]

# Computing every product's embedding takes over a minute; the browser tests run the whole
# seed (``reelshop demo --no-serve``) and the search tests cover that step.
SLOW_STEPS = {"search_index"}


@pytest.fixture
def writer(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def test_small_seed_into_a_fresh_database(
    writer: sessionmaker[Session],
    session: Session,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        seed, "SEED_STEPS", [(n, step) for n, step in seed.SEED_STEPS if n not in SLOW_STEPS]
    )
    steps_seen: list[str] = []
    ctx = run_seed(writer, scale="small", on_step=lambda name, i, n: steps_seen.append(name))
    assert steps_seen == [name for name, _ in seed.SEED_STEPS] + ["done"]
    scale = SCALES["small"]

    with writer() as s:
        assert seed.is_seeded(s)
        logins = {login.role: login for login in ctx.logins}
        assert {"shopper", "seller", "creator", "staff"} <= set(logins)
        for login in ctx.logins:
            user = accounts.authenticate(
                session=s,
                settings=settings,
                email=login.email,
                password=login.password,
                client_ip="127.0.0.1",
            )
            assert user.role == login.role
            assert login.password == DEMO_PASSWORD
        s.rollback()

    assert len(ctx.shopper_ids) == scale.shoppers + 1  # plus the demo shopper
    assert len(ctx.creator_ids) == scale.creators + 1
    assert len(ctx.seller_ids) == scale.sellers + 1
    for role, ids in ((Role.SHOPPER, ctx.shopper_ids), (Role.CREATOR, ctx.creator_ids)):
        found = session.scalar(
            select(func.count()).select_from(User).where(User.id.in_(ids), User.role == role)
        )
        assert found == len(ids)
    profiles = session.scalars(
        select(SellerProfile).where(SellerProfile.id.in_(ctx.seller_ids))
    ).all()
    assert len(profiles) == scale.sellers + 1
    staff = session.scalar(select(func.count()).select_from(User).where(User.role == Role.STAFF))
    assert staff is not None and staff >= 4

    countries = Counter(p.country for p in profiles)
    assert countries["CN"] >= scale.sellers // 3, countries
    assert countries["US"] >= scale.sellers // 8, countries
    cn = next(p for p in profiles if p.country == "CN" and p.id != ctx.seller_ids[0])
    assert cn.legal_name.endswith("Co., Ltd.") and cn.ships_from_country == "CN"
    assert all(p.categories and p.market_codes == ["US"] for p in profiles)

    # Every step that inserts paid orders leaves the books balanced and complete.
    report = ledger_verify(session=session)
    assert report.ok, report.violations[:5]
    assert report.entries > 0


def _seller_names(template: Path, tmp_path: Path, name: str, seed_value: int) -> list[tuple]:
    path = tmp_path / f"{name}.db"
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        factory = make_session_factory(engine)
        run_seed(factory, scale="small", seed=seed_value)
        with factory() as s:
            return sorted(
                (p.display_name, p.legal_name, p.country, p.ships_from_country, p.status)
                for p in s.scalars(select(SellerProfile))
            )
    finally:
        engine.dispose()


def test_the_same_seed_gives_the_same_sellers(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sellers come from the first two steps; later capabilities' steps add other data.
    monkeypatch.setattr(seed, "SEED_STEPS", FOUNDATION_STEPS)
    first = _seller_names(sqlite_template, tmp_path, "first", 20261124)
    second = _seller_names(sqlite_template, tmp_path, "second", 20261124)
    other = _seller_names(sqlite_template, tmp_path, "other", 7)
    assert len(first) == SCALES["small"].sellers + 1
    assert first == second
    assert first != other
