"""Feed background work: training the recommender.

``feed.train_recommender`` runs in the worker whenever a ``feed.retrain_requested``
event is delivered (``reelshop feed train --enqueue`` or any operator tool emits one; a
nightly cron of ``reelshop feed train`` does the same synchronously). The artefact lands
under ``<data dir>/recommender/model.npz``; app processes reload it within seconds.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session

from reelshop.config import get_settings
from reelshop.feed import service
from reelshop.feed.recommender import AlsParams
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe

log = logging.getLogger("reelshop.feed")


@subscribe("feed.retrain_requested", name="feed.train_recommender")
def train_recommender(session: Session, event: OutboxEvent) -> None:
    params = AlsParams(**event.payload.get("params", {}))
    started = time.perf_counter()
    model = service.train_recommender(
        session=session, model_dir=get_settings().data_dir / "recommender", params=params
    )
    log.info(
        "recommender trained",
        extra={
            "videos": len(model.video_ids) if model else 0,
            "shoppers": len(model.user_ids) if model else 0,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
