"""The Shopify product CSV: read it into ``ProductInput``s with per-row errors, write it back.

One product spans consecutive rows with the same ``Handle``. Its first row carries
the product fields (title, body, vendor, category, options...) and usually its first
variant and image; later rows add variants and/or images. Every row is checked, and
each problem is reported with the CSV line number where the row starts (the header
is line 1; a quoted body that spans lines moves later rows down accordingly) and
the column at fault. A product with any bad row is reported and left out whole.

Nothing here touches the database: categories are resolved through a
:class:`CategoryMap` built by the caller from the category tree.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any

from pydantic import ValidationError

from reelshop.catalog.schemas import MAX_IMAGES, MAX_OPTIONS, MAX_VARIANTS, ProductInput
from reelshop.money import Money, MoneyError

# The columns we write, in Shopify's export order. Reading accepts any order and
# ignores columns it does not know (SEO Title, Variant Inventory Policy, Gift Card...).
EXPORT_COLUMNS = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Fulfillment Service",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Variant Taxable",
    "Variant Barcode",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Gift Card",
    "Variant Weight Unit",
    "Status",
]

VARIANT_COLUMNS = (
    "Option1 Value",
    "Option2 Value",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Qty",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Barcode",
)

# Shopify's placeholder option for a product without options.
DEFAULT_OPTION_NAME = "Title"
DEFAULT_OPTION_VALUE = "Default Title"

MAX_STOCK = 1_000_000
MAX_GRAMS = 1_000_000
MAX_PRICE = Decimal("100000000")
MAX_FIELD = 20_000
_HANDLE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_WHOLE_DECIMAL = re.compile(r"^[+-]?\d+(?:\.0*)?$")


class CsvFileError(ValueError):
    """The upload as a whole cannot be read as a product CSV (encoding, header)."""

    def __init__(self, message: str, *, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind  # "encoding" | "invalid"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    message: str
    handle: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "handle": self.handle,
        }


@dataclass
class ParsedImage:
    line: int
    url: str
    position: int | None
    alt: str


@dataclass
class ParsedProduct:
    """One product's rows: its ``ProductInput`` when every row is valid, else its errors."""

    handle: str
    first_line: int
    last_line: int
    product: ProductInput | None = None
    image_alts: dict[str, str] = field(default_factory=dict)  # Image Src -> Image Alt Text
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.product is not None


@dataclass
class ParseResult:
    products: list[ParsedProduct]
    rows: int  # data rows read (the header not counted)

    @property
    def errors(self) -> list[RowError]:
        return [e for p in self.products for e in p.errors]

    @property
    def valid(self) -> list[ParsedProduct]:
        return [p for p in self.products if p.ok]


# --- reading the file -------------------------------------------------------------


def decode_upload(data: bytes) -> str:
    """The upload as text: UTF-8 with or without a byte-order mark, nothing else."""
    if b"\x00" in data[:8192]:
        raise CsvFileError("this is a binary file, not a CSV", kind="encoding")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            f"the file is not UTF-8 (byte {exc.start} cannot be read); "
            "save it as 'CSV UTF-8' and upload again",
            kind="encoding",
        ) from exc
    if not text.strip():
        raise CsvFileError("the file is empty")
    return text


def _header_map(header: list[str]) -> dict[str, int]:
    known = {c.lower(): c for c in [*EXPORT_COLUMNS, "Variant Image", "SEO Title"]}
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff")
        canonical = known.get(name.lower(), name)
        positions.setdefault(canonical, index)
    return positions


