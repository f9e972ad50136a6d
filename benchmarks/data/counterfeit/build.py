"""Builds the labelled counterfeit set (listings.csv) from brands.json, deterministically.

    .venv/bin/python benchmarks/data/counterfeit/build.py

Every row is a listing a seller could post, labelled 1 (counterfeit: a fake or an
infringing copy) or 0 (genuine or lawful). The templates cover the disguises
counterfeiters use (leetspeak, split names, misspellings, "unbranded" brand field,
product-line names without the brand, official photos, replica vocabulary) and the
hard negatives a naive brand filter trips on (compatibility accessories, second-hand
genuine goods, brand words in ordinary use, authorised sellers). A few rows of each
label are deliberately hard (a fake with no brand cue at all, an honest used item at
a give-away price) so the figures are not flattering by construction.

``split`` is fixed per row (alternating within each template, so both halves hold
every kind): rules are tuned on ``tune`` and reported on ``test``.
``image`` describes a product photo the benchmark renders: ``official:<brand>:<n>``
plus transforms (``resize=0.5``, ``crop=0.85``, ``jpeg=60``) copies a brand's official
image; ``random:<seed>`` is an unrelated photo; empty means no photo.
"""

# ruff: noqa: E501  (listing templates read best on one line)
from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SEED = 20261125

Row = dict[str, Any]


def load_brands() -> list[dict[str, Any]]:
    return list(json.loads((HERE / "brands.json").read_text())["brands"])


def leet(name: str, rng: random.Random) -> str:
    table = {"i": "1", "o": "0", "e": "3", "a": "4", "s": "5"}
    chars = list(name)
    spots = [i for i, c in enumerate(chars) if c.lower() in table]
    if not spots:
        return name
    for i in rng.sample(spots, k=min(len(spots), rng.choice([1, 1, 2]))):
        chars[i] = table[chars[i].lower()]
    return "".join(chars)


def split_name(name: str, rng: random.Random) -> str:
    word = name.replace(" ", "")
    style = rng.choice(["spaces", "dots", "dash", "star"])
    if style == "spaces":
        return " ".join(word.upper())
    if style == "dots":
        return ".".join(word.upper())
    cut = max(1, len(word) // 2)
    return word[:cut] + ("-" if style == "dash" else "*") + word[cut:]


def misspell(name: str, rng: random.Random) -> str:
    word = name.split()[0]
    kind = rng.choice(["double_last", "extra_e", "double_mid"])
    if kind == "double_last":
        return word + word[-1]
    if kind == "extra_e":
        return word + "e"
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i] + word[i:]


def price(line: dict[str, Any], ratio: float) -> int:
    return int(line["min"] * ratio) // 100 * 100 + 99


