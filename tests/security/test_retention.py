"""Retention rules: what is past its time goes, what is not stays, and a second run is a no-op."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reelshop.accounts import service as accounts
from reelshop.accounts.models import ApiToken, LoginThrottle, StaffPermission
from reelshop.db import unit_of_work, utcnow
from reelshop.feed.models import FeedEvent
from reelshop.logistics.models import DeadLetterEvent
from reelshop.outbox.models import OutboxEvent
from reelshop.privacy.jobs import apply_retention
from reelshop.privacy.retention import RULES, apply_rules
from reelshop.scheduling import JobContext, periodic_jobs
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerInvitation
from tests.factories import make_staff, make_user
from tests.feed.helpers import add_video


def _count(session: Session, model: object, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def test_rules_forget_only_what_is_past_its_time(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    old, fresh = now - timedelta(days=400), now - timedelta(days=1)
    user = make_user(session, commit=False)
    session.add_all(
        [
            LoginThrottle(key="acct:old", failures=3, window_started_at=old),
            LoginThrottle(key="acct:fresh", failures=1, window_started_at=fresh),
        ]
    )
    kept = accounts.create_api_token(session=session, user=user, name="live")
    revoked = accounts.create_api_token(session=session, user=user, name="revoked long ago")
    session.flush()
    session.get(ApiToken, revoked.token.id).revoked_at = old  # type: ignore[union-attr]
    video = add_video(session, author_user_id=user.id)
    session.add_all(
        [
            FeedEvent(
                user_id=user.id,
                video_id=video.id,
                kind="watch",
                created_at=old - timedelta(days=40),
            ),
            FeedEvent(user_id=user.id, video_id=video.id, kind="watch", created_at=fresh),
        ]
    )
    session.add_all(
        [
            DeadLetterEvent(
                carrier="sim",
                event_id="e-old",
                reason="no parcel",
                payload={"name": "X"},
                received_at=old,
            ),
            DeadLetterEvent(
                carrier="sim", event_id="e-new", reason="no parcel", payload={}, received_at=fresh
            ),
        ]
    )
    session.add_all(
        [
            OutboxEvent(
                topic="t.old", payload={"email": "a@b.c"}, status="delivered", delivered_at=old
            ),
            OutboxEvent(topic="t.pending", payload={}, status="pending"),
        ]
    )
    staff = make_staff(session, StaffPermission.TRUST_SAFETY, commit=False)
    issued = sellers.invite_seller(
        session=session,
        staff=staff,
        email="old@invitee.example",
        business_name="Old Ltd",
        market_code="US",
        ttl=timedelta(days=1),
    )
    issued.invitation.expires_at = old
    session.commit()

    done = apply_rules(session=session, now=now)
    session.commit()
    assert done["login_throttles"] == 1
    assert done["revoked_api_tokens"] == 1
    assert done["feed_interactions"] == 1
    assert done["logistics_dead_letters"] == 1
    assert done["delivered_outbox_events"] >= 1
    assert done["expired_seller_invitations"] == 1

    session.expire_all()
    assert session.get(LoginThrottle, "acct:fresh") is not None
    assert session.get(LoginThrottle, "acct:old") is None
    assert session.get(ApiToken, kept.token.id) is not None
    assert _count(session, FeedEvent, FeedEvent.user_id == user.id) == 1
    assert _count(session, DeadLetterEvent) == 1
    assert _count(session, OutboxEvent, OutboxEvent.status == "pending") >= 1
    invitation = session.get(SellerInvitation, issued.invitation.id)
    assert invitation is not None and invitation.email == "[erased]"

    again = apply_rules(session=session, now=now)
    assert not any(again.values()), again


def test_every_rule_names_a_real_table_and_clock() -> None:
    from reelshop.db import Base

    for rule in RULES:
        table = Base.metadata.tables.get(rule.table)
        if table is None:  # a domain not installed
            continue
        if rule.parent is None:
            assert rule.clock in table.c, rule
        else:
            fk, parent, clock = rule.parent
            assert fk in table.c and clock in Base.metadata.tables[parent].c, rule
        assert rule.days > 0 and rule.why


def test_retention_runs_as_a_periodic_job(
    session_factory: sessionmaker[Session], settings: object
) -> None:
    assert "privacy.apply_retention" in {j.name for j in periodic_jobs()}
    with unit_of_work(session_factory) as s:
        s.add(
            LoginThrottle(
                key="acct:ancient", failures=1, window_started_at=utcnow() - timedelta(days=99)
            )
        )
    done = apply_retention(JobContext(session_factory, settings))  # type: ignore[arg-type]
    assert done["login_throttles"] == 1