def check_header(text: str) -> list[str]:
    """The header row's columns; raises CsvFileError when it cannot be a product CSV."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvFileError(f"the first line is not a CSV header: {exc}") from exc
    columns = _header_map(header)
    missing = [c for c in ("Handle", "Title") if c not in columns]
    if missing:
        raise CsvFileError(
            "the header row lacks the column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(missing)
            + " (is this a Shopify product CSV?)"
        )
    return header


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FREE_TEXT_COLUMNS = (
    "Title", "Vendor", "Type", "Tags", "Image Alt Text", "Option1 Name", "Option1 Value",
    "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value", "Variant SKU",
    "Variant Barcode", "Product Category",
)  # fmt: skip


@dataclass
class _Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        value = self.cells.get(column, "").strip()
        if value[:1] == "'" and value[1:2] in _FORMULA_START and column in FREE_TEXT_COLUMNS:
            return value[1:]
        return value

    def raw(self, column: str) -> str:
        return self.cells.get(column, "")


def _read_rows(text: str) -> tuple[list[_Row], list[RowError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvFileError(f"the first line is not a CSV header: {exc}") from exc
    columns = _header_map(header)
    if "Handle" not in columns or "Title" not in columns:
        check_header(text)  # raises with the message
    rows: list[_Row] = []
    errors: list[RowError] = []
    line_end = reader.line_num
    while True:
        start = line_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(start, None, f"the row cannot be read as CSV: {exc}"))
            break
        line_end = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        values = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            handle = values.get("Handle", "").strip().lower() or None
            errors.append(
                RowError(
                    start, None, f"the row has {len(cells)} cells, the header {len(header)}", handle
                )
            )
        rows.append(_Row(start, values))
    return rows, errors


# --- categories ---------------------------------------------------------------------

# Shopify's standard product taxonomy (names and "A > B > C" paths) to our category
# slugs. A lookup walks from the full path to ever shorter prefixes; at each step a
# segment that is the name of exactly one of our categories ("Audio") wins, else the
# prefix's entry here if it names a category present in our tree.
SHOPIFY_TO_SLUG: dict[str, str] = {
    "animals & pet supplies": "pets",
    "animals & pet supplies > pet supplies": "pets",
    "apparel & accessories": "fashion",
    "apparel & accessories > clothing": "fashion",
    "apparel & accessories > clothing accessories": "fashion",
    "apparel & accessories > shoes": "fashion",
    "apparel & accessories > handbags, wallets & cases": "fashion",
    "apparel & accessories > jewelry": "jewelry",
    "apparel & accessories > jewelry > necklaces": "jewelry",
    "apparel & accessories > jewelry > rings": "jewelry",
    "apparel & accessories > jewelry > earrings": "jewelry",
    "apparel & accessories > jewelry > bracelets": "jewelry",
    "apparel & accessories > jewelry > watches": "jewelry",
    "baby & toddler": "toys",
    "electronics": "electronics",
    "electronics > audio": "electronics",
    "electronics > computers": "electronics",
    "electronics > video": "electronics",
    "electronics > electronics accessories": "electronics",
    "electronics > communications": "phone-accessories",
    "electronics > communications > telephony": "phone-accessories",
    "electronics > communications > telephony > mobile phone accessories": "phone-accessories",
    "electronics > communications > telephony > mobile phone accessories > "
    "mobile phone cases": "phone-accessories",
    "mobile phone accessories": "phone-accessories",
    "health & beauty": "beauty",
    "health & beauty > personal care": "beauty",
    "health & beauty > personal care > cosmetics": "beauty",
    "health & beauty > personal care > cosmetics > skin care": "beauty",
    "health & beauty > personal care > hair care": "beauty",
    "home & garden": "home",
    "home & garden > decor": "home",
    "home & garden > linens & bedding": "home",
    "home & garden > lighting": "home",
    "home & garden > household supplies": "home",
    "home & garden > kitchen & dining": "kitchen",
    "home & garden > kitchen & dining > kitchen tools & utensils": "kitchen",
    "home & garden > kitchen & dining > cookware & bakeware": "kitchen",
    "home & garden > kitchen & dining > tableware": "kitchen",
    "furniture": "home",
    "sporting goods": "sports",
    "sporting goods > exercise & fitness": "sports",
    "sporting goods > outdoor recreation": "sports",
    "sporting goods > athletics": "sports",
    "toys & games": "toys",
    "toys & games > toys": "toys",
    "toys & games > games": "toys",
    "toys & games > puzzles": "toys",
}

# What we write for each slug on export: a Shopify taxonomy path that maps back to it.
SLUG_TO_SHOPIFY: dict[str, str] = {
    "pets": "Animals & Pet Supplies",
    "fashion": "Apparel & Accessories",
    "jewelry": "Apparel & Accessories > Jewelry",
    "electronics": "Electronics",
    "phone-accessories": ("Electronics > Communications > Telephony > Mobile Phone Accessories"),
    "beauty": "Health & Beauty",
    "home": "Home & Garden",
    "kitchen": "Home & Garden > Kitchen & Dining",
    "sports": "Sporting Goods",
    "toys": "Toys & Games",
}


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip().lower())


@dataclass(frozen=True)
class CategoryRef:
    slug: str
    path: str
    name: str


class CategoryMap:
    """Resolves what a CSV says (our slug or path, or a Shopify taxonomy name or path)
    to one of our categories, and names our categories for export."""

    def __init__(self, categories: Iterable[CategoryRef]) -> None:
        self._by_slug: dict[str, CategoryRef] = {}
        self._by_path: dict[str, CategoryRef] = {}
        by_name: dict[str, list[CategoryRef]] = {}
        for ref in categories:
            self._by_slug[ref.slug.lower()] = ref
            self._by_path[ref.path.lower()] = ref
            by_name.setdefault(_norm(ref.name), []).append(ref)
        # Only names that identify one category ("Audio", "Shoes") are matched by name.
        self._by_name = {name: refs[0] for name, refs in by_name.items() if len(refs) == 1}

    def resolve(self, value: str) -> CategoryRef | None:
        key = _norm(value)
        if not key:
            return None
        own = self._by_path.get(key) or self._by_slug.get(key)
        if own is not None:
            return own
        segments = [s.strip() for s in key.split(">") if s.strip()]
        for n in range(len(segments), 0, -1):
            named = self._by_name.get(segments[n - 1])
            if named is not None:
                return named
            slug = SHOPIFY_TO_SLUG.get(" > ".join(segments[:n]))
            if slug and slug in self._by_slug:
                return self._by_slug[slug]
        slug = SHOPIFY_TO_SLUG.get(segments[-1]) if segments else None
        if slug and slug in self._by_slug:
            return self._by_slug[slug]
        return None

    def export_label(self, slug: str, path: str) -> str:
        """A Shopify path when one maps back to exactly this category, else our own path."""
        label = SLUG_TO_SHOPIFY.get(slug)
        if label is not None:
            found = self.resolve(label)
            if found is not None and found.slug == slug:
                return label
        return path


# --- Body (HTML) --------------------------------------------------------------------

_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "table", "tr", "blockquote", "pre", "figure",
}  # fmt: skip
_DROPPED = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "head"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(body: str) -> str:
    """Shopify's Body (HTML) as plain text: paragraphs, line breaks and list items kept,
    every tag and attribute dropped, and scripts/styles dropped with their content."""
    parser = _TextExtractor()
    parser.feed(body)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    joined = "\n".join(out).strip()
    return re.sub(r"\n{3,}", "\n\n", joined)


def text_to_html(text: str) -> str:
    """Our plain-text description as Shopify Body (HTML); ``html_to_text`` reads it back."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line.strip()) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


