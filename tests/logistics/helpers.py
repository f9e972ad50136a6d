"""Arrangements for logistics tests: paid orders, the simulated carrier, signed events."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from reelshop.checkout import service as checkout
from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.ids import new_id
from reelshop.logistics.carriers import Mishaps, SimulatedCarrier, webhook_secret
from reelshop.sellers.models import SellerProfile
from tests.factories import make_product, make_seller, make_user
from tests.payments.helpers import LineSpec, OrderSpec, Placed, pay_and_confirm, place_checkout


@dataclass
class PaidOrder:
    order_id: str
    seller: SellerProfile
    seller_email: str
    shopper_email: str
    line_id: str
    placed: Placed


def paid_order(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    ships_from: str = "US",
    quantity: int = 2,
    through_payments: bool = False,
    **seller_profile: Any,
) -> PaidOrder:
    """A paid order of one line; ``through_payments`` pays it with the simulated processor
    (escrow held, so it can settle), otherwise checkout just records it paid."""
    seller_user, seller = make_seller(
        session, ships_from=ships_from, commit=False, **seller_profile
    )
    product = make_product(session, seller=seller, price_cents=2500, stock=20, commit=False)
    shopper = make_user(session, commit=False)
    session.commit()
    placed = place_checkout(
        session, shopper=shopper, orders=[OrderSpec([LineSpec(product, quantity)], shipping=500)]
    )
    if through_payments:
        pay_and_confirm(factory, settings, placed)
    else:
        with unit_of_work(factory) as s:
            checkout.mark_checkout_paid(session=s, checkout_id=placed.checkout_id)
    order_id = placed.order_ids[0]
    with unit_of_work(factory) as s:
        line_id = checkout.order_lines(session=s, order_id=order_id)[0].id
    return PaidOrder(order_id, seller, seller_user.email, shopper.email, line_id, placed)


def carrier(
    settings: Settings, *, seed: int | None = None, mishaps: Mishaps | None = None
) -> SimulatedCarrier:
    return SimulatedCarrier(
        webhook_secret=webhook_secret(settings.secret_key),
        rng=random.Random(seed),
        mishaps=mishaps or Mishaps(customs_hold=0, exception=0, lost=0),
    )


def event_body(
    tracking_number: str,
    status: str,
    occurred_at: datetime,
    *,
    event_id: str | None = None,
    code: str | None = None,
) -> bytes:
    payload = {
        "id": event_id or new_id("cev"),
        "type": "tracker.updated",
        "created_at": occurred_at.isoformat(),
        "data": {
            "carrier": "simulated",
            "tracking_number": tracking_number,
            "checkpoint": {
                "status": status,
                "code": code or status,
                "message": status.replace("_", " ").capitalize(),
                "location": "Chicago, IL",
                "occurred_at": occurred_at.isoformat(),
            },
        },
    }
    return json.dumps(payload).encode()


def post_event(
    client: TestClient, sim: SimulatedCarrier, body: bytes, *, timestamp: int | None = None
) -> Any:
    return client.post(
        "/api/v1/logistics/webhooks/simulated",
        content=body,
        headers=sim.signed_headers(body, timestamp=timestamp),
    )


def client_poster(client: TestClient) -> Any:
    def post(body: bytes, headers: dict[str, str]) -> int:
        return client.post(
            "/api/v1/logistics/webhooks/simulated", content=body, headers=headers
        ).status_code

    return post
