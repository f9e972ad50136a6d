"""Outbox handlers of the sellers domain: the emails vetting sends."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reelshop.accounts.models import User
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.security import keys
from reelshop.sellers import service as sellers
from reelshop.sellers.models import SellerInvitation
from reelshop.worker_context import mailer

SIGN_OFF = "\n\n— reelshop trust & safety"


@subscribe("seller.invited", name="sellers.send_invitation")
def send_invitation(session: Session, event: OutboxEvent) -> None:
    invitation = session.get(SellerInvitation, event.payload["invitation_id"])
    if invitation is None or sellers.invitation_state(invitation) != "open":
        return  # revoked or used before delivery: nothing to send
    token = keys.cipher().decrypt(
        event.payload["sealed_token"], context=sellers.invitation_token_context(invitation.id)
    )
    mailer().send(
        to=invitation.email,
        subject=f"{invitation.business_name}: you are invited to sell on reelshop",
        body=(
            f"Hello {invitation.business_name},\n\n"
            f"You are invited to apply as a seller in reelshop's {invitation.market_code} market. "
            "Sign up with this email address as a seller, then open\n\n"
            f"  /seller/onboarding?invitation={token}\n\n"
            "on reelshop, or paste this invitation code into the application form:\n\n"
            f"  {token}\n\n"
            "The invitation works once and expires on "
            f"{invitation.expires_at.strftime('%d %B %Y')}." + SIGN_OFF
        ),
    )


def _applicant(session: Session, event: OutboxEvent) -> User | None:
    return session.get(User, event.payload["user_id"])


@subscribe("seller.approved", name="sellers.email_approval")
def email_approval(session: Session, event: OutboxEvent) -> None:
    user = _applicant(session, event)
    if user is None:
        return
    mailer().send(
        to=user.email,
        subject="You are approved to sell on reelshop",
        body=(
            f"Hi {user.name},\n\nYour seller application is approved for "
            f"{', '.join(event.payload['market_codes'])} in these categories: "
            f"{', '.join(event.payload['categories'])}. You can list products now." + SIGN_OFF
        ),
    )


@subscribe("seller.rejected", name="sellers.email_rejection")
def email_rejection(session: Session, event: OutboxEvent) -> None:
    user = _applicant(session, event)
    if user is None:
        return
    mailer().send(
        to=user.email,
        subject="Your reelshop seller application",
        body=(
            f"Hi {user.name},\n\nWe could not approve your seller application.\n\n"
            f"Reason: {event.payload['reason']}" + SIGN_OFF
        ),
    )


@subscribe("seller.info_requested", name="sellers.email_info_request")
def email_info_request(session: Session, event: OutboxEvent) -> None:
    user = _applicant(session, event)
    if user is None:
        return
    mailer().send(
        to=user.email,
        subject="We need more information for your seller application",
        body=(
            f"Hi {user.name},\n\nOur team reviewed your application and needs more from you:\n\n"
            f"{event.payload['message']}\n\nReply from your application page: "
            "/seller/onboarding" + SIGN_OFF
        ),
    )
