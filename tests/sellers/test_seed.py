"""The demo seed fills the vetting queue through the real service."""

from __future__ import annotations

import random

from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts.models import User
from reelshop.seed import SCALES, SeedContext, seed_accounts, seed_sellers
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerApplication, SellerInvitation
from reelshop.sellers.seed import seed_seller_vetting
from tests.factories import api_login


def test_seed_step_fills_the_queue(
    session_factory: sessionmaker[Session], client: TestClient, session: Session
) -> None:
    ctx = SeedContext(scale=SCALES["small"], rng=random.Random(7), fake=Faker("en_US"))
    for step in (seed_accounts, seed_sellers, seed_seller_vetting):
        with session_factory() as s:
            step(s, ctx)
            s.commit()

    statuses = sorted(session.scalars(select(SellerApplication.status)))
    assert statuses.count("submitted") == 5
    assert {"info_requested", "resubmitted", "rejected"} <= set(statuses)
    queue = sellers.review_queue(session=session)
    assert queue.total == 6
    assert queue.applications == sorted(queue.applications, key=lambda a: a.submitted_at)
    states = [sellers.invitation_state(i) for i in session.scalars(select(SellerInvitation))]
    assert states.count("used") == 8 and states.count("open") == 2 and states.count("expired") == 1

    # Documents open, and the demo applicant can log in and see the request.
    reviewer = session.scalars(select(User).where(User.role == "staff")).first()
    assert reviewer is not None
    first = queue.applications[0]
    document, data = sellers.open_document(
        session=session,
        viewer=reviewer,
        application_id=first.id,
        document_id=first.documents[0].id,
        reviewer=True,
    )
    assert data[:5] == b"%PDF-" and document.content_type == "application/pdf"
    assert any(login.email == "applicant@demo.reelshop.dev" for login in ctx.logins)
    headers = api_login(client, "applicant@demo.reelshop.dev", "reelshop-demo-2026")
    mine = client.get("/api/v1/seller-applications", headers=headers).json()
    assert mine[0]["status"] == "info_requested"
