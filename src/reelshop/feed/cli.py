"""``reelshop feed ...``: recommender operations."""

from __future__ import annotations

from typing import Annotated

import typer

feed_app = typer.Typer(no_args_is_help=True, help="The For You feed's recommender.")


@feed_app.command("train")
def train(
    factors: Annotated[int, typer.Option(min=2)] = 64,
    iterations: Annotated[int, typer.Option(min=1)] = 12,
    regularization: Annotated[float, typer.Option(min=0.0)] = 0.05,
    alpha: Annotated[float, typer.Option(min=0.0)] = 2.0,
    enqueue: Annotated[
        bool, typer.Option(help="Ask the worker to train (feed.train_recommender) instead")
    ] = False,
) -> None:
    """Train ALS on the interaction events and save the model the app serves."""
    import time

    from reelshop.config import get_settings
    from reelshop.db import make_engine, make_session_factory, unit_of_work
    from reelshop.feed import service
    from reelshop.feed.recommender import AlsParams
    from reelshop.outbox.service import emit
    from reelshop.security import keys

    settings = get_settings()
    keys.configure(settings)
    engine = make_engine(settings.database_url)
    params = AlsParams(
        factors=factors, iterations=iterations, regularization=regularization, alpha=alpha
    )
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            if enqueue:
                emit(
                    session=session,
                    topic="feed.retrain_requested",
                    payload={"params": params.__dict__},
                )
                typer.echo("retraining requested; the worker runs feed.train_recommender")
                return
            started = time.perf_counter()
            model = service.train_recommender(
                session=session, model_dir=settings.data_dir / "recommender", params=params
            )
    finally:
        engine.dispose()
    if model is None:
        typer.echo("no interactions yet: nothing to train")
        raise typer.Exit(1)
    typer.echo(
        f"trained on {len(model.user_ids)} shoppers x {len(model.video_ids)} videos in "
        f"{time.perf_counter() - started:.1f} s -> {settings.data_dir / 'recommender'}"
    )
