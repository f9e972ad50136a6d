"""How honest are delivery promises? Replays SIMULATED history and scores promises.

Parcels are paid for day after day over ~5 months; each seller hands its parcel to the
simulated carrier some hours after payment (a few miss the ship-by deadline), and the
carrier's own journey model (lognormal legs, customs holds, failed attempts, lost
parcels) decides when it is delivered. As the periodic job does, the percentiles are
rebuilt once a simulated day from deliveries already seen; every parcel paid after
the warm-up gets the promise checkout would show (``estimates.window_from`` on the
``paid`` milestone, the same code the service runs) and is scored by whether it was
delivered inside it. Lost parcels count as misses.

Baseline in the same run: the policy's fixed default window (what a platform without
history promises). Last line: ``{"parcels", "on_time_share", "mean_window_days"}`` for
the history-based promise.

    .venv/bin/python benchmarks/delivery_estimates.py [--parcels 6000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from reelshop.logistics.carriers import SIMULATED, SimulatedCarrier
from reelshop.logistics.estimate_models import ANY_CARRIER
from reelshop.logistics.estimates import (
    BUILT_IN_POLICY,
    PAID,
    ParcelHistory,
    Policy,
    Stat,
    StatKey,
    Window,
    build_stats,
    pick_stat,
    window_from,
)
from reelshop.logistics.models import Lane
from reelshop.logistics.service import ship_by_time

ZONE = ZoneInfo("America/New_York")
SELLER_ZONES = {Lane.DOMESTIC_US: "America/Chicago", Lane.CN_US: "Asia/Shanghai"}
COUNTRY = {Lane.DOMESTIC_US: "US", Lane.CN_US: "CN"}
START = datetime(2026, 5, 4, tzinfo=UTC)
DAYS = 150
WARM_UP_DAYS = 30


@dataclass(frozen=True)
class Parcel:
    lane: Lane
    paid_at: datetime
    ship_by: datetime
    history: ParcelHistory | None  # None: lost
    delivered_at: datetime | None


def simulate(count: int, rng: random.Random) -> list[Parcel]:
    carrier = SimulatedCarrier(webhook_secret=secrets.token_hex(16), rng=rng)  # never posted
    parcels = []
    for _ in range(count):
        lane = Lane.CN_US if rng.random() < 0.45 else Lane.DOMESTIC_US
        paid_at = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        ship_by = ship_by_time(
            paid_at=paid_at, handling_days=2, timezone=SELLER_ZONES[lane], country=COUNTRY[lane]
        )
        # Most sellers hand over within a day or two; 4 % miss the deadline.
        if rng.random() < 0.04:
            handed_over = ship_by + timedelta(hours=rng.uniform(2, 72))
        else:
            handed_over = paid_at + (ship_by - paid_at) * rng.betavariate(1.3, 2.5)
        bodies = carrier.journey(tracking_number="RSIMBENCH", lane=lane, start=handed_over)
        events = [
            (
                b["data"]["checkpoint"]["code"],
                b["data"]["checkpoint"]["status"],
                datetime.fromisoformat(b["data"]["checkpoint"]["occurred_at"]),
            )
            for b in bodies
        ]
        delivered = next((at for code, _, at in events if code == "delivered"), None)
        first_transit = next(
            (at for _, status, at in events if status in ("in_transit", "out_for_delivery")), None
        )
        history = (
            ParcelHistory(
                carrier=SIMULATED,
                lane=lane,
                paid_at=paid_at,
                first_transit_at=first_transit,
                delivered_at=delivered,
                events=[(code, at) for code, _, at in events],
            )
            if delivered is not None
            else None
        )
        parcels.append(Parcel(lane, paid_at, ship_by, history, delivered))
    parcels.sort(key=lambda p: p.paid_at)
    return parcels


def score(
    parcels: list[Parcel], policies: dict[Lane, Policy], *, use_history: bool
) -> tuple[int, float, float, dict[str, float]]:
    delivered = sorted(
        (p for p in parcels if p.history is not None), key=lambda p: p.delivered_at or START
    )
    stats: dict[StatKey, Stat] = {}
    built_for: datetime | None = None
    cursor = 0
    seen: list[ParcelHistory] = []
    hits = total = 0
    widths: list[float] = []
    from_history = 0
    for parcel in parcels:
        if parcel.paid_at < START + timedelta(days=WARM_UP_DAYS):
            continue
        day = parcel.paid_at.replace(hour=0, minute=0, second=0, microsecond=0)
        if use_history and built_for != day:
            while cursor < len(delivered) and (delivered[cursor].delivered_at or START) < day:
                history = delivered[cursor].history
                assert history is not None
                seen.append(history)
                cursor += 1
            stats = build_stats(h for h in seen if h.delivered_at >= day - timedelta(days=180))
            built_for = day
        policy = policies[parcel.lane]
        stat = (
            pick_stat(
                stats,
                carrier=ANY_CARRIER,
                lane=parcel.lane,
                milestone=PAID,
                min_history=policy.min_history,
            )
            if use_history
            else None
        )
        window: Window = window_from(
            stat, policy, since=parcel.paid_at, zone=ZONE, default_start=parcel.ship_by
        )
        from_history += window.source == "history"
        total += 1
        hits += parcel.delivered_at is not None and window.contains(parcel.delivered_at)
        widths.append(round(window.width_days))
    extra = {"from_history_share": round(from_history / total, 4)} if use_history else {}
    return total, hits / total, sum(widths) / len(widths), extra


NARROW = {
    lane: replace(policy, low_percentile=10, high_percentile=90)
    for lane, policy in BUILT_IN_POLICY.items()
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    parcels = simulate(args.parcels, random.Random(args.seed))
    lost = sum(p.history is None for p in parcels)
    print(f"simulated {len(parcels)} parcels over {DAYS} days ({lost} lost)", file=sys.stderr)
    results = {}
    for name, policies, use_history in (
        ("fixed default window (baseline)", BUILT_IN_POLICY, False),
        ("history p5-p95 (product policy)", BUILT_IN_POLICY, True),
        ("history p10-p90 (narrower)", NARROW, True),
    ):
        n, share, width, extra = score(parcels, dict(policies), use_history=use_history)
        results[name] = (n, share, width)
        print(f"{name:34s} parcels={n} on_time={share:.3f} mean_window_days={width:.2f} {extra}")
    for lane in Lane:
        subset = [p for p in parcels if p.lane == lane]
        n, share, width, _ = score(subset, dict(BUILT_IN_POLICY), use_history=True)
        print(f"  {lane.value:12s} parcels={n} on_time={share:.3f} mean_window_days={width:.2f}")
    print(f"took {time.perf_counter() - started:.1f}s", file=sys.stderr)
    n, share, width = results["history p5-p95 (product policy)"]
    print(
        json.dumps(
            {"parcels": n, "on_time_share": round(share, 4), "mean_window_days": round(width, 2)}
        )
    )


if __name__ == "__main__":
    main()