# --- one product's rows -------------------------------------------------------------


def _parse_money(
    row: _Row, column: str, currency: str, errors: list[RowError], handle: str, required: bool
) -> Decimal | None:
    raw = row.get(column)
    if not raw:
        if required:
            errors.append(RowError(row.line, column, f"{column} is required", handle))
        return None
    cleaned = raw.replace(",", "") if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+(\.\d+)?", raw) else raw
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        errors.append(RowError(row.line, column, f"{raw!r} is not a number", handle))
        return None
    if not value.is_finite():
        errors.append(RowError(row.line, column, f"{raw!r} is not a number", handle))
        return None
    if value < 0:
        errors.append(RowError(row.line, column, f"a price cannot be negative ({raw})", handle))
        return None
    if value > MAX_PRICE:
        errors.append(RowError(row.line, column, f"{raw} is above the largest price", handle))
        return None
    try:
        Money.from_decimal(value, currency)
    except MoneyError as exc:
        errors.append(RowError(row.line, column, str(exc), handle))
        return None
    return value.normalize() if value == value.to_integral_value() else value


def _parse_count(
    row: _Row, column: str, errors: list[RowError], handle: str, *, limit: int, what: str
) -> int | None:
    raw = row.get(column)
    if not raw:
        return None
    if not _WHOLE_DECIMAL.match(raw):
        errors.append(
            RowError(row.line, column, f"{what} must be a whole number, got {raw!r}", handle)
        )
        return None
    number = int(Decimal(raw))
    if number < 0:
        errors.append(RowError(row.line, column, f"{what} cannot be negative ({raw})", handle))
        return None
    if number > limit:
        errors.append(RowError(row.line, column, f"{what} above {limit:,}", handle))
        return None
    return number


