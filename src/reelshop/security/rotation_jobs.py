"""The worker finishes key rotations in the background.

``reelshop keys rotate --background`` only makes the new data key; this job, on the
worker's clock, re-seals the encrypted columns once every server has had time to
load the key, then retires the old one. Running it twice at once is safe: each
UPDATE only lands on the value it read.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from reelshop.db import unit_of_work, utcnow
from reelshop.scheduling import JobContext, periodic
from reelshop.security import keys, rotation
from reelshop.security.hardening_models import DataKey

SETTLE = timedelta(seconds=keys.DATA_KEY_REFRESH_S + 5)


def rotation_pending(ctx: JobContext) -> bool:
    """A key is retiring and the newest active key is old enough for every server."""
    with unit_of_work(ctx.factory) as session:
        retiring = session.scalars(select(DataKey.id).where(DataKey.state == rotation.RETIRING))
        if retiring.first() is None:
            return False
        newest = session.scalars(
            select(DataKey.created_at)
            .where(DataKey.state == rotation.ACTIVE)
            .order_by(DataKey.created_at.desc())
        ).first()
        return newest is None or utcnow() - newest >= SETTLE


@periodic("security.finish_key_rotation", every_s=120.0)
def finish_key_rotation(ctx: JobContext) -> int:
    if not rotation_pending(ctx):
        return 0

    def run(step: rotation.BatchStep) -> rotation.BatchResult:
        with unit_of_work(ctx.factory) as session:
            return step(session)

    report = rotation.reencrypt_all(run)
    with unit_of_work(ctx.factory) as session:
        rotation.retire_unused_keys(session=session)
    return report.values_resealed
