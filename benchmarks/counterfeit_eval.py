"""Counterfeit detection quality: precision and recall of "hold or block".

Scores every listing of ``benchmarks/data/counterfeit/listings.csv`` (built by
``benchmarks/data/counterfeit/build.py`` from ``brands.json``) with the production
entry point ``reelshop.trust.service.assess_listing`` and the default policy, and a
baseline in the same run: a plain keyword filter (the brand's name as a word, from a
seller not authorised for it). Product photos are rendered, transformed (resize,
crop, re-encode) and hashed here, as the worker hashes stored images.

The policy was tuned on the ``tune`` rows only; the figures reported are of the
``test`` rows (``--split tune|all`` shows the others).

    .venv/bin/python benchmarks/counterfeit_eval.py [--split test|tune|all] [--no-semantic]

Last line: ``{"n_test": ..., "precision": ..., "recall": ...}``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
DATA = HERE / "data" / "counterfeit"


def _photo(seed: str, size: int = 512) -> Image.Image:
    """A deterministic 'product photo': a gradient and a few shapes."""
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
    for _ in range(rng.randrange(4, 9)):
        x0, y0 = rng.randrange(size - 60), rng.randrange(size - 60)
        x1, y1 = x0 + rng.randrange(40, 260), y0 + rng.randrange(40, 260)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    return image


def _transform(image: Image.Image, spec: str) -> bytes:
    for part in filter(None, spec.split(",")):
        name, _, value = part.partition("=")
        if name == "resize":
            f = float(value)
            image = image.resize((int(image.width * f), int(image.height * f)))
        elif name == "crop":
            keep = float(value)
            w, h = image.size
            dw, dh = int(w * (1 - keep) / 2), int(h * (1 - keep) / 2)
            image = image.crop((dw, dh, w - dw, h - dh))
    quality = 85
    match = re.search(r"jpeg=(\d+)", spec)
    if match:
        quality = int(match.group(1))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


@cache
def _official(brand: str, n: int) -> Image.Image:
    return _photo(f"official/{brand}/{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["test", "tune", "all"], default="test")
    parser.add_argument("--no-semantic", action="store_true", help="skip the MiniLM similarity")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE.parent / "src"))
    from reelshop.trust import service as trust
    from reelshop.trust.image_match import hash_bytes
    from reelshop.trust.policy import RiskPolicy
    from reelshop.trust.risk import BrandFacts, ListingFacts, ProductLine, SellerFacts

    registry = json.loads((DATA / "brands.json").read_text())["brands"]
    brands: list[BrandFacts] = []
    for i, b in enumerate(registry):
        official = []
        for n in range(3):
            hashes = hash_bytes(_transform(_official(b["name"], n), ""))
            assert hashes is not None
            official.append((f"{b['name']}/{n}", hashes))
        brands.append(
            BrandFacts(
                brand_id=f"brd_bench{i:02d}",
                name=b["name"],
                aliases=tuple(b["aliases"]),
                lines=tuple(
                    ProductLine(
                        line["name"], tuple(line["keywords"]), "USD", line["min"], line["max"]
                    )
                    for line in b["lines"]
                ),
                images=tuple(official),
            )
        )
    ids = {b.name: b.brand_id for b in brands}
    with (DATA / "listings.csv").open() as f:
        rows = list(csv.DictReader(f))
    chosen = [r for r in rows if args.split == "all" or r["split"] == args.split]
    policy = RiskPolicy()

    started = time.perf_counter()
    outcomes: list[tuple[dict[str, Any], bool, bool]] = []
    for row in chosen:
        images = []
        if row["image"].startswith("official:"):
            _, brand_name, number, spec = row["image"].split(":", 3)
            hashes = hash_bytes(_transform(_official(brand_name, int(number)), spec))
            if hashes:
                images.append(hashes)
        elif row["image"].startswith("random:"):
            hashes = hash_bytes(_transform(_photo("random/" + row["image"]), ""))
            if hashes:
                images.append(hashes)
        # An authorised seller is authorised for the brand the row is about; the
        # builder only marks rows whose brand is named in the title.
        authorised = frozenset(
            ids[b.name]
            for b in brands
            if row["seller_authorised"] == "1" and b.name in row["title"]
        )
        listing = ListingFacts(
            title=row["title"],
            description=row["description"],
            brand_text=row["brand_text"] or None,
            price_amount=int(row["price"]),
            currency="USD",
            images=tuple(images),
            counterfeit_reports=int(row["reports_counterfeit"]),
            other_reports=int(row["reports_other"]),
        )
        seller = SellerFacts(
            account_age_days=int(row["seller_age_days"]),
            active_strikes=int(row["seller_strikes"]),
            ships_from=row["ships_from"],
            takedowns_in_category=int(row["seller_takedowns"]),
            authorised_brand_ids=authorised,
        )
        result = trust.assess_listing(
            session=None,
            listing=listing,
            seller=seller,
            brands=brands,
            policy=policy,
            semantic=not args.no_semantic,
        )
        text = f"{row['title']} {row['description']}"
        baseline = any(
            re.search(rf"\b{re.escape(b.name)}\b", text, re.IGNORECASE)
            and b.brand_id not in authorised
            for b in brands
        )
        outcomes.append((row, result.flagged, baseline))
        if args.show_errors and result.flagged != (row["label"] == "1"):
            print(
                f"  {'FP' if result.flagged else 'FN'} {row['id']} {row['template']:<18} "
                f"{result.score:>3} {row['title']!r} "
                f"{[s.kind for s in result.signals]}"
            )
    elapsed = time.perf_counter() - started

    def metrics(pick: int) -> tuple[float, float, int, int, int]:
        tp = sum(1 for r, *flags in outcomes if flags[pick] and r["label"] == "1")
        fp = sum(1 for r, *flags in outcomes if flags[pick] and r["label"] == "0")
        fn = sum(1 for r, *flags in outcomes if not flags[pick] and r["label"] == "1")
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        return precision, recall, tp, fp, fn

    p, r, tp, fp, fn = metrics(0)
    bp, br, btp, bfp, bfn = metrics(1)
    labels = Counter(row["label"] for row, *_ in outcomes)
    print(
        f"split={args.split}: {len(outcomes)} listings "
        f"({labels['1']} counterfeit, {labels['0']} genuine)"
    )
    print(f"keyword baseline   precision {bp:.3f} recall {br:.3f} (tp {btp}, fp {bfp}, fn {bfn})")
    print(f"assess_listing     precision {p:.3f} recall {r:.3f} (tp {tp}, fp {fp}, fn {fn})")
    misses = Counter(
        row["template"] for row, flagged, _ in outcomes if flagged != (row["label"] == "1")
    )
    print(f"errors by template: {dict(misses)}")
    print(
        f"{len(outcomes) / elapsed:.0f} listings/s (semantic {'off' if args.no_semantic else 'on'})"
    )
    print(json.dumps({"n_test": len(outcomes), "precision": round(p, 3), "recall": round(r, 3)}))


if __name__ == "__main__":
    main()