def _is_variant_row(row: _Row) -> bool:
    return any(row.get(c) for c in VARIANT_COLUMNS)


_FIELD_COLUMN = {
    "handle": "Handle",
    "title": "Title",
    "description": "Body (HTML)",
    "category": "Product Category",
    "brand": "Vendor",
    "product_type": "Type",
    "tags": "Tags",
    "option_names": "Option1 Name",
    "status": "Status",
    "image_urls": "Image Src",
    "code": "Variant SKU",
    "price": "Variant Price",
    "compare_at": "Variant Compare At Price",
    "weight_grams": "Variant Grams",
    "barcode": "Variant Barcode",
    "stock": "Variant Inventory Qty",
    "option_values": "Option1 Value",
}


class _ProductBuilder:
    def __init__(
        self,
        rows: list[_Row],
        *,
        currency: str,
        categories: CategoryMap,
        seen_skus: dict[str, int],
    ) -> None:
        self.rows = rows
        self.first = rows[0]
        self.handle = self.first.get("Handle").lower()
        self.currency = currency
        self.categories = categories
        self.seen_skus = seen_skus
        self.errors: list[RowError] = []

    def error(self, row: _Row, column: str | None, message: str) -> None:
        self.errors.append(RowError(row.line, column, message, self.handle))

    def build(self) -> ParsedProduct:
        first = self.first
        parsed = ParsedProduct(self.handle, first.line, self.rows[-1].line)
        if not _HANDLE.match(self.handle) or len(self.handle) > 200:
            self.error(first, "Handle", "a handle is lower-case letters, digits and single hyphens")
        title = first.get("Title")
        if not title:
            self.error(first, "Title", "the first row of a product needs a Title")
        elif len(title) > 255:
            self.error(first, "Title", "Title is longer than 255 characters")
        category = self._category()
        status = self._status()
        option_names = self._option_names()
        tags = [t.strip() for t in first.get("Tags").split(",") if t.strip()]
        for tag in tags:
            if len(tag) > 60:
                self.error(first, "Tags", f"the tag {tag[:20]!r}… is longer than 60 characters")
        vendor = first.get("Vendor") or None
        product_type = first.get("Type") or None
        for value, label in ((vendor, "Vendor"), (product_type, "Type")):
            if value and len(value) > 120:
                self.error(first, label, f"{label} is longer than 120 characters")
        body = first.raw("Body (HTML)")
        if len(body) > MAX_FIELD * 5:
            self.error(first, "Body (HTML)", "Body (HTML) is too long")
            body = ""
        description = html_to_text(body)
        if len(description) > MAX_FIELD:
            self.error(
                first, "Body (HTML)", f"the description is longer than {MAX_FIELD:,} characters"
            )

        variants: list[dict[str, Any]] = []
        variant_lines: list[int] = []
        images: list[ParsedImage] = []
        combinations: dict[tuple[str, ...], int] = {}
        for index, row in enumerate(self.rows):
            if index > 0 and row.get("Title") and row.get("Title") != title:
                self.error(row, "Title", "only the first row of a product carries its Title")
            if _is_variant_row(row):
                variant = self._variant(row, option_names, len(variants))
                if variant is not None:
                    combo = tuple(variant["option_values"].get(n, "").lower() for n in option_names)
                    if combo in combinations:
                        self.error(
                            row,
                            "Option1 Value",
                            f"the same options as the variant on line {combinations[combo]}",
                        )
                    combinations[combo] = row.line
                    variants.append(variant)
                    variant_lines.append(row.line)
            elif not row.get("Image Src"):
                self.error(row, None, "the row has neither variant nor image data")
            image = self._image(row)
            if image is not None:
                images.append(image)
        if not variants and not self.errors:
            self.error(first, "Variant Price", "the product has no variant (no row with a price)")
        if len(variants) > MAX_VARIANTS:
            self.error(self.rows[-1], None, f"a product has at most {MAX_VARIANTS} variants")
        images.sort(key=lambda i: (i.position if i.position is not None else 10_000, i.line))
        urls: list[str] = []
        for image in images:
            if image.url not in urls:
                urls.append(image.url)
                parsed.image_alts[image.url] = image.alt
        if len(urls) > MAX_IMAGES:
            self.error(self.rows[-1], "Image Src", f"a product has at most {MAX_IMAGES} images")

        if option_names == [DEFAULT_OPTION_NAME] and all(
            v["option_values"].get(DEFAULT_OPTION_NAME) == DEFAULT_OPTION_VALUE for v in variants
        ):
            option_names = []
            for v in variants:
                v["option_values"] = {}

        if self.errors:
            parsed.errors = self.errors
            return parsed
        try:
            parsed.product = ProductInput(
                handle=self.handle,
                title=title,
                description=description,
                category=category or "",
                brand=vendor,
                product_type=product_type,
                tags=tags,
                option_names=option_names,
                status=status,
                variants=variants,
                image_urls=urls,
            )
        except ValidationError as exc:
            for err in exc.errors():
                loc = err.get("loc", ())
                line = first.line
                column: str | None = None
                if len(loc) >= 2 and loc[0] == "variants" and isinstance(loc[1], int):
                    line = variant_lines[loc[1]] if loc[1] < len(variant_lines) else line
                    column = _FIELD_COLUMN.get(str(loc[2])) if len(loc) > 2 else None
                elif loc:
                    column = _FIELD_COLUMN.get(str(loc[0]))
                message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
                self.errors.append(RowError(line, column, message, self.handle))
            parsed.errors = self.errors
        return parsed

    def _category(self) -> str | None:
        first = self.first
        raw = first.get("Product Category")
        column = "Product Category"
        if not raw:
            raw, column = first.get("Type"), "Type"
        if not raw:
            self.error(first, "Product Category", "a product needs a Product Category (or Type)")
            return None
        found = self.categories.resolve(raw)
        if found is None:
            self.error(first, column, f"unknown category {raw!r}")
            return None
        return found.path

    def _status(self) -> str:
        first = self.first
        raw = first.get("Status").lower()
        if raw:
            if raw not in ("active", "draft", "archived"):
                self.error(first, "Status", f"Status is active, draft or archived, not {raw!r}")
                return "draft"
            return raw
        published = first.get("Published").lower()
        if published not in ("", "true", "false", "yes", "no", "1", "0"):
            self.error(first, "Published", f"Published is TRUE or FALSE, not {published!r}")
        return "active" if published in ("true", "yes", "1") else "draft"

    def _option_names(self) -> list[str]:
        first = self.first
        names: list[str] = []
        for i in range(1, MAX_OPTIONS + 1):
            name = first.get(f"Option{i} Name")
            if name:
                if len(names) != i - 1:
                    self.error(
                        first, f"Option{i} Name", f"Option{i} Name given without Option{i - 1} Name"
                    )
                if name.lower() in (n.lower() for n in names):
                    self.error(first, f"Option{i} Name", f"the option {name!r} is named twice")
                if len(name) > 120:
                    self.error(
                        first, f"Option{i} Name", "an option name has at most 120 characters"
                    )
                names.append(name)
        return names

    def _variant(self, row: _Row, option_names: list[str], index: int) -> dict[str, Any] | None:
        before = len(self.errors)
        values: dict[str, str] = {}
        for i in range(1, MAX_OPTIONS + 1):
            value = row.get(f"Option{i} Value")
            if i <= len(option_names):
                if not value:
                    self.error(
                        row, f"Option{i} Value", f"a value for {option_names[i - 1]!r} is required"
                    )
                elif len(value) > 120:
                    self.error(
                        row, f"Option{i} Value", "an option value has at most 120 characters"
                    )
                else:
                    values[option_names[i - 1]] = value
            elif value:
                self.error(
                    row, f"Option{i} Value", f"Option{i} Value given without an Option{i} Name"
                )
        price = _parse_money(row, "Variant Price", self.currency, self.errors, self.handle, True)
        compare_at = _parse_money(
            row, "Variant Compare At Price", self.currency, self.errors, self.handle, False
        )
        grams = _parse_count(
            row, "Variant Grams", self.errors, self.handle, limit=MAX_GRAMS, what="weight"
        )
        raw_stock = row.get("Variant Inventory Qty")
        stock = None
        if raw_stock and not _INTEGER.match(raw_stock):
            self.error(
                row, "Variant Inventory Qty", f"inventory is a whole number, got {raw_stock!r}"
            )
        else:
            stock = _parse_count(
                row, "Variant Inventory Qty", self.errors, self.handle,
                limit=MAX_STOCK, what="inventory",
            )  # fmt: skip
        barcode = row.get("Variant Barcode") or None
        if barcode and len(barcode) > 40:
            self.error(row, "Variant Barcode", "a barcode has at most 40 characters")
        code = row.get("Variant SKU") or f"{self.handle}-{index + 1}"
        if len(code) > 100:
            self.error(row, "Variant SKU", "a SKU has at most 100 characters")
        previous = self.seen_skus.get(code.lower())
        if previous is not None:
            self.error(row, "Variant SKU", f"the SKU {code!r} is already used on line {previous}")
        else:
            self.seen_skus[code.lower()] = row.line
        if len(self.errors) > before or price is None:
            return None
        if compare_at is not None and compare_at == 0:
            compare_at = None
        if compare_at is not None and compare_at <= price:
            self.error(
                row, "Variant Compare At Price", "the compare-at price must be above the price"
            )
            return None
        return {
            "code": code,
            "option_values": values,
            "price": price,
            "compare_at": compare_at,
            "weight_grams": grams,
            "barcode": barcode,
            "stock": stock,
        }

    def _image(self, row: _Row) -> ParsedImage | None:
        url = row.get("Image Src")
        if not url:
            return None
        if not url.startswith(("https://", "http://")) or len(url) > 500:
            self.error(row, "Image Src", "Image Src is an http(s) URL of at most 500 characters")
            return None
        raw_position = row.get("Image Position")
        position = None
        if raw_position:
            if not raw_position.isdigit() or int(raw_position) < 1:
                self.error(
                    row, "Image Position", f"Image Position is 1, 2, 3…, not {raw_position!r}"
                )
            else:
                position = int(raw_position)
        alt = row.get("Image Alt Text")[:255]
        return ParsedImage(row.line, url, position, alt)