def build() -> list[Row]:
    rng = random.Random(SEED)
    brands = load_brands()
    rows: list[Row] = []

    def add(template: str, label: int, count: int, make: Callable[[int], Row]) -> None:
        for i in range(count):
            row = {
                "seller_authorised": 0,
                "seller_age_days": rng.choice([45, 120, 400, 900]),
                "seller_strikes": 0,
                "ships_from": rng.choice(["CN", "CN", "US", "HK", "VN"]),
                "seller_takedowns": 0,
                "reports_counterfeit": 0,
                "reports_other": 0,
                "brand_text": "",
                "description": "",
                "image": "",
                **make(i),
            }
            row["template"] = template
            row["label"] = label
            row["split"] = "tune" if i % 2 == 0 else "test"
            rows.append(row)

    def pick() -> tuple[dict[str, Any], dict[str, Any]]:
        brand = rng.choice(brands)
        return brand, rng.choice(brand["lines"])

    # --- counterfeits -------------------------------------------------------------
    def exact_cheap(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{b['name']} {line['name']} {rng.choice(['new', '2026', 'hot sale', 'best price'])}",
            "description": f"Brand new {b['name']} {line['name']}. Fast shipping.",
            "brand_text": b["name"],
            "price": price(line, rng.uniform(0.08, 0.4)),
        }

    def leetspeak(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{leet(b['name'], rng)} {line['name']} {rng.choice(['', 'new', 'sale'])}".strip(),
            "description": "High quality, fast delivery.",
            "price": price(line, rng.uniform(0.1, 0.7)),
        }

    def split(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{split_name(b['name'], rng)} {rng.choice(line['generic'])}",
            "description": "Top quality. Ships in 24h.",
            "price": price(line, rng.uniform(0.1, 0.6)),
        }

    def misspelt(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{misspell(b['name'], rng)} {rng.choice(line['generic'])} {rng.choice(['', 'new style', 'original box'])}".strip(),
            "price": price(line, rng.uniform(0.1, 0.6)),
        }

    def unbranded_field(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{rng.choice(line['generic']).title()} {rng.choice(['premium', 'luxury', 'classic'])}",
            "description": f"Same design as {b['name']} {line['name']}, looks identical.",
            "brand_text": rng.choice(["Unbranded", "Generic", "No brand", "OEM"]),
            "price": price(line, rng.uniform(0.1, 0.5)),
        }

    def replica(i: int) -> Row:
        b, line = pick()
        word = rng.choice(
            ["AAA replica", "1:1", "mirror quality", "super copy", "dupe", "inspired by"]
        )
        return {
            "title": f"{word} {b['name']} {line['name']}",
            "price": price(line, rng.uniform(0.05, 0.3)),
        }

    def product_line_only(i: int) -> Row:
        _, line = pick()
        return {
            "title": f"{line['keywords'][0]} {rng.choice(line['generic'])} {rng.choice(['', 'best copy', 'new'])}".strip(),
            "price": price(line, rng.uniform(0.05, 0.35)),
        }

    def official_photo(i: int) -> Row:
        b, line = pick()
        transforms = rng.choice(
            ["resize=0.5", "crop=0.88", "jpeg=55", "resize=0.7,jpeg=70", "crop=0.9,resize=0.6"]
        )
        return {
            "title": f"{rng.choice(['Designer', 'Luxury', 'Premium', 'Classic'])} {rng.choice(line['generic'])}",
            "description": "Photo shows the real item.",
            "image": f"official:{b['name']}:{rng.randrange(3)}:{transforms}",
            "price": price(line, rng.uniform(0.1, 0.5)),
        }

    def reported_fake(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{b['name']} {line['name']}",
            "brand_text": b["name"],
            "price": price(line, rng.uniform(0.55, 0.9)),
            "reports_counterfeit": rng.choice([1, 2, 3]),
            "seller_age_days": rng.choice([5, 12, 40]),
        }

    def no_cue(i: int) -> Row:  # a fake with nothing to go on: expected misses
        _, line = pick()
        return {
            "title": f"{rng.choice(['Luxury', 'Designer', 'Trendy'])} {rng.choice(line['generic'])} with logo",
            "price": price(line, rng.uniform(0.05, 0.3)),
        }

    add("exact_cheap", 1, 30, exact_cheap)
    add("leetspeak", 1, 24, leetspeak)
    add("split", 1, 20, split)
    add("misspelt", 1, 24, misspelt)
    add("unbranded_field", 1, 16, unbranded_field)
    add("replica_words", 1, 16, replica)
    add("product_line_only", 1, 16, product_line_only)
    add("official_photo", 1, 16, official_photo)
    add("reported", 1, 10, reported_fake)
    add("no_cue", 1, 6, no_cue)

    # --- genuine and lawful -------------------------------------------------------
    def authorised(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{b['name']} {line['name']}",
            "description": f"Official {b['name']} stock.",
            "brand_text": b["name"],
            "price": price(line, rng.uniform(0.8, 1.3)),
            "seller_authorised": 1,
            "image": f"official:{b['name']}:{rng.randrange(3)}:" if i % 3 == 0 else "",
        }

    def compatible(i: int) -> Row:
        b, line = pick()
        acc = rng.choice(b["accessories"])
        phrase = rng.choice(["compatible with", "for", "fits", "replacement for", "works with"])
        if phrase == "works with":
            phrase = "compatible with"
        return {
            "title": f"{acc.title()} {phrase} {b['name']} {line['name']}",
            "description": "Third-party accessory, not made by the brand.",
            "brand_text": rng.choice(["", "Generic", "Ztech"]),
            "price": rng.choice([799, 1299, 1999]),
        }

    def case_for_line(i: int) -> Row:
        b, line = pick()
        acc = rng.choice(b["accessories"])
        return {
            "title": f"{acc.title()} for {line['keywords'][0]}",
            "price": rng.choice([599, 999, 1499]),
        }

    def second_hand(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{rng.choice(['Pre-owned', 'Used', 'Second hand', 'Gently used'])} {b['name']} {line['name']}",
            "description": rng.choice(
                ["Bought in store, receipt included.", "Worn twice, authentic.", "Good condition."]
            ),
            "brand_text": b["name"],
            "price": price(line, rng.uniform(0.3, 0.8)),
            "ships_from": "US",
        }

    def ordinary_words(i: int) -> Row:
        title, desc, p = rng.choice(
            [
                ("Apple pie baking kit", "Everything for a classic apple pie.", 1899),
                ("Organic apple cider vinegar 500ml", "Raw, unfiltered.", 899),
                ("Coach whistle with lanyard", "For sports coaches and referees.", 499),
                ("Guess who board game", "Family game night classic.", 1599),
                ("4-channel car amplifier", "Bridgeable, 800 W peak.", 7999),
                ("Gap filler caulk for windows", "Seals gaps fast.", 699),
                ("Nice bike helmet for kids", "Lightweight.", 2499),
                ("Fresh mango slices dried", "No added sugar.", 599),
                ("Apple green ceramic mug", "Glossy glaze.", 1299),
                ("Life coach planner notebook", "Weekly goals.", 1499),
                ("Dove grey linen napkins", "Set of four.", 1799),
                ("Adios party banner", "Farewell decorations.", 699),
                ("Channel divider for drawers", "Adjustable.", 999),
                ("Jordan almonds wedding favours", "Pastel candy-coated almonds.", 1099),
                ("Speedy delivery label printer", "Thermal, 4x6 labels.", 8999),
                ("Air max pressure gauge for tyres", "Digital, 150 psi.", 1599),
            ]
        )
        return {"title": title, "description": desc, "price": p}

    def generic(i: int) -> Row:
        _, line = pick()
        return {
            "title": f"{rng.choice(['Comfort', 'Everyday', 'Urban', 'Basic'])} {rng.choice(line['generic'])}",
            "description": "Our own design.",
            "brand_text": rng.choice(["", "Lumi", "Northpeak", "Soundvale"]),
            "price": rng.choice([1299, 2499, 3999]),
            "image": f"random:{rng.randrange(10_000)}",
        }

    def grey_market(i: int) -> Row:
        b, line = pick()
        return {
            "title": f"{b['name']} {line['name']}",
            "description": "Sealed, from an authorised retailer.",
            "brand_text": b["name"],
            "price": price(line, rng.uniform(0.95, 1.2)),
            "ships_from": "US",
        }

    def cheap_used(i: int) -> Row:  # honest but priced like a fake: expected false alarms
        b, line = pick()
        return {
            "title": f"Used {b['name']} {line['name']} for parts",
            "description": "Worn out, sold as is.",
            "brand_text": b["name"],
            "price": price(line, rng.uniform(0.05, 0.15)),
        }

    def spurious_report(i: int) -> Row:
        return {
            "title": f"{rng.choice(['Cotton', 'Bamboo', 'Steel'])} {rng.choice(['towel set', 'water bottle', 'lunch box'])}",
            "price": rng.choice([999, 1599]),
            "reports_counterfeit": 1,
            "seller_age_days": rng.choice([10, 200]),
        }

    add("authorised", 0, 34, authorised)
    add("compatible", 0, 30, compatible)
    add("case_for_line", 0, 14, case_for_line)
    add("second_hand", 0, 24, second_hand)
    add("ordinary_words", 0, 32, ordinary_words)
    add("generic", 0, 24, generic)
    add("grey_market", 0, 10, grey_market)
    add("cheap_used", 0, 4, cheap_used)
    add("spurious_report", 0, 8, spurious_report)
    for n, row in enumerate(rows):
        row["id"] = f"cf{n:04d}"
    return rows


COLUMNS = [
    "id",
    "split",
    "label",
    "template",
    "title",
    "description",
    "brand_text",
    "price",
    "image",
    "seller_authorised",
    "seller_age_days",
    "seller_strikes",
    "ships_from",
    "seller_takedowns",
    "reports_counterfeit",
    "reports_other",
]


def main() -> None:
    rows = build()
    with (HERE / "listings.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row[c] for c in COLUMNS})
    print(f"{len(rows)} listings, {sum(r['label'] for r in rows)} counterfeit")


if __name__ == "__main__":
    main()
