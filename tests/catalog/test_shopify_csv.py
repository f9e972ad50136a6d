"""Shopify product CSV: parsing with per-row errors, background import with progress,
export and round trip, and refusal of files that are not UTF-8 CSV."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from huey import SqliteHuey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from reelshop.catalog import imports, shopify_csv
from reelshop.catalog.import_models import ImportJob
from reelshop.catalog.models import Category, Product
from reelshop.config import Settings
from reelshop.db import unit_of_work
from reelshop.inventory import service as inventory
from reelshop.outbox.models import OutboxEvent
from reelshop.sellers.models import SellerProfile
from reelshop.worker import Worker
from tests.factories import api_login, make_seller

DATA = Path(__file__).parent.parent / "data"
GOOD = DATA / "shopify_products.csv"
BAD = DATA / "shopify_bad_rows.csv"
IMPORTS = "/api/v1/seller/imports"
EXPORT = "/api/v1/seller/products/export.csv"

# (slug, name, parent slug)
TREE = [
    ("electronics", "Electronics", None),
    ("audio", "Audio", "electronics"),
    ("fashion", "Fashion", None),
    ("phone-accessories", "Phone Accessories", None),
    ("home", "Home", None),
    ("kitchen", "Kitchen", None),
]
SELLS = ["electronics", "fashion", "phone-accessories", "home", "kitchen"]


def category_map() -> shopify_csv.CategoryMap:
    refs = []
    paths: dict[str, str] = {}
    for slug, name, parent in TREE:
        paths[slug] = f"{paths[parent]}/{slug}" if parent else slug
        refs.append(shopify_csv.CategoryRef(slug, paths[slug], name))
    return shopify_csv.CategoryMap(refs)


def make_tree(session: Session) -> None:
    made: dict[str, Category] = {}
    for position, (slug, name, parent) in enumerate(TREE):
        found = session.scalars(select(Category).where(Category.slug == slug)).first()
        if found is None:
            up = made.get(parent) if parent else None
            found = Category(
                slug=slug,
                name=name,
                parent_id=up.id if up else None,
                path=f"{up.path}/{slug}" if up else slug,
                position=position,
            )
            session.add(found)
            session.flush()
        made[slug] = found
    session.commit()


def seller_headers(
    client: TestClient, session: Session, categories: list[str] | None = None
) -> tuple[SellerProfile, dict[str, str]]:
    user, seller = make_seller(session, categories=categories or SELLS, commit=True)
    return seller, api_login(client, user.email)


def upload(
    client: TestClient, headers: dict[str, str], data: bytes, name: str = "products.csv"
) -> Any:
    return client.post(IMPORTS, files={"file": (name, data, "text/csv")}, headers=headers)


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    w = Worker(settings, huey=SqliteHuey("test-imports", filename=str(tmp_path / "huey.db")))
    yield w
    w.engine.dispose()


def parse_file(path: Path, currency: str = "USD") -> shopify_csv.ParseResult:
    return shopify_csv.parse(path.read_text("utf-8"), currency=currency, categories=category_map())


# --- parsing ------------------------------------------------------------------------


def test_parses_a_realistic_multi_variant_multi_image_file() -> None:
    result = parse_file(GOOD)
    assert result.rows == 11
    assert [p.handle for p in result.products] == [
        "aurora-wireless-earbuds",
        "linen-summer-shirt",
        "silicone-phone-case",
    ]
    assert result.errors == []
    earbuds, shirt, case = (p.product for p in result.products)
    assert earbuds is not None and shirt is not None and case is not None

    assert earbuds.title == "Aurora Wireless Earbuds"
    assert earbuds.category == "electronics/audio"  # Shopify path -> our "Audio" node
    assert earbuds.brand == "Aurora Audio" and earbuds.product_type == "Earbuds"
    assert earbuds.tags == ["audio", "wireless", "bestseller"]
    assert earbuds.status == "active"
    assert earbuds.option_names == ["Color"]
    assert [
        (v.code, v.option_values["Color"], v.price, v.compare_at, v.stock) for v in earbuds.variants
    ] == [
        ("AUR-EB-BLK", "Midnight Black", Decimal("39.99"), Decimal("59.99"), 120),
        ("AUR-EB-WHT", "Pearl White", Decimal("39.99"), Decimal("59.99"), 80),
        ("AUR-EB-GRN", "Sage Green", Decimal("42"), None, 0),
    ]
    assert earbuds.variants[0].weight_grams == 55
    assert earbuds.variants[0].barcode == "6901234567892"
    # The fourth row carries only an image.
    assert earbuds.image_urls[-1] == "https://cdn.example.com/aurora/case-open.jpg"
    assert len(earbuds.image_urls) == 4
    assert result.products[0].image_alts[earbuds.image_urls[0]] == "Aurora earbuds in black"
    # Body (HTML) becomes text: markup and the script are gone, the list stays readable.
    assert "alert" not in earbuds.description and "<" not in earbuds.description
    assert earbuds.description.startswith("True wireless earbuds with active noise cancelling.")
    assert "- 30 hours with the case\n- IPX5 sweat resistant" in earbuds.description

    assert shirt.category == "fashion"
    assert shirt.option_names == ["Size", "Color"]
    assert len(shirt.variants) == 6
    assert shirt.variants[4].option_values == {"Size": "L", "Color": "Sand"}
    assert shirt.variants[4].price == Decimal("36")
    assert shirt.description == "Breathable linen.\n\nRelaxed fit & mother-of-pearl buttons."

    # Shopify's "Title / Default Title" placeholder means: no options.
    assert case.option_names == [] and case.variants[0].option_values == {}
    assert case.status == "draft" and case.category == "phone-accessories"


def errors_by_line(result: shopify_csv.ParseResult) -> dict[int, list[shopify_csv.RowError]]:
    out: dict[int, list[shopify_csv.RowError]] = {}
    for error in result.errors:
        out.setdefault(error.line, []).append(error)
    return out


def test_every_bad_row_is_reported_with_its_line_and_column() -> None:
    result = parse_file(BAD)
    found = errors_by_line(result)
    # Line numbers count the physical lines: the first product's body spans lines 2-4.
    expected = {
        5: ("Variant Price", "negative"),
        6: ("Variant Price", "at most 2 decimal places"),
        7: ("Variant Price", "is not a number"),
        8: ("Product Category", "unknown category"),
        9: ("Title", "needs a Title"),
        11: ("Variant SKU", "already used on line 2"),
        12: ("Option1 Value", "without an Option1 Name"),
        13: ("Variant Inventory Qty", "whole number"),
        14: ("Variant Inventory Qty", "cannot be negative"),
    }
    assert sorted(found) == sorted(expected)
    for line, (column, words) in expected.items():
        assert [e.column for e in found[line]] == [column], (line, found[line])
        assert words in found[line][0].message, (line, found[line][0].message)
    assert found[11][0].handle == "two-rows"
    assert [p.handle for p in result.valid] == ["good-mug", "good-tee-towel"]
    # The product whose second row is bad is left out whole, good first row included.
    two_rows = next(p for p in result.products if p.handle == "two-rows")
    assert two_rows.product is None and not two_rows.ok
    mug = result.valid[0].product
    assert mug is not None and "steal" not in mug.description


def csv_text(rows: list[dict[str, str]]) -> str:
    columns = shopify_csv.EXPORT_COLUMNS
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(row.get(c, "") for c in columns))
    return "\n".join(lines) + "\n"


def first_row(**overrides: str) -> dict[str, str]:
    row = {
        "Handle": "lamp",
        "Title": "Desk Lamp",
        "Product Category": "Home & Garden",
        "Variant SKU": "LAMP-1",
        "Variant Price": "20.00",
        "Status": "draft",
    }
    row.update(overrides)
    return row


@pytest.mark.parametrize(
    ("overrides", "column", "words"),
    [
        ({"Variant Price": ""}, "Variant Price", "required"),
        ({"Variant Price": "1e400"}, "Variant Price", "largest price"),
        ({"Variant Compare At Price": "10.00"}, "Variant Compare At Price", "above the price"),
        ({"Variant Grams": "-4"}, "Variant Grams", "cannot be negative"),
        ({"Status": "live"}, "Status", "active, draft or archived"),
        ({"Handle": "Desk Lamp!"}, "Handle", "lower-case"),
        ({"Option2 Name": "Size", "Option2 Value": "L"}, "Option2 Name", "without Option1"),
        ({"Image Src": "javascript:alert(1)"}, "Image Src", "http(s) URL"),
        ({"Product Category": "", "Type": "Wormholes"}, "Type", "unknown category"),
    ],
)
def test_single_field_errors(overrides: dict[str, str], column: str, words: str) -> None:
    result = shopify_csv.parse(
        csv_text([first_row(**overrides)]), currency="USD", categories=category_map()
    )
    assert result.valid == []
    matching = [e for e in result.errors if (e.line, e.column) == (2, column)]
    assert matching, result.errors
    assert words in matching[0].message


def test_yen_prices_have_no_decimals_and_rows_must_be_consecutive() -> None:
    text = csv_text(
        [
            first_row(**{"Variant Price": "1200.50"}),
            first_row(Handle="other", **{"Variant SKU": "O-1"}),
            first_row(Title="", **{"Variant SKU": "LAMP-2"}),
        ]
    )
    result = shopify_csv.parse(text, currency="JPY", categories=category_map())
    messages = {(e.line, e.column): e.message for e in result.errors}
    assert "at most 0 decimal places" in messages[(2, "Variant Price")]
    assert "must be consecutive" in messages[(4, "Handle")]
    assert [p.handle for p in result.valid] == ["other"]


def test_a_row_longer_than_the_header_fails_its_product() -> None:
    text = csv_text([first_row()]).rstrip("\n") + ",surplus\n"
    result = shopify_csv.parse(text, currency="USD", categories=category_map())
    assert result.valid == []
    assert [(e.line, e.handle) for e in result.errors] == [(2, "lamp")]
    assert "cells" in result.errors[0].message


def test_upload_decoding() -> None:
    assert shopify_csv.decode_upload("\ufeffHandle,Title\n".encode()) == "Handle,Title\n"
    assert shopify_csv.decode_upload(b"Handle,Title\n") == "Handle,Title\n"
    with pytest.raises(shopify_csv.CsvFileError) as latin:
        shopify_csv.decode_upload("Handle,Title\ncaf\u00e9,Caf\u00e9\n".encode("latin-1"))
    assert latin.value.kind == "encoding"
    with pytest.raises(shopify_csv.CsvFileError) as binary:
        shopify_csv.decode_upload(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert binary.value.kind == "encoding"
    with pytest.raises(shopify_csv.CsvFileError):
        shopify_csv.check_header("Name,Price\nmug,3\n")


def test_body_html_becomes_safe_text_and_back() -> None:
    body = (
        '<h2 onclick="x()">Care</h2><p>Wash <b>cold</b>.<br>Dry flat.</p>'
        "<style>p{}</style><script>document.cookie</script><iframe src=x></iframe>"
        "<ul><li>One</li><li>Two &amp; three</li></ul>"
    )
    text = shopify_csv.html_to_text(body)
    assert text == "Care\n\nWash cold.\nDry flat.\n\n- One\n- Two & three"
    assert shopify_csv.html_to_text(shopify_csv.text_to_html(text)) == text
    assert "<script" not in shopify_csv.text_to_html("<script>x</script>")


def test_category_mapping() -> None:
    cmap = category_map()
    assert cmap.resolve("electronics/audio").path == "electronics/audio"  # type: ignore[union-attr]
    assert cmap.resolve("kitchen").path == "kitchen"  # type: ignore[union-attr]
    assert cmap.resolve("Home & Garden > Kitchen & Dining > Tableware").slug == "kitchen"  # type: ignore[union-attr]
    assert cmap.resolve("Mobile Phone Accessories").slug == "phone-accessories"  # type: ignore[union-attr]
    assert cmap.resolve("Apparel & Accessories > Shoes").slug == "fashion"  # type: ignore[union-attr]
    assert cmap.resolve("Vehicles & Parts > Tires") is None
    # Every exported label reads back as the same category.
    for slug, _name, _parent in TREE:
        ref = cmap.resolve(slug)
        assert ref is not None
        assert cmap.resolve(cmap.export_label(ref.slug, ref.path)) == ref


def test_export_defuses_spreadsheet_formulas_and_reads_them_back() -> None:
    product = shopify_csv.ExportProduct(
        handle="sum",
        title='=HYPERLINK("http://evil")',
        description="",
        vendor="@vendor",
        category_label="kitchen",
        product_type=None,
        tags=[],
        option_names=[],
        status="draft",
        variants=[shopify_csv.ExportVariant("-SKU", {}, Decimal("1.50"), None, None, None, 3)],
        images=[],
    )
    text = "".join(shopify_csv.write_csv([product]))
    assert "'=HYPERLINK" in text and ",'@vendor," in text
    parsed = shopify_csv.parse(text, currency="USD", categories=category_map())
    got = parsed.valid[0].product
    assert got is not None
    assert got.title == product.title and got.brand == "@vendor"
    assert got.variants[0].code == "-SKU"


# --- the import job ---------------------------------------------------------------------


def count(session: Session, model: Any, *where: Any) -> int:
    session.rollback()  # a fresh snapshot: the worker and the app wrote meanwhile
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def seller_products(session: Session, seller_id: str) -> dict[str, Product]:
    session.rollback()  # a fresh snapshot: the worker and the app wrote meanwhile
    rows = session.scalars(
        select(Product)
        .where(Product.seller_id == seller_id)
        .options(selectinload(Product.skus), selectinload(Product.images))
    ).all()
    return {p.handle: p for p in rows}


def test_import_runs_in_batches_with_progress_and_skips_bad_products(
    client: TestClient,
    session: Session,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_tree(session)
    seller, headers = seller_headers(client, session)
    monkeypatch.setattr(imports, "BATCH_SIZE", 1)

    answer = upload(client, headers, BAD.read_bytes(), "kitchen.csv")
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["id"].startswith("imp_") and job["status"] == "queued"
    assert job["filename"] == "kitchen.csv"
    assert count(session, OutboxEvent, OutboxEvent.topic == "catalog.import_requested") == 1

    # One relay round: the file is validated and the first product written.
    worker.relay_once()
    while (task := worker.huey.dequeue()) is not None:
        worker.huey.execute(task)
    running = client.get(f"{IMPORTS}/{job['id']}", headers=headers).json()
    assert running["status"] == "running"
    assert running["total"] == 11 and running["rows"] == 13
    assert running["failed"] == 9 and running["created"] == 1
    assert 0 < running["processed"] < running["total"]
    assert 0 < running["percent"] < 100
    assert len(running["errors"]) == 9  # the report is complete from the first run

    worker.drain()
    done = client.get(f"{IMPORTS}/{job['id']}", headers=headers).json()
    assert done["status"] == "done" and done["percent"] == 100
    assert (done["created"], done["updated"], done["failed"]) == (2, 0, 9)
    assert done["processed"] == done["total"] == 11
    lines = [(e["line"], e["column"]) for e in done["errors"]]
    assert lines == sorted(lines)
    assert (11, "Variant SKU") in lines and (8, "Product Category") in lines
    assert all(e["handle"] for e in done["errors"])

    products = seller_products(session, seller.id)
    assert sorted(products) == ["good-mug", "good-tee-towel"]
    towel = products["good-tee-towel"]
    assert [s.code for s in towel.skus] == ["TT-BLUE", "TT-GREEN"]
    assert towel.skus[0].price_amount == 650 and towel.status == "active"
    stock = inventory.available(session=session, sku_ids=[s.id for s in towel.skus])
    assert stock == {towel.skus[0].id: 7, towel.skus[1].id: 0}
    # Nothing of the product with one bad row was written.
    assert count(session, Product, Product.handle == "two-rows") == 0


def test_catalog_refusal_is_reported_per_product(
    client: TestClient, session: Session, worker: Worker
) -> None:
    """A product the CSV check passes but the catalog refuses (here: going live in a
    category the seller is not approved for) is rolled back alone and reported."""
    make_tree(session)
    seller, headers = seller_headers(client, session, categories=["electronics"])
    job = upload(client, headers, GOOD.read_bytes()).json()
    worker.drain()
    done = client.get(f"{IMPORTS}/{job['id']}", headers=headers).json()
    assert done["status"] == "done"
    assert (done["created"], done["failed"]) == (2, 1)
    assert done["errors"] == [
        {
            "line": 11,
            "column": None,
            "message": done["errors"][0]["message"],
            "handle": "linen-summer-shirt",
        }
    ]
    assert "not approved" in done["errors"][0]["message"]
    assert sorted(seller_products(session, seller.id)) == [
        "aurora-wireless-earbuds",
        "silicone-phone-case",
    ]


def snapshot(session: Session, seller_id: str) -> dict[str, Any]:
    """Everything a round trip must keep, without ids."""
    out: dict[str, Any] = {}
    for handle, p in seller_products(session, seller_id).items():
        skus = [s for s in p.skus if s.is_active]
        on_hand = {s.id: inventory.summary(session=session, sku_id=s.id).on_hand for s in skus}
        out[handle] = {
            "title": p.title,
            "description": p.description,
            "category_id": p.category_id,
            "brand": p.brand_text,
            "type": p.product_type,
            "tags": p.tags,
            "options": p.option_names,
            "status": p.status,
            "variants": [
                (
                    s.code,
                    s.option_values,
                    s.price_amount,
                    s.compare_at_amount,
                    s.weight_grams,
                    s.barcode,
                    on_hand[s.id],
                )
                for s in skus
            ],
            "images": [(i.source_url, i.alt) for i in p.images],
        }
    return out


def test_export_then_import_into_a_fresh_seller_round_trips(
    client: TestClient, session: Session, worker: Worker
) -> None:
    make_tree(session)
    seller, headers = seller_headers(client, session)
    upload(client, headers, GOOD.read_bytes())
    worker.drain()
    original = snapshot(session, seller.id)
    assert len(original) == 3

    exported = client.get(EXPORT, headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.text.startswith("Handle,Title,Body (HTML)")

    other, other_headers = seller_headers(client, session)
    job = upload(client, other_headers, exported.content, "export.csv").json()
    worker.drain()
    done = client.get(f"{IMPORTS}/{job['id']}", headers=other_headers).json()
    assert done["errors"] == [] and done["created"] == 3
    assert snapshot(session, other.id) == original

    # Importing the same export again updates in place: no duplicates, same catalog.
    again = upload(client, other_headers, exported.content).json()
    worker.drain()
    second = client.get(f"{IMPORTS}/{again['id']}", headers=other_headers).json()
    assert (second["created"], second["updated"], second["failed"]) == (0, 3, 0)
    assert snapshot(session, other.id) == original
    # Each seller exports only their own catalog.
    assert client.get(EXPORT, headers=other_headers).text == exported.text
    _third, third_headers = seller_headers(client, session)
    assert client.get(EXPORT, headers=third_headers).text.count("\r\n") == 1


def test_reimporting_an_export_keeps_uploaded_images_once(
    client: TestClient, session: Session, worker: Worker
) -> None:
    import io

    from PIL import Image

    make_tree(session)
    seller, headers = seller_headers(client, session)
    upload(client, headers, GOOD.read_bytes())
    worker.drain()
    case = seller_products(session, seller.id)["silicone-phone-case"]
    png = io.BytesIO()
    Image.new("RGB", (40, 40), "navy").save(png, format="PNG")
    added = client.post(
        f"/api/v1/seller/products/{case.id}/images",
        files={"file": ("case.png", png.getvalue(), "image/png")},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    exported = client.get(EXPORT, headers=headers)
    assert "/media/images/" in exported.text
    before = snapshot(session, seller.id)

    job = upload(client, headers, exported.content).json()
    worker.drain()
    done = client.get(f"{IMPORTS}/{job['id']}", headers=headers).json()
    assert (done["updated"], done["failed"]) == (3, 0)
    assert snapshot(session, seller.id) == before
    assert len(seller_products(session, seller.id)["silicone-phone-case"].images) == 2


def test_other_sellers_imports_are_404(client: TestClient, session: Session) -> None:
    make_tree(session)
    _seller, headers = seller_headers(client, session)
    job = upload(client, headers, GOOD.read_bytes()).json()
    _other, other_headers = seller_headers(client, session)
    assert client.get(f"{IMPORTS}/{job['id']}", headers=other_headers).status_code == 404
    assert client.get(f"{IMPORTS}/imp_doesnotexist", headers=headers).status_code == 404
    assert client.get(IMPORTS, headers=other_headers).json() == []
    assert [j["id"] for j in client.get(IMPORTS, headers=headers).json()] == [job["id"]]
    assert client.get(f"{IMPORTS}/{job['id']}").status_code == 401


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ("Handle,Title\nmug,Caf\u00e9 mug\n".encode("latin-1"), 415),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 415),
        (b"\xff\xfeH\x00a\x00n\x00d\x00l\x00e\x00", 415),  # UTF-16
        (b"Name,Price\nmug,3\n", 422),
        (b"", 422),
    ],
)
def test_unreadable_uploads_are_refused_and_nothing_is_written(
    client: TestClient, session: Session, data: bytes, status: int
) -> None:
    make_tree(session)
    _seller, headers = seller_headers(client, session)
    answer = upload(client, headers, data)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert count(session, ImportJob) == 0
    assert count(session, OutboxEvent, OutboxEvent.topic == "catalog.import_requested") == 0


def test_oversized_upload_is_413(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(session)
    _seller, headers = seller_headers(client, session)
    monkeypatch.setattr(imports, "MAX_IMPORT_BYTES", 1024)
    answer = upload(client, headers, GOOD.read_bytes())
    assert answer.status_code == 413
    assert count(session, ImportJob) == 0


def test_utf8_with_bom_is_accepted(client: TestClient, session: Session, worker: Worker) -> None:
    make_tree(session)
    _seller, headers = seller_headers(client, session)
    job = upload(client, headers, b"\xef\xbb\xbf" + GOOD.read_bytes()).json()
    worker.drain()
    assert client.get(f"{IMPORTS}/{job['id']}", headers=headers).json()["created"] == 3


def test_a_batch_delivered_twice_at_once_is_written_once(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    engine: Any,
) -> None:
    """At-least-once delivery: two workers running the same event concurrently must not
    write the batch twice (the job row is the lock; a stale cursor is ignored)."""
    from reelshop.db import make_session_factory

    make_tree(session)
    seller, headers = seller_headers(client, session)
    job_id = upload(client, headers, GOOD.read_bytes()).json()["id"]
    writer = make_session_factory(engine)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            with unit_of_work(writer) as s:
                imports.run_import_batch(session=s, import_id=job_id, cursor=0)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    session.rollback()  # a fresh snapshot: the worker and the app wrote meanwhile
    job = session.get(ImportJob, job_id)
    assert job is not None
    assert (job.status, job.created, job.processed) == ("done", 3, 3)
    assert len(seller_products(session, seller.id)) == 3
    del session_factory