def parse(text: str, *, currency: str, categories: CategoryMap) -> ParseResult:
    """Every product in the file, each either valid (``.product``) or with its errors."""
    rows, file_errors = _read_rows(text)
    groups: list[list[_Row]] = []
    orphans: list[RowError] = list(file_errors)
    seen_handles: dict[str, int] = {}
    for row in rows:
        handle = row.get("Handle").lower()
        if not handle:
            orphans.append(RowError(row.line, "Handle", "the row has no Handle"))
            continue
        if groups and groups[-1][0].get("Handle").lower() == handle:
            groups[-1].append(row)
            continue
        if handle in seen_handles:
            orphans.append(
                RowError(
                    row.line,
                    "Handle",
                    f"rows of {handle!r} must be consecutive (it started on line "
                    f"{seen_handles[handle]})",
                    handle,
                )
            )
            continue
        seen_handles[handle] = row.line
        groups.append([row])
    seen_skus: dict[str, int] = {}
    products = [
        _ProductBuilder(g, currency=currency, categories=categories, seen_skus=seen_skus).build()
        for g in groups
    ]
    by_handle = {p.handle: p for p in products}
    stray: list[RowError] = []
    for err in orphans:
        owner = by_handle.get(err.handle or "")
        if owner is not None:
            owner.errors.append(err)
            owner.product = None
        else:
            stray.append(err)
    if stray:
        products.append(
            ParsedProduct("", stray[0].line, stray[-1].line, errors=sorted(stray, key=_by_line))
        )
    for product in products:
        product.errors.sort(key=_by_line)
    return ParseResult(products=products, rows=len(rows))


