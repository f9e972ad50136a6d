"""How long the demo seed takes up to and including the catalog step.

Migrates a scratch SQLite database (or ``--database-url``), runs the seed steps
accounts, sellers and catalog at ``--scale`` (small: 3,000 products with one image
each; large: 100,000 products sharing 800 images) and times each step. Last line:
one JSON object with keys scale, products, skus, images, catalog_s, total_s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

STEPS = ("accounts", "sellers", "catalog")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["small", "large"], default="small")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from reelshop import seed, storage
    from reelshop.catalog.models import Product, ProductImage, Sku
    from reelshop.config import Settings
    from reelshop.db import make_engine, make_session_factory
    from reelshop.migrate import upgrade
    from reelshop.security import keys

    scratch = Path(tempfile.mkdtemp(prefix="reelshop-catalog-seed-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=scratch, _env_file=None)  # type: ignore[call-arg]
    keys.configure(settings)
    storage.configure(storage.LocalStorage(scratch / "media"))
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    seed.SEED_STEPS[:] = [step for step in seed.SEED_STEPS if step[0] in STEPS]

    started: dict[str, float] = {}

    def on_step(name: str, index: int, total: int) -> None:
        started[name] = time.perf_counter()
        print(f"{name} ({index}/{total}) at {started[name] - t0:.1f}s", flush=True)

    t0 = time.perf_counter()
    seed.run_seed(factory, scale=args.scale, on_step=on_step)
    total = time.perf_counter() - t0
    with factory() as session:
        counts = {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (("products", Product), ("skus", Sku), ("images", ProductImage))
        }
    engine.dispose()
    print(
        json.dumps(
            {
                "scale": args.scale,
                **counts,
                "catalog_s": round(started["done"] - started["catalog"], 1),
                "total_s": round(total, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
