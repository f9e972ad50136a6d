"""Key rotation: data keys per market wrapped by the master key, every encrypted column
re-sealed in batches (resumable, concurrent edits never lost), old ciphertexts still
open, master keys re-wrapped, and the CLI."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Address, User
from reelshop.config import Environment, Settings, get_settings
from reelshop.db import unit_of_work
from reelshop.security import keys, rotation
from reelshop.security.crypto import FieldCipher
from reelshop.security.hardening_models import DataKey
from reelshop.sellers.models import SellerProfile
from tests.factories import make_seller, make_user

NAMES = [f"Rotation Person {i}" for i in range(7)]


@pytest.fixture
def key_store(settings: Settings) -> Iterator[Settings]:
    """Keys configured from this test's database; reset to key-less afterwards."""
    keys.configure(settings)
    yield settings
    keys.configure(
        Settings(env=Environment.TEST, database_url="sqlite://", _env_file=None)  # type: ignore[call-arg]
    )


def _arrange(session: Session) -> list[str]:
    ids = []
    for name in NAMES:
        user = make_user(session, name=name, phone="+1 415 555 0100", commit=False)
        accounts.add_address(
            session=session,
            user=user,
            recipient=name,
            line1="1 Market Street",
            city="San Francisco",
            region="CA",
            postal_code="94105",
            country="US",
        )
        ids.append(user.id)
    make_seller(session, legal_name="Shenzhen Rotation Lighting Co., Ltd.", commit=False)
    session.commit()
    return ids


def _key_ids(session: Session) -> set[str]:
    found: set[str] = set()
    for table in rotation.encrypted_tables():
        for col, _ctx in table.columns:
            raw = session.execute(text(f"SELECT {col.name} FROM {table.name}")).scalars()  # noqa: S608
            found |= {FieldCipher.key_id_of(v) for v in raw if v is not None}
    return found


def _runner(factory: sessionmaker[Session]) -> Callable[..., rotation.BatchResult]:
    def run(step: Callable[[Session], rotation.BatchResult]) -> rotation.BatchResult:
        with unit_of_work(factory) as s:
            return step(s)

    return run


def _all_decrypt(session: Session, ids: list[str]) -> None:
    session.expire_all()
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    assert sorted(u.name for u in users.values()) == sorted(NAMES)
    assert all(u.phone == "+1 415 555 0100" for u in users.values())
    recipients = session.scalars(select(Address.recipient)).all()
    assert sorted(recipients) == sorted(NAMES)
    legal = session.scalars(select(SellerProfile.legal_name)).all()
    assert legal == ["Shenzhen Rotation Lighting Co., Ltd."]


def test_rotation_moves_every_value_to_the_new_key(
    key_store: Settings, session: Session, session_factory: sessionmaker[Session]
) -> None:
    ids = _arrange(session)
    master = keys.cipher().keyring.active_id
    assert _key_ids(session) == {master}  # before any data key: sealed by the master key

    with unit_of_work(session_factory) as s:
        first = rotation.start_rotation(session=s, market="US").id
    report = rotation.reencrypt_all(_runner(session_factory), batch_size=3)
    assert report.values_resealed > 3 * len(NAMES)
    session.commit()
    assert _key_ids(session) == {first}
    _all_decrypt(session, ids)

    # The wrapped key in the table is not the key: the master key is needed to open it.
    row = session.get(DataKey, first)
    assert row is not None and row.master_key_id == master and row.state == "active"
    assert row.wrapped_key.startswith(f"v1.{master}.")

    # A second rotation: the first key retires once nothing uses it.
    with unit_of_work(session_factory) as s:
        second = rotation.start_rotation(session=s, market="US").id
    rotation.reencrypt_all(_runner(session_factory), batch_size=4)
    with unit_of_work(session_factory) as s:
        assert rotation.retire_unused_keys(session=s) == [first]
    session.commit()
    assert _key_ids(session) == {second}
    _all_decrypt(session, ids)
    states = {k.id: k.state for k in session.scalars(select(DataKey))}
    assert states == {first: "retired", second: "active"}