def _by_line(error: RowError) -> tuple[int, str]:
    return (error.line, error.column or "")


# --- writing ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExportVariant:
    code: str
    option_values: dict[str, str]
    price: Decimal
    compare_at: Decimal | None
    weight_grams: int | None
    barcode: str | None
    stock: int


@dataclass(frozen=True)
class ExportImage:
    url: str
    alt: str


@dataclass(frozen=True)
class ExportProduct:
    handle: str
    title: str
    description: str
    vendor: str | None
    category_label: str
    product_type: str | None
    tags: list[str]
    option_names: list[str]
    status: str
    variants: list[ExportVariant]
    images: list[ExportImage]


def _decimal_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value:f}"


def product_rows(product: ExportProduct) -> list[dict[str, str]]:
    """The rows of one product: product fields on the first, one variant and/or one
    image per row after that."""
    names = product.option_names or [DEFAULT_OPTION_NAME]
    rows: list[dict[str, str]] = []
    count = max(len(product.variants), len(product.images), 1)
    for i in range(count):
        row = dict.fromkeys(EXPORT_COLUMNS, "")
        row["Handle"] = product.handle
        if i == 0:
            row.update(
                {
                    "Title": product.title,
                    "Body (HTML)": text_to_html(product.description),
                    "Vendor": product.vendor or "",
                    "Product Category": product.category_label,
                    "Type": product.product_type or "",
                    "Tags": ", ".join(product.tags),
                    "Published": "TRUE" if product.status == "active" else "FALSE",
                    "Gift Card": "FALSE",
                    "Status": product.status,
                }
            )
            for n, name in enumerate(names, start=1):
                row[f"Option{n} Name"] = name
        if i < len(product.variants):
            variant = product.variants[i]
            for n, name in enumerate(names, start=1):
                row[f"Option{n} Value"] = (
                    variant.option_values.get(name, "")
                    if product.option_names
                    else DEFAULT_OPTION_VALUE
                )
            row.update(
                {
                    "Variant SKU": variant.code,
                    "Variant Grams": ""
                    if variant.weight_grams is None
                    else str(variant.weight_grams),
                    "Variant Inventory Tracker": "shopify",
                    "Variant Inventory Qty": str(variant.stock),
                    "Variant Inventory Policy": "deny",
                    "Variant Fulfillment Service": "manual",
                    "Variant Price": _decimal_text(variant.price),
                    "Variant Compare At Price": _decimal_text(variant.compare_at),
                    "Variant Requires Shipping": "TRUE",
                    "Variant Taxable": "TRUE",
                    "Variant Barcode": variant.barcode or "",
                    "Variant Weight Unit": "g",
                }
            )
        if i < len(product.images):
            image = product.images[i]
            row["Image Src"] = image.url
            row["Image Position"] = str(i + 1)
            row["Image Alt Text"] = image.alt
        rows.append(row)
    return rows


