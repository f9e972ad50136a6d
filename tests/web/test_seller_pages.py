"""Seller-center catalog pages: list with filters, the editor with variants and stock,
status changes, image upload, and CSV import with live progress and its error report."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from huey import SqliteHuey
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reelshop.catalog.import_models import ImportJob
from reelshop.catalog.models import Category, Product, ProductImage
from reelshop.config import Settings
from reelshop.inventory import service as inventory
from reelshop.sellers.models import SellerProfile
from reelshop.worker import Worker
from tests.factories import make_product, make_seller, page_login

DATA = Path(__file__).parent.parent / "data"
TREE = [
    ("electronics", "Electronics", None),
    ("audio", "Audio", "electronics"),
    ("fashion", "Fashion", None),
    ("phone-accessories", "Phone Accessories", None),
    ("home", "Home", None),
    ("kitchen", "Kitchen", None),
]


def make_tree(session: Session) -> None:
    made: dict[str, Category] = {}
    for position, (slug, name, parent) in enumerate(TREE):
        up = made.get(parent) if parent else None
        category = Category(
            slug=slug,
            name=name,
            parent_id=up.id if up else None,
            path=f"{up.path}/{slug}" if up else slug,
            position=position,
        )
        session.add(category)
        session.flush()
        made[slug] = category
    session.commit()


def login_seller(
    client: TestClient, session: Session, categories: list[str] | None = None
) -> tuple[SellerProfile, str]:
    user, seller = make_seller(
        session,
        categories=categories or ["electronics", "fashion", "phone-accessories", "kitchen"],
    )
    return seller, page_login(client, user.email)


@pytest.fixture
def seller_page(client: TestClient, session: Session) -> tuple[SellerProfile, str]:
    make_tree(session)
    return login_seller(client, session)


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    w = Worker(settings, huey=SqliteHuey("test-pages", filename=str(tmp_path / "huey.db")))
    yield w
    w.engine.dispose()


def fresh(session: Session) -> Session:
    session.rollback()  # a new snapshot: the app wrote meanwhile
    return session


def products_of(session: Session, seller: SellerProfile) -> list[Product]:
    return list(
        fresh(session).scalars(
            select(Product)
            .where(Product.seller_id == seller.id)
            .options(selectinload(Product.skus), selectinload(Product.images))
        )
    )


def variant_form(rows: list[dict[str, str]], **fields: str) -> dict[str, str]:
    form = {
        "title": "Bamboo Earbuds",
        "description": "Light earbuds.\n\nWith a bamboo case.",
        "category": "electronics/audio",
        "brand": "Greenwave",
        "product_type": "Earbuds",
        "tags": "audio, bamboo",
        "option1": "Color",
        "option2": "",
        "option3": "",
        "handle": "",
        "hs_code": "851830",
        "origin_country": "CN",
        "length_mm": "",
        "width_mm": "",
        "height_mm": "",
        "action": "save",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            form[f"variants-{i}-{key}"] = value
    form.update(fields)
    return form


TWO_VARIANTS = [
    {"code": "BB-NAT", "opt1": "Natural", "price": "24.90", "compare_at": "29.90", "stock": "12"},
    {"code": "BB-BLK", "opt1": "Black", "price": "26.00", "compare_at": "", "stock": "3"},
]


def test_pages_need_a_seller_log_in(client: TestClient, session: Session) -> None:
    answer = client.get("/seller/products", headers={"accept": "text/html"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_seller_home_links_to_the_catalog_pages(
    client: TestClient, seller_page: tuple[SellerProfile, str]
) -> None:
    home = client.get("/seller")
    assert home.status_code == 200
    for href in ("/seller/products", "/seller/imports", "/api/v1/seller/products/export.csv"):
        assert f'href="{href}"' in home.text


def test_editor_adds_rows_and_saves_variants_with_stock(
    client: TestClient, session: Session, seller_page: tuple[SellerProfile, str]
) -> None:
    seller, csrf = seller_page
    empty = client.get("/seller/products")
    assert empty.status_code == 200 and "No products yet" in empty.text

    form = client.get("/seller/products/new")
    assert form.status_code == 200 and 'name="variants-0-code"' in form.text
    assert '<input type="hidden" name="variants-0-opt1"' in form.text  # no options yet
    # "Apply options" shows a value column per named option; nothing saved.
    applied = client.post(
        "/seller/products/new",
        data=variant_form([{"code": "BB-NAT"}], csrf_token=csrf, action="apply_options"),
    )
    assert applied.status_code == 200
    assert '<input name="variants-0-opt1"' in applied.text and ">Color" in applied.text
    # "Add variant" re-renders the form with what was typed and one more row; nothing saved.
    added = client.post(
        "/seller/products/new",
        data=variant_form(TWO_VARIANTS[:1], csrf_token=csrf, action="add_variant"),
    )
    assert added.status_code == 200
    assert 'name="variants-1-code"' in added.text and 'value="BB-NAT"' in added.text
    assert products_of(session, seller) == []

    saved = client.post(
        "/seller/products/new",
        data=variant_form(TWO_VARIANTS, csrf_token=csrf),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    [product] = products_of(session, seller)
    assert saved.headers["location"] == f"/seller/products/{product.id}?saved=1"
    assert product.status == "draft" and product.option_names == ["Color"]
    assert product.description == "Light earbuds.\n\nWith a bamboo case."
    assert [
        (s.code, s.option_values, s.price_amount, s.compare_at_amount) for s in product.skus
    ] == [
        ("BB-NAT", {"Color": "Natural"}, 2490, 2990),
        ("BB-BLK", {"Color": "Black"}, 2600, None),
    ]
    stock = inventory.available(session=session, sku_ids=[s.id for s in product.skus])
    assert list(stock.values()) == [12, 3]

    page = client.get(saved.headers["location"])
    assert page.status_code == 200
    assert "Saved." in page.text and 'value="24.90"' in page.text and 'value="12"' in page.text

    # Edit: new price, new stock for one row, and the second variant removed.
    rows = [{**TWO_VARIANTS[0], "price": "22.00", "stock": "20", "stock_was": "12"}]
    edited = client.post(
        f"/seller/products/{product.id}",
        data=variant_form(rows, csrf_token=csrf, title="Bamboo Earbuds 2"),
        follow_redirects=False,
    )
    assert edited.status_code == 303, edited.text
    [product] = products_of(session, seller)
    active = [s for s in product.skus if s.is_active]
    assert product.title == "Bamboo Earbuds 2"
    assert [(s.code, s.price_amount) for s in active] == [("BB-NAT", 2200)]
    assert inventory.summary(session=session, sku_id=active[0].id).on_hand == 20

    listed = client.get("/seller/products")
    assert "Bamboo Earbuds 2" in listed.text and "20 in stock" in listed.text


@pytest.mark.parametrize(
    ("row", "fields", "words"),
    [
        ({"price": "12.999"}, {}, "at most 2 decimal places"),
        ({"price": "twelve"}, {}, "valid decimal"),
        ({"price": "-1"}, {}, "greater than or equal to 0"),
        ({"stock": "lots"}, {}, "valid integer"),
        ({"compare_at": "1.00"}, {}, "compare-at price must be above"),
        ({}, {"title": ""}, "at least 1 character"),
        ({}, {"category": "spaceships"}, "unknown category"),
        ({"opt1": ""}, {}, "option values must be non-empty"),
    ],
)
def test_bad_input_re_renders_the_form_with_what_was_typed(
    client: TestClient,
    session: Session,
    seller_page: tuple[SellerProfile, str],
    row: dict[str, str],
    fields: dict[str, str],
    words: str,
) -> None:
    seller, csrf = seller_page
    rows = [{**TWO_VARIANTS[0], **row}, TWO_VARIANTS[1]]
    answer = client.post(
        "/seller/products/new",
        data=variant_form(rows, csrf_token=csrf, brand="Typed Brand", **fields),
    )
    assert answer.status_code == 422, answer.text[:500]
    assert words in answer.text
    if "decimal places" in words:  # the service's refusal lands next to the price field
        assert 'id="err-variants-0-price"' in answer.text
    assert 'value="Typed Brand"' in answer.text and 'value="BB-BLK"' in answer.text
    assert 'class="alert"' in answer.text
    assert products_of(session, seller) == []


def test_publish_unpublish_and_refusal(
    client: TestClient, session: Session, seller_page: tuple[SellerProfile, str]
) -> None:
    seller, csrf = seller_page
    client.post(
        "/seller/products/new",
        data=variant_form(TWO_VARIANTS, csrf_token=csrf),
        follow_redirects=False,
    )
    [product] = products_of(session, seller)
    url = f"/seller/products/{product.id}/status"
    published = client.post(
        url, data={"status": "active", "csrf_token": csrf}, follow_redirects=False
    )
    assert published.status_code == 303
    assert products_of(session, seller)[0].status == "active"
    assert "Unpublish" in client.get(f"/seller/products/{product.id}").text
    client.post(url, data={"status": "draft", "csrf_token": csrf}, follow_redirects=False)
    assert products_of(session, seller)[0].status == "draft"
    bad = client.post(url, data={"status": "sold-out", "csrf_token": csrf})
    assert bad.status_code == 422 and "draft, active or archived" in bad.text
    assert client.post(url, data={"status": "active"}).status_code == 403  # no CSRF token

    # A category the seller is not approved for cannot go live: a 403 page, still draft.
    kitchen = client.post(
        "/seller/products/new",
        data=variant_form(
            [{"code": "POT-1", "opt1": "Red", "price": "9.00"}],
            csrf_token=csrf,
            category="kitchen",
            title="Pot",
        ),
        follow_redirects=False,
    )
    assert kitchen.status_code == 303
    fresh(session)
    seller.categories = ["electronics"]
    session.commit()
    pot = next(p for p in products_of(session, seller) if p.title == "Pot")
    refused = client.post(
        f"/seller/products/{pot.id}/status", data={"status": "active", "csrf_token": csrf}
    )
    assert refused.status_code == 403 and "not approved" in refused.text
    assert next(p for p in products_of(session, seller) if p.title == "Pot").status == "draft"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, format="PNG")
    return out.getvalue()


def test_image_upload(
    client: TestClient, session: Session, seller_page: tuple[SellerProfile, str]
) -> None:
    seller, csrf = seller_page
    client.post(
        "/seller/products/new",
        data=variant_form(TWO_VARIANTS, csrf_token=csrf),
        follow_redirects=False,
    )
    [product] = products_of(session, seller)
    url = f"/seller/products/{product.id}/images"
    ok = client.post(
        url,
        data={"csrf_token": csrf, "alt": "Natural earbuds"},
        files={"file": ("a.png", png_bytes(), "image/png")},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    page = client.get(ok.headers["location"])
    assert 'alt="Natural earbuds"' in page.text and "/media/images/" in page.text
    fake = client.post(
        url,
        data={"csrf_token": csrf},
        files={"file": ("b.png", b"<?php echo 1; ?>", "image/png")},
    )
    assert 400 <= fake.status_code < 500
    assert 'class="alert"' in fake.text
    count = fresh(session).scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.product_id == product.id)
    )
    assert count == 1


def test_list_filters_and_pagination(
    client: TestClient, session: Session, seller_page: tuple[SellerProfile, str]
) -> None:
    seller, _csrf = seller_page
    for n in range(23):
        make_product(
            session,
            seller=seller,
            title=f"Cable {n:02d}",
            category_slug="electronics",
            status="active" if n % 2 else "draft",
            commit=False,
        )
    make_product(session, seller=seller, title="Linen Shirt", category_slug="fashion", commit=False)
    session.commit()

    first = client.get("/seller/products")
    assert first.status_code == 200
    assert first.text.count('class="product-row"') == 20
    assert "Page 1 of 2" in first.text and 'rel="next"' in first.text
    second = client.get("/seller/products?page=2")
    assert second.text.count('class="product-row"') == 4

    drafts = client.get("/seller/products?status=draft")
    assert drafts.text.count('class="product-row"') == 12  # 0, 2, ..., 22
    fashion = client.get("/seller/products?category=fashion")
    assert fashion.text.count('class="product-row"') == 1 and "Linen Shirt" in fashion.text
    search = client.get("/seller/products?q=cable+07")
    assert search.text.count('class="product-row"') == 1 and "Cable 07" in search.text
    # Filters survive paging.
    assert (
        "category=electronics&amp;page=2"
        in client.get("/seller/products?category=electronics").text
    )
    assert client.get("/seller/products?status=nonsense").status_code == 422
    assert client.get("/seller/products?category=nowhere").status_code == 422
    none = client.get("/seller/products?q=zzzz")
    assert "No products match" in none.text


def test_other_sellers_pages_are_404(
    client: TestClient, session: Session, seller_page: tuple[SellerProfile, str]
) -> None:
    _seller, csrf = seller_page
    _user, other = make_seller(session, categories=["electronics"])
    theirs = make_product(session, seller=other)
    assert client.get(f"/seller/products/{theirs.id}").status_code == 404
    changed = client.post(
        f"/seller/products/{theirs.id}/status", data={"status": "draft", "csrf_token": csrf}
    )
    assert changed.status_code == 404
    job = ImportJob(seller_id=other.id, storage_key="imports/xx/none.csv", errors=[])
    fresh(session).add(job)
    session.commit()
    assert client.get(f"/seller/imports/{job.id}").status_code == 404
    assert client.get(f"/seller/imports/{job.id}/progress").status_code == 404
    assert client.get(f"/seller/imports/{job.id}/errors.csv").status_code == 404


def test_csv_import_page_progress_and_error_report(
    client: TestClient,
    session: Session,
    worker: Worker,
    seller_page: tuple[SellerProfile, str],
) -> None:
    seller, csrf = seller_page
    page = client.get("/seller/imports")
    assert page.status_code == 200 and 'type="file"' in page.text

    uploaded = client.post(
        "/seller/imports",
        data={"csrf_token": csrf},
        files={"file": ("kitchen.csv", (DATA / "shopify_bad_rows.csv").read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    detail_url = uploaded.headers["location"]
    detail = client.get(detail_url)
    assert detail.status_code == 200
    # While it runs, the progress block polls itself.
    assert 'hx-trigger="every 1s"' in detail.text and "queued" in detail.text

    worker.drain()
    progress = client.get(detail_url + "/progress")
    assert progress.status_code == 200
    assert "hx-trigger" not in progress.text  # finished: polling stops
    assert "Finished: 11 of 11 products" in progress.text
    rows = re.findall(r'<td data-label="Line">(\d+)</td>', progress.text)
    assert rows == ["5", "6", "7", "8", "9", "11", "12", "13", "14"]
    assert "unknown category" in progress.text and "Variant SKU" in progress.text

    report = client.get(detail_url + "/errors.csv")
    assert report.status_code == 200 and report.text.startswith("Line,Column,Handle,Problem")
    assert report.text.count("\r\n") == 10

    assert sorted(p.handle for p in products_of(session, seller)) == ["good-mug", "good-tee-towel"]
    listing = client.get("/seller/imports")
    assert "kitchen.csv" in listing.text


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ("Handle,Title\nmug,Caf\u00e9\n".encode("latin-1"), 415, "not UTF-8"),
        (b"\x00\x01\x02binary", 415, "binary"),
        (b"Name,Price\n", 422, "Handle"),
    ],
)
def test_csv_import_page_refuses_unreadable_files(
    client: TestClient,
    session: Session,
    seller_page: tuple[SellerProfile, str],
    data: bytes,
    status: int,
    words: str,
) -> None:
    _seller, csrf = seller_page
    answer = client.post(
        "/seller/imports",
        data={"csrf_token": csrf},
        files={"file": ("export.csv", data, "text/csv")},
    )
    assert answer.status_code == status
    assert words in answer.text and "export.csv" in answer.text
    assert fresh(session).scalar(select(func.count()).select_from(ImportJob)) == 0


def test_export_link_downloads_the_catalog(
    client: TestClient, session: Session, seller_page: tuple[SellerProfile, str]
) -> None:
    seller, _csrf = seller_page
    make_product(session, seller=seller, title="Desk Fan", variants=2, stock=4)
    exported = client.get("/api/v1/seller/products/export.csv")
    assert exported.status_code == 200
    lines = exported.text.strip().split("\r\n")
    assert len(lines) == 3 and "Desk Fan" in lines[1]
