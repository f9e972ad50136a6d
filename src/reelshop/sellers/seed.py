"""Seed step "seller_vetting": invitations and applications waiting in the staff queue.

Every application goes through the real service (invitation, sealed documents,
decisions, audit log), so the demo's queue looks like production's. The approved
sellers of the "sellers" step stay as they are.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from reelshop.accounts import service as accounts
from reelshop.accounts.models import Role, User
from reelshop.db import utcnow
from reelshop.ids import new_id
from reelshop.security import keys
from reelshop.security.passwords import hash_password
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerApplication
from reelshop.sellers.samples import sample_pdf, sample_png

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

APPLICANT_EMAIL = "applicant@demo.reelshop.dev"

# display name, legal name, country, ships from, registration number
APPLICANTS: list[tuple[str, str, str, str, str]] = [
    ("Hexin Home", "Yiwu Hexin Home Goods Co., Ltd.", "CN", "CN", "91330782MA2EC4LX7B"),
    (
        "Meiya Beauty",
        "Guangzhou Meiya Cosmetics Trading Co., Ltd.",
        "CN",
        "CN",
        "91440101MA5CK2P31R",
    ),
    ("Saigon Threads", "Saigon Threads Company Limited", "VN", "VN", "0316748291"),
    ("Harbor & Pine", "Harbor and Pine Goods LLC", "US", "US", "87-2291034"),
    ("Tianyu Sports", "Ningbo Tianyu Sporting Goods Co., Ltd.", "CN", "CN", "91330206MA2GR88Q0K"),
    ("Kowloon Gadget Lab", "Kowloon Gadget Lab Limited", "HK", "CN", "73199842"),
    ("Wren Studio", "Wren Studio Ltd", "GB", "GB", "14402871"),
    ("Fenglin Pets", "Dongguan Fenglin Pet Products Co., Ltd.", "CN", "CN", "91441900MA53XB9L2C"),
]
# (index into APPLICANTS, what happened after submission)
STORIES = {
    1: (
        "info_requested",
        "The business licence is cut off at the bottom; please upload all of it.",
    ),
    4: ("resubmitted", "Please add the brand authorisation for the Tianyu trademark."),
    6: ("rejected", "The registration number does not match Companies House records."),
}


def _documents(
    display_name: str, legal_name: str, rng: random.Random
) -> list[sellers.DocumentUpload]:
    colour = (rng.randint(30, 120), rng.randint(60, 140), rng.randint(120, 200))
    return [
        sellers.DocumentUpload(
            kind="business_licence",
            filename=f"{display_name.lower().replace(' ', '-')}-licence.pdf",
            data=sample_pdf(
                "Business licence", [legal_name, "Issued by the registration authority"]
            ),
        ),
        sellers.DocumentUpload(
            kind="identity", filename="id-card.png", data=sample_png(rgb=colour)
        ),
    ]


def _applicant_users(session: Session, ctx: SeedContext, demo_password: str) -> list[User]:
    shared_hash = hash_password(new_id("pwd"))  # nobody knows it
    rows = []
    for i in range(len(APPLICANTS) - 1):
        email = f"applicant{i:02d}@example.com"
        rows.append(
            {
                "id": new_id("usr"),
                "email_hash": keys.email_lookup_hash(email),
                "email": email,
                "name": ctx.fake.name(),
                "password_hash": shared_hash,
                "role": Role.SELLER.value,
                "staff_permissions": [],
                "market_code": "US",
                "locale": "en_US",
                "is_active": True,
                "session_version": 1,
            }
        )
    session.execute(insert(User), rows)
    demo = accounts.sign_up(
        session=session,
        email=APPLICANT_EMAIL,
        password=demo_password,
        name="Lin Mei",
        role=Role.SELLER,
    )
    users = list(session.scalars(select(User).where(User.id.in_([r["id"] for r in rows]))))
    users.sort(key=lambda u: u.email)
    # The demo applicant gets the story with a request for information.
    users.insert(1, demo)
    return users


def _play_story(
    session: Session,
    reviewer: User,
    applicant: User,
    application: SellerApplication,
    legal_name: str,
    outcome: str,
    note: str,
) -> None:
    if outcome == "rejected":
        sellers.reject_application(
            session=session, staff=reviewer, application_id=application.id, reason=note
        )
        return
    sellers.request_information(
        session=session, staff=reviewer, application_id=application.id, message=note
    )
    if outcome == "resubmitted":
        sellers.resubmit_application(
            session=session,
            applicant=applicant,
            application_id=application.id,
            uploads=[
                sellers.DocumentUpload(
                    kind="brand_authorisation",
                    filename="trademark-authorisation.pdf",
                    data=sample_pdf("Brand authorisation", [legal_name, "Trademark licence 2026"]),
                )
            ],
            note="Authorisation letter from the trademark owner attached.",
        )


def seed_seller_vetting(session: Session, ctx: SeedContext) -> None:
    from reelshop.seed import DEMO_PASSWORD, DemoLogin  # seed.py imports this module

    rng = random.Random(ctx.rng.getrandbits(64))
    reviewer = accounts.find_user_by_email(session=session, email="trust@demo.reelshop.dev")
    if reviewer is None:
        return
    categories = sellers.category_choices(session=session)
    applicants = _applicant_users(session, ctx, DEMO_PASSWORD)
    now = utcnow()

    for index, (user, spec) in enumerate(zip(applicants, APPLICANTS, strict=True)):
        display, legal, country, ships_from, registration = spec
        issued = sellers.invite_seller(
            session=session,
            staff=reviewer,
            email=user.email,
            business_name=display,
            market_code="US",
        )
        application = sellers.submit_application(
            session=session,
            applicant=user,
            details=sellers.BusinessDetails(
                display_name=display,
                legal_name=legal,
                registration_number=registration,
                country=country,
                ships_from_country=ships_from,
                categories=rng.sample(categories, k=min(len(categories), rng.randint(1, 3))),
                market_codes=["US"],
            ),
            uploads=_documents(display, legal, rng),
            invitation_token=issued.token,
        )
        story = STORIES.get(index)
        if story is not None:
            _play_story(session, reviewer, user, application, legal, *story)
        # Spread the queue over the last days so "oldest first" means something; the
        # history moves with it (the audit log keeps the real times).
        submitted = now - timedelta(hours=6 * (len(APPLICANTS) - index) + 1)
        application.created_at = application.submitted_at = submitted
        session.flush()
        session.refresh(application)
        for step, decision in enumerate(application.decisions):
            decision.created_at = submitted + timedelta(hours=2 * step, minutes=rng.randint(0, 59))
        if application.decided_at is not None:
            application.decided_at = application.decisions[-1].created_at

    # Open invitations not yet used, and one that lapsed.
    for name, email, days in [
        ("Aurora Lighting", "sales@aurora-lighting.example", 14),
        ("Qiyue Kitchenware", "bd@qiyue-kitchen.example", 14),
        ("Bamboo Basics", "hello@bamboo-basics.example", -1),
    ]:
        sellers.invite_seller(
            session=session,
            staff=reviewer,
            email=email,
            business_name=name,
            market_code="US",
            ttl=timedelta(days=days),
        )
    ctx.logins.append(
        DemoLogin("seller", APPLICANT_EMAIL, DEMO_PASSWORD, "applying; vetting asked for more")
    )
