"""The ``reelshop`` command: demo, serve, worker, db, seed, audit, outbox, keys."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from reelshop.config import Settings, get_settings
from reelshop.feed.cli import feed_app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(no_args_is_help=True, help="reelshop: short videos that sell.")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
outbox_app = typer.Typer(no_args_is_help=True, help="The transactional outbox.")
keys_app = typer.Typer(no_args_is_help=True, help="Field-encryption keys.")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(outbox_app, name="outbox")
app.add_typer(keys_app, name="keys")
search_app = typer.Typer(no_args_is_help=True, help="The shop's search index.")
app.add_typer(search_app, name="search")
app.add_typer(feed_app, name="feed")
console = Console()


def _settings() -> Settings:
    return get_settings()


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from reelshop.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    console.print(f"[green]database at {revision}[/green]: {_safe_url(settings.database_url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _seed(scale: str) -> list[tuple[str, str, str, str]]:
    from reelshop.db import make_engine, make_session_factory
    from reelshop.security import keys
    from reelshop.seed import SEED_STEPS, is_seeded, run_seed

    settings = _settings()
    keys.configure(settings)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        if is_seeded(session):
            console.print("[yellow]database already has data; not seeding again[/yellow]")
            engine.dispose()
            return []
    with Progress(
        TextColumn("[bold]seeding[/bold] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=len(SEED_STEPS))

        def on_step(name: str, index: int, total: int) -> None:
            progress.update(task, completed=index, description=name)

        ctx = run_seed(factory, scale=scale, on_step=on_step)
    engine.dispose()
    return [(lg.role, lg.email, lg.password, lg.note) for lg in ctx.logins]


def _print_logins(logins: list[tuple[str, str, str, str]], base_url: str) -> None:
    if not logins:
        from reelshop.seed import DEMO_PASSWORD

        logins = [
            ("shopper", "shopper@demo.reelshop.dev", DEMO_PASSWORD, ""),
            ("seller", "seller@demo.reelshop.dev", DEMO_PASSWORD, ""),
            ("creator", "creator@demo.reelshop.dev", DEMO_PASSWORD, ""),
            ("staff", "admin@demo.reelshop.dev", DEMO_PASSWORD, ""),
        ]
    table = Table(title=f"Demo log-ins at {base_url}/login")
    table.add_column("role")
    table.add_column("email", no_wrap=True)
    table.add_column("password", no_wrap=True)
    table.add_column("", overflow="fold")
    for row in logins:
        table.add_row(*row)
    console.print(table)


@app.command()
def seed(scale: Annotated[str, typer.Option(help="small | large")] = "small") -> None:
    """Seed a deterministic synthetic marketplace into an empty database."""
    from reelshop.seed import SCALES

    if scale not in SCALES:
        raise typer.BadParameter(f"scale is one of {', '.join(SCALES)}")
    logins = _seed(scale)
    if logins:
        _print_logins(logins, "http://127.0.0.1:8000")


@app.command()
def demo(
    scale: Annotated[str, typer.Option(help="small | large")] = "small",
    host: str = "127.0.0.1",
    port: int = 8000,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding")] = True,
) -> None:
    """Create the database, seed the demo marketplace, and serve it with a worker."""
    from reelshop.migrate import upgrade
    from reelshop.seed import SCALES

    if scale not in SCALES:
        raise typer.BadParameter(f"scale is one of {', '.join(SCALES)}")
    # The demo talks to a person at a terminal: readable log lines unless asked for JSON.
    os.environ.setdefault("REELSHOP_LOG_JSON", "false")
    get_settings.cache_clear()
    settings = _settings()
    upgrade(settings.database_url)
    logins = _seed(scale)
    base_url = f"http://{host}:{port}"
    _print_logins(logins, base_url)
    if not serve_:
        return
    _start_background_worker(settings)
    console.print(f"[bold green]reelshop is running at {base_url}[/bold green]  (Ctrl+C stops it)")
    _serve(host, port, workers=1)


def _start_background_worker(settings: Settings) -> None:
    """The demo delivers outbox events from a thread; production runs ``reelshop worker``."""
    from reelshop.worker import Worker, make_huey

    worker = Worker(settings, huey=make_huey(settings))

    def loop() -> None:
        while True:
            try:
                worker.tick()
                worker.drain()
            except Exception:  # keep the demo serving; the error is in the log
                console.print_exception()
            time.sleep(1.0)

    threading.Thread(target=loop, name="demo-worker", daemon=True).start()


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "reelshop.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        access_log=False,
        log_config=None,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Serve the web app and JSON API with uvicorn."""
    settings = _settings()
    _serve(host or settings.host, port or settings.port, workers)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Deliver what is due, then exit")] = False,
    threads: Annotated[int, typer.Option(min=1)] = 2,
) -> None:
    """Deliver outbox events to their handlers (at-least-once, with retries)."""
    from reelshop.worker import Worker

    w = Worker(_settings())
    if once:
        ran = w.drain()
        console.print(f"delivered {ran} task(s)")
        return
    w.run(workers=threads)


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 if anything was altered."""
    from reelshop.db import make_engine, make_session_factory
    from reelshop.security import audit

    engine = make_engine(_settings().database_url)
    with make_session_factory(engine)() as session:
        report = audit.verify(session=session)
    engine.dispose()
    if report.ok:
        console.print(f"[green]audit log intact[/green]: {report.entries} entries")
        return
    console.print(f"[red]audit log broken at entry {report.first_bad_seq}: {report.problem}[/red]")
    raise typer.Exit(1)


@outbox_app.command("status")
def outbox_status() -> None:
    """Count outbox events by status."""
    from sqlalchemy import func, select

    from reelshop.db import make_engine, make_session_factory
    from reelshop.outbox.models import OutboxEvent

    engine = make_engine(_settings().database_url)
    with make_session_factory(engine)() as session:
        rows = session.execute(
            select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)
        ).all()
    engine.dispose()
    for status_name, count in rows:
        console.print(f"{status_name:>10}  {count}")


@outbox_app.command("replay-dead")
def outbox_replay_dead(topic: Annotated[str | None, typer.Option()] = None) -> None:
    """Put dead-lettered events back in line once their cause is fixed."""
    from reelshop.db import make_engine, make_session_factory
    from reelshop.outbox.relay import replay_dead

    engine = make_engine(_settings().database_url)
    n = replay_dead(make_session_factory(engine), topic=topic)
    engine.dispose()
    console.print(f"{n} event(s) back in line")


@keys_app.command("generate")
def keys_generate(key_id: Annotated[str, typer.Argument(help="e.g. k2026a")]) -> None:
    """Print a new field-encryption key spec to prepend to REELSHOP_FIELD_ENCRYPTION_KEYS."""
    from reelshop.security.crypto import Keyring

    if not key_id.isalnum():
        raise typer.BadParameter("key ids are letters and digits")
    console.print(Keyring.generate_key_spec(key_id), soft_wrap=True)


@keys_app.command("rotate")
def keys_rotate(
    market: Annotated[str, typer.Option(help="market whose data key is replaced")] = "US",
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 500,
    resume: Annotated[
        bool, typer.Option("--resume", help="finish an earlier rotation; no new key")
    ] = False,
    settle_s: Annotated[
        float, typer.Option(help="wait this long for servers to load the new key")
    ] = 35.0,
    background: Annotated[
        bool, typer.Option("--background", help="only make the key; the worker re-seals")
    ] = False,
) -> None:
    """New data key for MARKET, data keys re-wrapped under the active master key, then
    every encrypted column re-sealed in batches while the platform keeps serving."""
    from reelshop.db import make_engine, make_session_factory, unit_of_work
    from reelshop.security import keys, rotation

    settings = _settings()
    keys.configure(settings)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        rewrapped = rotation.rewrap_data_keys(session=session)
        if not resume:
            created = rotation.start_rotation(session=session, market=market.upper())
            console.print(f"new data key [bold]{created.id}[/bold] for {created.market_code}")
    if rewrapped:
        console.print(f"{rewrapped} data key(s) re-wrapped under the active master key")
    if background:
        engine.dispose()
        console.print("the worker re-seals in the background; `reelshop keys status` shows it")
        return
    if not resume and settle_s > 0:
        # Servers reload data keys every keys.DATA_KEY_REFRESH_S; once they all seal with
        # the new key, one pass leaves nothing behind.
        time.sleep(settle_s)

    def run_batch(step: Callable[[Session], rotation.BatchResult]) -> rotation.BatchResult:
        with unit_of_work(factory) as session:
            return step(session)

    with Progress(
        TextColumn("[bold]re-sealing[/bold] {task.description}"),
        TextColumn("{task.completed} rows"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=None)

        def on_batch(table: str, result: rotation.BatchResult) -> None:
            progress.update(task, advance=result.rows_seen, description=table)

        report = rotation.reencrypt_all(run_batch, batch_size=batch_size, on_batch=on_batch)
    with unit_of_work(factory) as session:
        retired = rotation.retire_unused_keys(session=session)
    engine.dispose()
    console.print(
        f"[green]{report.values_resealed} value(s) re-sealed[/green] in {report.rows_seen} rows"
        f" of {report.tables} tables; {report.conflicts} changed meanwhile"
        + (f"; retired {', '.join(retired)}" if retired else "")
    )


@keys_app.command("status")
def keys_status() -> None:
    """Every key (master and data), its state, and how many stored values it seals."""
    from reelshop.db import make_engine, make_session_factory
    from reelshop.security import keys, rotation

    settings = _settings()
    keys.configure(settings)
    engine = make_engine(settings.database_url)
    table = Table(title="field-encryption keys")
    for name in ("key id", "kind", "state", "values"):
        table.add_column(name)
    with make_session_factory(engine, deferred=True)() as session:
        for kid, kind, state, count in rotation.iter_status(session=session):
            table.add_row(kid, kind, state, str(count))
    engine.dispose()
    console.print(table)


@search_app.command("reindex")
def search_reindex(
    batch_size: Annotated[int, typer.Option(min=1, max=5000)] = 500,
) -> None:
    """Re-index every product (keyword index, vocabulary, embeddings), a batch per commit."""
    from reelshop.catalog.embeddings import Embedder
    from reelshop.catalog.search_index import reindex_all
    from reelshop.db import make_engine, make_session_factory, unit_of_work
    from reelshop.security import keys

    settings = _settings()
    keys.configure(settings)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)

    def run_batch(step: Callable[[Session], int]) -> int:
        with unit_of_work(factory) as session:
            return step(session)

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]indexing[/bold]"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} products"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        done, live = reindex_all(
            run_batch, batch_size=batch_size, embedder=Embedder(threads=2), on_progress=on_progress
        )
    engine.dispose()
    elapsed = time.perf_counter() - started
    console.print(
        f"[green]indexed {done} products[/green] ({live} searchable) in {elapsed:.1f} s"
        f" ({done / max(elapsed, 1e-9):.0f} products/s)"
    )


ledger_app = typer.Typer(no_args_is_help=True, help="The double-entry payments ledger.")
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check the ledger's invariants; exit 1 and say what is wrong if any fails."""
    from reelshop.db import make_engine, make_session_factory
    from reelshop.payments.verify import verify

    engine = make_engine(_settings().database_url)
    with make_session_factory(engine, deferred=True)() as session:
        report = verify(session=session)
    engine.dispose()
    if report.ok:
        console.print(
            f"[green]ledger verifies[/green]: {report.entries} entries, {report.lines} lines"
        )
        return
    for violation in report.violations:
        console.print(f"[red]✗[/red] {violation}", soft_wrap=True)
    console.print(f"[red]ledger does not verify: {len(report.violations)} problem(s)[/red]")
    raise typer.Exit(1)


def main() -> None:
    app()
