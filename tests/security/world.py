"""Other people's things to aim at, and callers of every role to aim with.

The "victims" own a paid order with a parcel, an address, an API token, a cart, a
seller application with KYC documents, a shop with a product and a payout. The
callers are fresh accounts of each role who own none of it, so any 2xx they get on
a victim's id is either granted to their role for anybody's rows (``ANY``) or a leak.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import String, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, StaffPermission, User
from reelshop.checkout import cart as carts
from reelshop.config import Settings
from reelshop.db import Base, unit_of_work, utcnow
from reelshop.logistics import service as logistics
from reelshop.logistics.carriers import Mishaps, SimulatedCarrier, webhook_secret
from reelshop.payments.models import Payout
from reelshop.sellers import service as sellers
from reelshop.sellers.samples import sample_pdf, sample_png
from tests.factories import make_seller, make_staff, make_user
from tests.logistics.helpers import paid_order
from tests.sellers.helpers import set_onboarding_mode

PUBLIC_ID = re.compile(r"^[a-z]{2,5}_[0-9a-z]{25}$")
# Rows that belong to somebody: a caller outside staff must never see their ids.
PRIVATE_TABLES = frozenset(
    {
        "addresses",
        "api_tokens",
        "carts",
        "cart_lines",
        "checkouts",
        "orders",
        "order_lines",
        "payments",
        "payment_refunds",
        "payouts",
        "shipments",
        "seller_applications",
        "seller_documents",
        "seller_invitations",
        "reviews",
        "claims",
        "trust_brand_owners",
    }
)
ROLE_NAMES = (
    "anonymous",
    "shopper",
    "seller",
    "creator",
    "staff:support",
    "staff:trust_safety",
    "staff:finance",
    "staff:admin",
)


@dataclass
class World:
    ids_by_table: dict[str, list[str]] = field(default_factory=dict)
    victim_email: str = ""
    victim_order_id: str = ""
    victim_address_id: str = ""

    @property
    def all_ids(self) -> list[str]:
        return [i for ids in self.ids_by_table.values() for i in ids]

    @property
    def private_ids(self) -> set[str]:
        return {i for t, ids in self.ids_by_table.items() if t in PRIVATE_TABLES for i in ids}


def _collect_ids(session: Session) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    existing = set(inspect(session.connection()).get_table_names())
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if table.name not in existing or len(pk) != 1 or not isinstance(pk[0].type, String):
            continue
        values = [
            v
            for v in session.scalars(select(pk[0]).limit(20))
            if isinstance(v, str) and PUBLIC_ID.match(v)
        ]
        if values:
            found[table.name] = values
    return found


def arrange_world(session: Session, factory: sessionmaker[Session], settings: Settings) -> World:
    paid = paid_order(session, factory, settings, ships_from="US")
    with unit_of_work(factory) as s:
        logistics.create_shipment(
            session=s,
            seller_id=paid.seller.id,
            order_id=paid.order_id,
            carrier=SimulatedCarrier(
                webhook_secret=webhook_secret(settings.secret_key),
                rng=random.Random(1),
                mishaps=Mishaps(customs_hold=0, exception=0, lost=0),
            ),
            weight_grams=400,
        )
        s.add(Payout(seller_id=paid.seller.id, currency="USD", amount=1234))
    victim = session.scalars(select(User).where(User.id == paid.placed.shopper_id)).one()
    address = accounts.add_address(
        session=session,
        user=victim,
        recipient="Victim Person",
        line1="1 Main St",
        city="Springfield",
        region="IL",
        postal_code="62701",
        country="US",
        phone="+12175550100",
    )
    accounts.create_api_token(session=session, user=victim, name="victim")
    set_onboarding_mode(session, "open")
    applicant = make_user(session, role=Role.SELLER, name="Applicant Person", commit=False)
    sellers.submit_application(
        session=session,
        applicant=applicant,
        details=sellers.BusinessDetails(
            display_name="Victim Cosmetics",
            legal_name="Victim Cosmetics Co., Ltd.",
            registration_number="91440101MA5CK2P31R",
            country="US",
            ships_from_country="US",
            categories=["electronics"],
            market_codes=["US"],
        ),
        uploads=[
            sellers.DocumentUpload(
                kind="business_licence",
                filename="licence.pdf",
                data=sample_pdf("Business licence", ["Registration 91440101MA5CK2P31R"]),
            ),
            sellers.DocumentUpload(kind="identity", filename="id.png", data=sample_png()),
        ],
    )
    inviter = make_staff(session, StaffPermission.TRUST_SAFETY, commit=False)
    sellers.invite_seller(
        session=session,
        staff=inviter,
        email="invited@victim.example",
        business_name="Invited Victim Ltd",
        market_code="US",
        ttl=timedelta(days=3),
    )
    session.commit()
    # A cart line of the victim's (the cart belongs to them; its line id is theirs).
    sku_id = session.execute(
        select(Base.metadata.tables["order_lines"].c.sku_id).limit(1)
    ).scalar_one()
    with unit_of_work(factory) as s:
        user = s.get(User, victim.id)
        assert user is not None
        carts.add_line(session=s, shopper=user, sku_id=sku_id, quantity=1)
    _trust_things(factory, paid.order_id, paid.line_id, victim.id)
    world = World(
        ids_by_table=_collect_ids(session),
        victim_email=paid.shopper_email,
        victim_order_id=paid.order_id,
        victim_address_id=address.id,
    )
    session.rollback()
    return world


def _trust_things(
    factory: sessionmaker[Session], order_id: str, line_id: str, victim_id: str
) -> None:
    """The victim's review and claim on their delivered order, and a brand they speak for."""
    from reelshop.checkout.models import Order
    from reelshop.trust import brands, claims, reviews

    with unit_of_work(factory) as s:
        order = s.get(Order, order_id)
        assert order is not None
        order.status = "delivered"
        order.delivered_at = utcnow()
    with unit_of_work(factory) as s:
        reviews.create_review(
            session=s, reviewer_id=victim_id, order_line_id=line_id, rating=4, body="Good value."
        )
        claims.open_claim(
            session=s,
            shopper_id=victim_id,
            order_id=order_id,
            claim_type="not_as_described",
            description="The colour is not the one in the photos.",
        )
        staff = make_staff(s, StaffPermission.TRUST_SAFETY, commit=False)
        registration = brands.register_brand(
            session=s,
            staff_id=staff.id,
            name="Victimcorp",
            trademark_number="TM-4455667",
            trademark_classes=[9],
        )
        brands.verify_owner(
            session=s,
            staff_id=staff.id,
            brand_id=registration.brand_id,
            user_id=victim_id,
            note="papers checked",
        )


class Callers:
    """One bearer token per role, for accounts that own nothing the world holds."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.user_ids: dict[str, str] = {}
        with unit_of_work(factory) as session:
            for role in ROLE_NAMES[1:]:
                user = self._account(session, role)
                self.user_ids[role] = user.id
                secret = accounts.create_api_token(session=session, user=user, name=role).secret
                self.headers[role] = {"Authorization": f"Bearer {secret}"}

    def renew(self, role: str) -> dict[str, str]:
        """A fresh token for the same account (after a call that may have ended the last)."""
        if role == "anonymous":
            return {}
        with unit_of_work(self.factory) as session:
            user = session.get(User, self.user_ids[role])
            assert user is not None
            secret = accounts.create_api_token(session=session, user=user, name="renewed").secret
        self.headers[role] = {"Authorization": f"Bearer {secret}"}
        return self.headers[role]

    @staticmethod
    def _account(session: Session, role: str) -> User:
        if role.startswith("staff:"):
            return make_staff(session, StaffPermission(role.split(":", 1)[1]), commit=False)
        if role == "seller":
            user, _ = make_seller(
                session, display_name="Caller Shop", ships_from="US", commit=False
            )
            return user
        return make_user(session, role=Role(role), commit=False)
