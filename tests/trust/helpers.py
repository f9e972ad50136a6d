"""Shared set-up for the trust tests: threads racing on real units of work."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from reelshop.db import make_session_factory, unit_of_work
from reelshop.errors import Conflict


def run_threads(n: int, work: Callable[[Session, int], None], engine: Engine) -> list[str]:
    """Run ``work`` in ``n`` threads at once; each outcome is "ok", "conflict" or repr."""
    factory = make_session_factory(engine)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one(index: int) -> None:
        start.wait()
        try:
            with unit_of_work(factory) as session:
                work(session, index)
            outcome = "ok"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:
            outcome = repr(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def photo_bytes(seed: str, size: int = 400, fmt: str = "PNG", quality: int = 90) -> bytes:
    """A deterministic product photo: a gradient and shapes, so pHashes differ by seed."""
    import io
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    c1 = [rng.randrange(256) for _ in range(3)]
    c2 = [rng.randrange(256) for _ in range(3)]
    for y in range(size):
        t = y / size
        draw.line(
            [(0, y), (size, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(c1, c2, strict=True)),
        )
    for _ in range(6):
        x0, y0 = rng.randrange(size - 60), rng.randrange(size - 60)
        x1, y1 = x0 + rng.randrange(40, 200), y0 + rng.randrange(40, 200)
        draw.rectangle([x0, y0, x1, y1], fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format=fmt, quality=quality)
    return out.getvalue()


def register_nike(session: Session, staff_id: str) -> str:
    """Nike with an alias, an Air Max line at $90-$180 and one official photo."""
    from reelshop.trust import brands

    reg = brands.register_brand(
        session=session,
        staff_id=staff_id,
        name="Nike",
        trademark_number="US 1234567",
        trademark_classes=[25],
        aliases=["Nikey"],
    )
    brands.add_price_range(
        session=session,
        registration=reg,
        product_line="Air Max 90",
        keywords=["Air Max"],
        currency="USD",
        min_amount=9000,
        max_amount=18000,
    )
    brands.add_official_image(
        session=session, registration=reg, data=photo_bytes("nike-official"), label="Air Max"
    )
    session.commit()
    return reg.brand_id
