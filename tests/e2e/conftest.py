"""Browser tests: Playwright driving Debian's Chromium against the real server.

The server runs as a subprocess (``reelshop serve``) on a free localhost port, over a
fresh database migrated and seeded by ``reelshop demo --no-serve``: a SQLite file, or,
with ``REELSHOP_TEST_DATABASE_URL`` set and ``REELSHOP_TEST_BACKENDS=postgres``, a
PostgreSQL database created for the run and dropped after it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("REELSHOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
PHONE = {"width": 390, "height": 844}
DEMO_PASSWORD = "reelshop-demo-2026"
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class Server:
    base_url: str
    database_url: str
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wants_postgres() -> bool:
    backends = os.environ.get("REELSHOP_TEST_BACKENDS", "")
    return bool(os.environ.get("REELSHOP_TEST_DATABASE_URL")) and backends == "postgres"


@pytest.fixture(scope="session")
def database_for_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not _wants_postgres():
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'reelshop.db'}"
        return
    base = make_url(os.environ["REELSHOP_TEST_DATABASE_URL"])
    name = f"reelshop_e2e_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not ready after 90 s:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def server(database_for_run: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("e2e-server")
    cli = str(Path(sys.executable).with_name("reelshop"))
    env = {
        **os.environ,
        "REELSHOP_ENV": "development",
        "REELSHOP_DATABASE_URL": database_for_run,
        "REELSHOP_DATA_DIR": str(work / "data"),
        "REELSHOP_LOG_LEVEL": "INFO",
    }
    seeded = subprocess.run(
        [cli, "demo", "--no-serve"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout[-3000:] + seeded.stderr[-3000:]
    port = _free_port()
    log_path = work / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    # The worker delivers outbox events and the simulated processor's webhooks (to this
    # server), as `reelshop worker` does in production.
    worker_log = work / "worker.log"
    with worker_log.open("wb") as log:
        worker = subprocess.Popen(
            [cli, "worker"],
            env={**env, "REELSHOP_PAYMENTS_WEBHOOK_BASE_URL": base_url},
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base_url, process, log_path)
        yield Server(base_url, database_for_run, log_path)
    finally:
        for proc in (worker, process):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium`")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized page in a fresh browser context; its screenshot is saved after the test."""
    context = chromium.new_context(viewport=PHONE, base_url=server.base_url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    tab.errors = errors
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