class _Line:
    """A file-like that hands back what csv.writer wrote, one line at a time."""

    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> int:
        self.value += text
        return len(text)

    def take(self) -> str:
        value, self.value = self.value, ""
        return value


def write_csv(products: Iterable[ExportProduct]) -> Iterator[str]:
    """The CSV text in pieces (header first), for streaming."""
    buffer = _Line()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    yield buffer.take()
    for product in products:
        for row in product_rows(product):
            writer.writerow(_defuse_row(row))
        yield buffer.take()


def _defuse_row(row: dict[str, str]) -> dict[str, str]:
    """Free-text cells a spreadsheet would run as a formula get a leading apostrophe
    (reading strips it again, so the export still round-trips)."""
    for column in FREE_TEXT_COLUMNS:
        value = row.get(column, "")
        if value.startswith(_FORMULA_START):
            row[column] = "'" + value
    return row


__all__ = [
    "EXPORT_COLUMNS",
    "CategoryMap",
    "CategoryRef",
    "CsvFileError",
    "ExportImage",
    "ExportProduct",
    "ExportVariant",
    "ParseResult",
    "ParsedProduct",
    "RowError",
    "check_header",
    "decode_upload",
    "html_to_text",
    "parse",
    "product_rows",
    "text_to_html",
    "write_csv",
]
