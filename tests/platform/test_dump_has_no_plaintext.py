"""A database dump holds no plaintext personal data: emails, phones, addresses, legal names."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, MetaData, String, cast, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, User
from tests.factories import make_seller, make_user

EMAIL = "Zelda.Quartermaine@example.org"
PHONE = "+1 415 555 0199"
STREET = "7421 Heliotrope Boulevard"
POSTAL_CODE = "94117-4321"
RECIPIENT = "Zelda Quartermaine"
LEGAL_NAME = "Zhuhai Marigold Lighting Manufacturing Co., Ltd."
REGISTRATION = "91440400MA4ZQ7K3X9"
DISPLAY_NAME = "Quokka Lamps"  # public on purpose: proves the dump is readable at all

SECRETS = {
    "email": EMAIL,
    "email (normalised)": EMAIL.lower(),
    "phone": PHONE,
    "phone digits": "4155550199",
    "street": STREET,
    "postal code": POSTAL_CODE,
    "recipient": RECIPIENT,
    "legal name": LEGAL_NAME,
    "registration number": REGISTRATION,
}


def _arrange(session: Session) -> None:
    user = make_user(session, email=EMAIL, name=RECIPIENT, phone=PHONE, commit=False)
    accounts.add_address(
        session=session,
        user=user,
        recipient=RECIPIENT,
        line1=STREET,
        line2="Suite 9B",
        city="San Francisco",
        region="CA",
        postal_code=POSTAL_CODE,
        country="US",
        phone=PHONE,
    )
    seller_user, _ = make_seller(
        session,
        display_name=DISPLAY_NAME,
        legal_name=LEGAL_NAME,
        registration_number=REGISTRATION,
        commit=False,
    )
    seller_user.phone = PHONE
    session.commit()
    # The application still reads everything back.
    again = accounts.find_user_by_email(session=session, email=EMAIL.upper())
    assert again is not None and again.phone == PHONE
    assert again.addresses[0].line1 == STREET
    assert session.scalars(select(User).where(User.role == Role.SELLER)).one().phone == PHONE


def _sqlite_dump(database_url: str) -> str:
    path = Path(str(make_url(database_url).database))
    raw = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    con = sqlite3.connect(path)
    try:
        lines = "\n".join(con.iterdump())
    finally:
        con.close()
    # Raw pages (main file and WAL, deleted rows included) and the SQL dump.
    return raw.decode("latin-1") + "\n" + lines


def _postgres_dumps(database_url: str, engine: Engine) -> list[str]:
    """Every row of every table as text, and pg_dump's output when it is installed."""
    meta = MetaData()
    meta.reflect(engine)
    chunks: list[str] = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            columns = [cast(c, String) for c in table.columns]
            for row in conn.execute(select(*columns)):
                chunks.append("|".join("" if v is None else str(v) for v in row))
    dumps = ["\n".join(chunks)]
    pg_dump = shutil.which("pg_dump")
    if pg_dump:
        url = make_url(database_url).set(drivername="postgresql")
        result = subprocess.run(
            [pg_dump, "--data-only", "--no-owner", url.render_as_string(hide_password=False)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        dumps.append(result.stdout)
    return dumps


def test_dump_contains_no_plaintext_personal_data(
    session: Session, engine: Engine, database_url: str, backend: str
) -> None:
    _arrange(session)
    session.close()
    dumps = (
        [_sqlite_dump(database_url)]
        if backend == "sqlite"
        else _postgres_dumps(database_url, engine)
    )
    for dump in dumps:
        assert DISPLAY_NAME in dump, "the dump did not capture the data at all"
        found = {what: value for what, value in SECRETS.items() if value.lower() in dump.lower()}
        assert found == {}, f"plaintext personal data in the dump: {found}"
