"""Feed background work: training the recommender.

``feed.train_recommender`` runs in the worker every six hours (a periodic job, also once
when the worker starts) and whenever a ``feed.retrain_requested`` event is delivered
(``reelshop feed train --enqueue``); ``reelshop feed train`` trains in the foreground.
The artefact lands under ``<data dir>/recommender/model.npz``; app processes reload it
within seconds.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session

from reelshop.config import get_settings
from reelshop.db import unit_of_work
from reelshop.feed import service
from reelshop.feed.recommender import AlsParams
from reelshop.outbox.models import OutboxEvent
from reelshop.outbox.service import subscribe
from reelshop.scheduling import JobContext, periodic

RETRAIN_EVERY_S = 6 * 3600

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


_training = threading.Lock()


@periodic("feed.train_recommender", every_s=RETRAIN_EVERY_S)
def train_recommender_periodically(context: JobContext) -> None:
    """Start training in its own thread: at scale it takes a minute, and the scheduler's
    other jobs (payments) must not wait for it. At most one training at a time."""
    if not _training.acquire(blocking=False):
        return

    def train() -> None:
        try:
            with unit_of_work(context.factory) as session:
                service.train_recommender(
                    session=session, model_dir=context.settings.data_dir / "recommender"
                )
        except Exception:
            log.exception("recommender training failed; the previous model stays in use")
        finally:
            _training.release()

    threading.Thread(target=train, name="feed-training", daemon=True).start()
