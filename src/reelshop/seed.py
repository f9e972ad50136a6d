"""A deterministic synthetic marketplace for the demo and the benchmarks.

The same ``--scale`` and seed give the same marketplace. Each capability adds its
own step to ``SEED_STEPS``. Synthetic accounts share one password hash (hashing
argon2id once per account would take minutes); only the demo log-ins printed at
the end have their own passwords.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faker import Faker
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, StaffPermission, User
from reelshop.analytics.seed import seed_analytics
from reelshop.catalog.search_index import seed_search_index
from reelshop.catalog.seed import seed_catalog
from reelshop.checkout.seed import seed_promotions
from reelshop.feed.monetisation_seed import seed_monetisation
from reelshop.feed.seed import seed_feed
from reelshop.ids import new_id
from reelshop.logistics.fulfilment_seed import seed_fulfilment, seed_performance
from reelshop.logistics.promise_seed import seed_logistics_history
from reelshop.payments.seed import seed_ledger_books, seed_payments
from reelshop.security import keys
from reelshop.security.passwords import hash_password
from reelshop.sellers.models import SellerProfile, SellerStatus
from reelshop.sellers.seed import seed_seller_vetting
from reelshop.sellers.service import FALLBACK_CATEGORIES
from reelshop.trust.claims_seed import seed_claims
from reelshop.trust.reviews_seed import seed_reviews
from reelshop.trust.seed import seed_trust

DEMO_PASSWORD = "reelshop-demo-2026"  # noqa: S105 - published demo credential


@dataclass(frozen=True)
class Scale:
    name: str
    shoppers: int
    sellers: int
    creators: int


SCALES = {
    "small": Scale("small", shoppers=300, sellers=48, creators=30),
    "large": Scale("large", shoppers=50_000, sellers=2_000, creators=1_000),
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    note: str


@dataclass
class SeedContext:
    scale: Scale
    rng: random.Random
    fake: Faker
    logins: list[DemoLogin] = field(default_factory=list)
    shopper_ids: list[str] = field(default_factory=list)
    seller_ids: list[str] = field(default_factory=list)  # seller profile ids
    creator_ids: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


# Where the marketplace's sellers come from: mostly cross-border from China, as on the
# leading platform's US shop, then US domestic sellers and a few others.
SELLER_ORIGINS: list[tuple[str, str, str, float]] = [
    # country, ships from, timezone, share
    ("CN", "CN", "Asia/Shanghai", 0.55),
    ("US", "US", "America/Los_Angeles", 0.30),
    ("HK", "CN", "Asia/Hong_Kong", 0.05),
    ("VN", "VN", "Asia/Ho_Chi_Minh", 0.05),
    ("GB", "GB", "Europe/London", 0.05),
]
CN_CITIES = ["Shenzhen", "Guangzhou", "Yiwu", "Hangzhou", "Dongguan", "Ningbo", "Xiamen", "Foshan"]
CN_WORDS = [
    "Lumi",
    "Aurora",
    "Hexin",
    "Jiale",
    "Ruixin",
    "Meiya",
    "Xinda",
    "Kaisheng",
    "Huamei",
    "Tianyu",
    "Baoli",
    "Yuxin",
    "Anker-Way",
    "Sunmo",
    "Qiyue",
    "Fenglin",
]
CN_TRADES = ["Electronics", "Trading", "Technology", "Apparel", "Home Goods", "Beauty", "Crafts"]


def _pick_origin(rng: random.Random) -> tuple[str, str, str]:
    roll = rng.random()
    acc = 0.0
    for country, ships_from, tz, share in SELLER_ORIGINS:
        acc += share
        if roll <= acc:
            return country, ships_from, tz
    return SELLER_ORIGINS[0][:3]


def _seller_names(rng: random.Random, fake: Faker, country: str) -> tuple[str, str]:
    if country in ("CN", "HK"):
        word = rng.choice(CN_WORDS)
        trade = rng.choice(CN_TRADES)
        city = rng.choice(CN_CITIES) if country == "CN" else "Hong Kong"
        return f"{word} {trade}", f"{city} {word} {trade} Co., Ltd."
    if country == "VN":
        word = rng.choice(["Saigon", "Hanoi", "Lotus", "Mekong", "Bamboo"])
        return f"{word} Goods", f"{word} Goods Company Limited"
    base = fake.last_name()
    kind = rng.choice(["Supply", "Goods", "Studio", "Outfitters", "Home", "Beauty Co."])
    suffix = "Ltd" if country == "GB" else rng.choice(["LLC", "Inc."])
    return f"{base} {kind}", f"{base} {kind} {suffix}"


def _user_rows(
    ctx: SeedContext, role: Role, count: int, password_hash: str, prefix: str
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        name = ctx.fake.name()
        email = f"{prefix}{i:05d}@example.com"
        rows.append(
            {
                "id": new_id("usr"),
                "email_hash": keys.email_lookup_hash(email),
                "email": email,
                "name": name,
                "phone": ctx.fake.numerify("+1 ### ### ####") if ctx.rng.random() < 0.6 else None,
                "handle": None,
                "password_hash": password_hash,
                "role": role.value,
                "staff_permissions": [],
                "market_code": "US",
                "locale": "en_US",
                "is_active": True,
                "session_version": 1,
            }
        )
    return rows


def seed_accounts(session: Session, ctx: SeedContext) -> None:
    shared_hash = hash_password(new_id("pwd"))  # nobody knows it: synthetic accounts cannot log in

    demo = [
        (Role.SHOPPER, "shopper@demo.reelshop.dev", "Maya Thompson", None, "browse, buy, track"),
        (
            Role.SELLER,
            "seller@demo.reelshop.dev",
            "Chen Wei",
            None,
            "a Shenzhen cross-border seller",
        ),
        (
            Role.CREATOR,
            "creator@demo.reelshop.dev",
            "Jordan Rivera",
            "jordan.finds",
            "posts and earns",
        ),
    ]
    created: dict[Role, User] = {}
    for role, email, name, handle, note in demo:
        user = accounts.sign_up(
            session=session,
            email=email,
            password=DEMO_PASSWORD,
            name=name,
            role=role,
            handle=handle,
            phone="+1 415 555 0134",
        )
        created[role] = user
        ctx.logins.append(DemoLogin(role.value, email, DEMO_PASSWORD, note))
    staff = accounts.create_staff_user(
        session=session,
        email="admin@demo.reelshop.dev",
        password=DEMO_PASSWORD,
        name="Priya Natarajan",
        permissions=list(StaffPermission),
        created_by=None,
    )
    ctx.logins.append(DemoLogin("staff", staff.email, DEMO_PASSWORD, "admin: every permission"))
    for perms, email, name in [
        ([StaffPermission.TRUST_SAFETY], "trust@demo.reelshop.dev", "Sam Okafor"),
        ([StaffPermission.FINANCE], "finance@demo.reelshop.dev", "Elena Petrova"),
        ([StaffPermission.SUPPORT], "support@demo.reelshop.dev", "Luis Romero"),
    ]:
        accounts.create_staff_user(
            session=session,
            email=email,
            password=DEMO_PASSWORD,
            name=name,
            permissions=perms,
            created_by=staff.id,
        )

    ctx.shopper_ids.append(created[Role.SHOPPER].id)
    ctx.creator_ids.append(created[Role.CREATOR].id)
    ctx.extra["demo_seller_user_id"] = created[Role.SELLER].id

    batch = 2_000
    for role, count, prefix, ids in [
        (Role.SHOPPER, ctx.scale.shoppers, "shopper", ctx.shopper_ids),
        (Role.CREATOR, ctx.scale.creators, "creator", ctx.creator_ids),
    ]:
        for start in range(0, count, batch):
            rows = _user_rows(
                ctx, role, min(batch, count - start), shared_hash, f"{prefix}{start}-"
            )
            if role is Role.CREATOR:
                for row in rows:
                    row["handle"] = f"{ctx.fake.user_name()}{ctx.rng.randint(1, 999)}"[:30]
            session.execute(insert(User), rows)
            ids.extend(r["id"] for r in rows)


def seed_sellers(session: Session, ctx: SeedContext) -> None:
    shared_hash = hash_password(new_id("pwd"))
    demo_user_id = ctx.extra["demo_seller_user_id"]
    demo_profile = SellerProfile(
        user_id=demo_user_id,
        display_name="Lumi Electronics",
        legal_name="Shenzhen Lumi Electronics Co., Ltd.",
        registration_number="91440300MA5F8XK21Q",
        country="CN",
        ships_from_country="CN",
        timezone="Asia/Shanghai",
        currency="USD",
        categories=["electronics", "phone-accessories"],
        market_codes=["US"],
        status=SellerStatus.APPROVED,
    )
    session.add(demo_profile)
    session.flush()
    ctx.seller_ids.append(demo_profile.id)

    user_rows = _user_rows(ctx, Role.SELLER, ctx.scale.sellers, shared_hash, "seller")
    session.execute(insert(User), user_rows)
    profiles = []
    for row in user_rows:
        country, ships_from, tz = _pick_origin(ctx.rng)
        display, legal = _seller_names(ctx.rng, ctx.fake, country)
        status = (
            SellerStatus.APPROVED
            if ctx.rng.random() < 0.85
            else ctx.rng.choice(
                [SellerStatus.PENDING, SellerStatus.REJECTED, SellerStatus.SUSPENDED]
            )
        )
        profiles.append(
            {
                "id": new_id("sel"),
                "user_id": row["id"],
                "display_name": display,
                "legal_name": legal,
                "registration_number": ctx.fake.bothify("##########??").upper(),
                "country": country,
                "ships_from_country": ships_from,
                "timezone": tz,
                "currency": "USD",
                "categories": ctx.rng.sample(FALLBACK_CATEGORIES, k=ctx.rng.randint(1, 3)),
                "market_codes": ["US"],
                "status": status.value,
            }
        )
    session.execute(insert(SellerProfile), profiles)
    ctx.seller_ids.extend(p["id"] for p in profiles)


SeedStep = Callable[[Session, SeedContext], None]
SEED_STEPS: list[tuple[str, SeedStep]] = [
    ("accounts", seed_accounts),
    ("sellers", seed_sellers),
    ("catalog", seed_catalog),
    ("feed", seed_feed),
    ("seller_vetting", seed_seller_vetting),
    ("payments", seed_payments),
    ("checkout_promotions", seed_promotions),
    ("monetisation", seed_monetisation),
    ("fulfilment", seed_fulfilment),
    ("performance", seed_performance),
    ("analytics", seed_analytics),
    ("logistics_history", seed_logistics_history),
    ("ledger_books", seed_ledger_books),  # after every step that bulk-inserts paid orders
    ("reviews", seed_reviews),
    ("claims", seed_claims),
    ("trust", seed_trust),
    ("search_index", seed_search_index),  # after every step that adds products
]


def is_seeded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def run_seed(
    session_factory: Callable[[], Session],
    *,
    scale: str = "small",
    seed: int = 20261124,
    on_step: Callable[[str, int, int], None] | None = None,
) -> SeedContext:
    """Run every step, each in its own transaction, in order."""
    ctx = SeedContext(scale=SCALES[scale], rng=random.Random(seed), fake=Faker("en_US"))
    ctx.fake.seed_instance(seed)
    for index, (name, step) in enumerate(SEED_STEPS):
        if on_step:
            on_step(name, index, len(SEED_STEPS))
        session = session_factory()
        try:
            step(session, ctx)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    if on_step:
        on_step("done", len(SEED_STEPS), len(SEED_STEPS))
    return ctx