def test_new_writes_use_the_new_key_and_an_interrupted_run_resumes(
    key_store: Settings, session: Session, session_factory: sessionmaker[Session]
) -> None:
    ids = _arrange(session)
    with unit_of_work(session_factory) as s:
        new = rotation.start_rotation(session=s, market="US").id
    keys.refresh_data_keys(force=True)
    fresh = make_user(session, name="Written After Rotation")
    raw = session.execute(text("SELECT name FROM users WHERE id = :i"), {"i": fresh.id}).scalar()
    assert raw is not None and raw.startswith(f"v2.{new}.")

    # Interrupted after one batch of users: the next run finishes without redoing work.
    users = next(t for t in rotation.encrypted_tables() if t.name == "users")
    with unit_of_work(session_factory) as s:
        rotation.reload_keys(s)
        done = rotation.reencrypt_batch(session=s, table=users, after=None, batch_size=2)
    assert done.values_resealed > 0
    rest = rotation.reencrypt_all(_runner(session_factory), batch_size=50)
    again = rotation.reencrypt_all(_runner(session_factory), batch_size=50)
    assert rest.values_resealed > 0 and again.values_resealed == 0
    session.commit()
    assert _key_ids(session) == {new}
    _all_decrypt(session, ids)


def test_a_process_that_has_not_seen_the_new_key_loads_it_to_decrypt(
    key_store: Settings, session: Session, session_factory: sessionmaker[Session]
) -> None:
    ids = _arrange(session)
    with unit_of_work(session_factory) as s:
        rotation.start_rotation(session=s, market="US")
    rotation.reencrypt_all(_runner(session_factory), batch_size=100)
    # A server started before the rotation: its cipher knows no data key yet.
    keys.configure(key_store)
    assert keys.cipher().active_data_key("US") is None
    session.commit()
    _all_decrypt(session, ids)  # unknown key id -> keys reloaded from the database
    assert keys.cipher().active_data_key("US") is not None


def test_data_keys_are_per_market(
    key_store: Settings, session: Session, session_factory: sessionmaker[Session]
) -> None:
    with unit_of_work(session_factory) as s:
        us = rotation.start_rotation(session=s, market="US").id
        gb = rotation.start_rotation(session=s, market="GB").id
    keys.refresh_data_keys(force=True)
    with keys.market_scope("GB"):
        uk_user = make_user(session, name="Ada Lovelace")
    us_user = make_user(session, name="Grace Hopper")
    raw = {r[0]: r[1] for r in session.execute(text("SELECT id, name FROM users"))}
    assert raw[uk_user.id].startswith(f"v2.{gb}.")
    assert raw[us_user.id].startswith(f"v2.{us}.")
    # Rotating the US key leaves the GB values where they are.
    with unit_of_work(session_factory) as s:
        us2 = rotation.start_rotation(session=s, market="US").id
    rotation.reencrypt_all(_runner(session_factory), batch_size=100)
    session.commit()
    raw = {r[0]: r[1] for r in session.execute(text("SELECT id, name FROM users"))}
    assert raw[uk_user.id].startswith(f"v2.{gb}.")
    assert raw[us_user.id].startswith(f"v2.{us2}.")


