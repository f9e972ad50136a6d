"""The GMV dashboards in a real browser: the staff page draws its charts (Chart.js on
a canvas) beside the same numbers in tables; the seller downloads a table as CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, DEMO_PASSWORD
from tests.e2e.test_accounts import log_in

BLANK_CANVAS = """(c) => {
  const blank = document.createElement('canvas');
  blank.width = c.width; blank.height = c.height;
  return c.width > 0 && c.height > 0 && c.toDataURL() !== blank.toDataURL();
}"""


def test_staff_dashboard_draws_charts_and_tables(page: Any) -> None:
    log_in(page, "admin@demo.reelshop.dev", DEMO_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/staff/analytics")
    expect(page.locator("main h1")).to_have_text("GMV")
    gmv_chart = page.locator('canvas[data-chart="chart-gmv"]')
    expect(gmv_chart).to_have_attribute("data-drawn", "1")
    assert gmv_chart.evaluate(BLANK_CANVAS), "the GMV chart's canvas is blank"
    expect(page.locator('canvas[data-chart="chart-funnel"]')).to_have_attribute("data-drawn", "1")
    rows = page.locator('table[data-table="series"] tbody tr')
    assert rows.count() == 30
    expect(page.locator('table[data-table="funnel"]')).to_contain_text("Impressions")
    expect(page.locator("[data-target]")).to_contain_text("Run-rate")
    assert page.errors == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "analytics_staff_desktop.png"), full_page=True)


def test_seller_downloads_a_table_as_csv(page: Any) -> None:
    log_in(page, "seller@demo.reelshop.dev", DEMO_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.goto("/seller/analytics")
    expect(page.locator('canvas[data-chart="chart-gmv"]')).to_have_attribute("data-drawn", "1")
    expect(page.locator("[data-target]")).to_contain_text("GMV so far")
    first_product = page.locator('table[data-table="top_products"] tbody tr td').first
    expect(first_product).not_to_be_empty()
    with page.expect_download() as download:
        page.locator('a[data-csv="top_products"]').click()
    path = download.value.path()
    header, first = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))[:2]
    assert header[:4] == ["Product", "GMV (USD)", "Units", "Orders"]
    assert first[0] == first_product.inner_text().strip()
    assert download.value.suggested_filename == "sales-top_products.csv"
    assert page.errors == []
