"""The retention job."""

from __future__ import annotations

import logging

from reelshop.db import unit_of_work
from reelshop.privacy.retention import apply_rules
from reelshop.scheduling import JobContext, periodic

log = logging.getLogger("reelshop.privacy.jobs")


@periodic("privacy.apply_retention", every_s=3600.0)
def apply_retention(ctx: JobContext) -> dict[str, int]:
    with unit_of_work(ctx.factory) as session:
        done = apply_rules(session=session)
    if any(done.values()):
        log.info("retention applied", extra={"rows": done})
    return done