def test_a_value_changed_during_the_batch_is_not_overwritten(
    key_store: Settings,
    session: Session,
    session_factory: sessionmaker[Session],
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite: a rotation batch holds the write lock, no writer can interleave")
    ids = _arrange(session)
    with unit_of_work(session_factory) as s:
        rotation.start_rotation(session=s, market="US")
    victim = ids[0]
    cipher = keys.cipher()
    real_seal = cipher.seal_field
    edited: list[bool] = []

    def seal_while_someone_edits(plaintext: str, *, context: str, market: str) -> str:
        if not edited and context == "users.name":
            edited.append(True)
            with unit_of_work(session_factory) as other:
                target = other.get(User, victim)
                assert target is not None
                target.name = "Edited Meanwhile"
        return real_seal(plaintext, context=context, market=market)

    monkeypatch.setattr(cipher, "seal_field", seal_while_someone_edits)
    users = next(t for t in rotation.encrypted_tables() if t.name == "users")
    with unit_of_work(session_factory) as s:
        rotation.reload_keys(s)
        result = rotation.reencrypt_batch(session=s, table=users, after=None, batch_size=100)
    assert result.conflicts == 1
    session.expire_all()
    target = session.get(User, victim)
    assert target is not None and target.name == "Edited Meanwhile"


def test_master_key_rotation_rewraps_data_keys(
    key_store: Settings, session: Session, session_factory: sessionmaker[Session]
) -> None:
    ids = _arrange(session)
    with unit_of_work(session_factory) as s:
        rotation.start_rotation(session=s, market="US")
    rotation.reencrypt_all(_runner(session_factory), batch_size=100)
    old_spec = key_store.field_encryption_keys
    new_spec = "m2026b:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
    with_both = key_store.model_copy(update={"field_encryption_keys": f"{new_spec},{old_spec}"})
    keys.configure(with_both)
    with unit_of_work(session_factory) as s:
        assert rotation.rewrap_data_keys(session=s) == 1
    # The old master key can now leave the configuration: nothing needs it any more.
    keys.configure(key_store.model_copy(update={"field_encryption_keys": new_spec}))
    session.commit()
    _all_decrypt(session, ids)
    row = session.scalars(select(DataKey)).one()
    assert row.master_key_id == "m2026b"


def test_cli_rotate_and_status(
    key_store: Settings, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelshop.cli import app as cli_app

    ids = _arrange(session)
    monkeypatch.setenv("REELSHOP_DATABASE_URL", key_store.database_url)
    monkeypatch.setenv("REELSHOP_DATA_DIR", str(key_store.data_dir))
    monkeypatch.setenv("REELSHOP_ENV", "test")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        rotated = runner.invoke(cli_app, ["keys", "rotate", "--settle-s", "0"])
        assert rotated.exit_code == 0, rotated.output
        assert "re-sealed" in rotated.output
        status = runner.invoke(cli_app, ["keys", "status"])
        assert status.exit_code == 0, status.output
        assert "active" in status.output and "data (US)" in status.output
        resumed = runner.invoke(cli_app, ["keys", "rotate", "--resume", "--settle-s", "0"])
        assert resumed.exit_code == 0 and "0 value(s) re-sealed" in resumed.output
    finally:
        get_settings.cache_clear()
    keys.configure(key_store)
    session.commit()
    new = session.scalars(select(DataKey.id)).one()
    assert _key_ids(session) == {new}
    _all_decrypt(session, ids)


def test_the_worker_finishes_a_background_rotation(
    key_store: Settings, session: Session, session_factory: sessionmaker[Session]
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from reelshop.db import utcnow
    from reelshop.jobs import __all__ as registered  # noqa: F401 - registers every job
    from reelshop.scheduling import JobContext, periodic_jobs
    from reelshop.security.rotation_jobs import finish_key_rotation

    assert "security.finish_key_rotation" in {job.name for job in periodic_jobs()}
    ids = _arrange(session)
    with unit_of_work(session_factory) as s:
        old = rotation.start_rotation(session=s, market="US").id
    rotation.reencrypt_all(_runner(session_factory), batch_size=100)
    with unit_of_work(session_factory) as s:
        new = rotation.start_rotation(session=s, market="US").id
    context = JobContext(session_factory, key_store)
    # Servers have not had time to load the new key yet: the job waits.
    assert finish_key_rotation(context) == 0
    session.execute(
        update(DataKey).where(DataKey.id == new).values(created_at=utcnow() - timedelta(minutes=5))
    )
    session.commit()
    assert finish_key_rotation(context) > 0
    session.commit()
    assert _key_ids(session) == {new}
    assert session.get(DataKey, old).state == "retired"  # type: ignore[union-attr]
    _all_decrypt(session, ids)
    assert finish_key_rotation(context) == 0  # nothing left to do
