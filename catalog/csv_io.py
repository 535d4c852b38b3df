"""CSV import and export of the master catalog and of a store's assortment.

Imports are all-or-nothing: every row is validated first (streamed, so a 100,000-row file needs
no more memory than a small one, apart from the set of codes seen), and only a file without a
single bad row is applied, in one transaction. The report names row, column and reason.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog import gtin
from catalog.models import Barcode, BarcodeKind, Category, ContentUnit, PriceChange, Product, StoreProduct, TaxClass
from catalog.services.costs import average_cost_initial
from core.exports import CsvLines
from core.inputs import column_range, text_clean, whole_number
from core.money import AmountError, parse_amount, to_decimal
from merchants.models import Merchant, Store, Wholesaler
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_ERRORS = 200  # a report lists this many problems, then counts the rest
BATCH = 2000
THRESHOLD_MAX = column_range(StoreProduct, "low_stock_threshold")[1]
_BARCODE_QUANTITY_MAX = column_range(Barcode, "quantity")[1]

CATALOG_COLUMNS = [
    "gtin", "name", "brand", "category", "unit_size", "content_amount", "content_unit", "case_pack",
    "wholesale_cost", "suggested_retail_price", "age_restricted", "minimum_age", "tax_class", "active", "barcodes",
]  # fmt: skip
ASSORTMENT_COLUMNS = ["code", "name", "price", "shelf_location", "active", "low_stock_threshold", "on_hand"]
_TRUE = {"1", "true", "yes", "y", "ja"}
_FALSE = {"0", "false", "no", "n", "nein", ""}


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = the first data row after the header
    column: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    applied: int = 0
    errors: list[RowError] = field(default_factory=list)
    more_errors: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def add(self, row: int, column: str, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, reason))
        else:
            self.more_errors += 1


def _boolean(value: str) -> bool | None:
    value = value.strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _reader(lines: Iterable[str], required: list[str], report: ImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        report.add(0, "", f"The header is not valid CSV ({error}).")
        return
    missing = [c for c in required if c not in header]
    if missing:
        report.add(0, ",".join(missing), "Missing column(s); the header must name: " + ", ".join(required) + ".")
        return
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if None in row:
                report.add(number, "", "More fields than the header has.")
                continue
            yield number, {k: text_clean(v or "").strip() for k, v in row.items()}
    except csv.Error as error:
        # A file read from an open handle was not checked by csv_text: csv's own limits end the reading.
        report.add(number + 1, "", f"The file is not valid CSV here ({error}).")


# Master catalog (the wholesaler's admin) ----------------------------------------------------


@dataclass(frozen=True)
class _ProductRow:
    values: dict[str, Any]
    category: str
    barcodes: list[tuple[str, str, int]]


def _catalog_row(number: int, row: dict[str, str], wholesaler: Wholesaler, report: ImportReport) -> _ProductRow | None:
    before = len(report.errors) + report.more_errors
    values: dict[str, Any] = {}
    try:
        values["gtin"] = gtin.normalize(row["gtin"])
    except gtin.GtinError as error:
        report.add(number, "gtin", str(error))
    if not row["name"]:
        report.add(number, "name", "A product needs a name.")
    values["name"] = row["name"][:200]
    values["brand"] = row.get("brand", "")[:100]
    values["unit_size"] = row.get("unit_size", "")[:50]
    amount = row.get("content_amount", "")
    if amount:
        try:
            values["content_amount"] = Decimal(amount.replace(",", "."))
            if values["content_amount"] <= 0:
                raise InvalidOperation
        except InvalidOperation:
            report.add(number, "content_amount", f"{amount!r} is not a positive number.")
    else:
        values["content_amount"] = None
    unit = row.get("content_unit", "") or ContentUnit.PIECE
    if unit not in ContentUnit.values:
        report.add(number, "content_unit", f"Use one of: {', '.join(ContentUnit.values)}.")
    values["content_unit"] = unit
    try:
        values["case_pack"] = whole_number(
            row.get("case_pack") or "1", label="Units per case", low=1, high=column_range(Product, "case_pack")[1]
        )
    except ValidationError as error:
        report.add(number, "case_pack", error.messages[0])
    for column in ("wholesale_cost", "suggested_retail_price"):
        try:
            values[column] = parse_amount(row.get(column) or "0", wholesaler.currency)
        except AmountError as error:
            report.add(number, column, str(error))
    restricted = _boolean(row.get("age_restricted", ""))
    if restricted is None:
        report.add(number, "age_restricted", "Use yes or no.")
    values["is_age_restricted"] = bool(restricted)
    age = row.get("minimum_age", "")
    values["minimum_age"] = None
    if age:
        try:
            values["minimum_age"] = whole_number(age, label="Minimum age", low=0, high=150)
        except ValidationError:
            report.add(number, "minimum_age", "An age is a whole number, e.g. 18.")
    if restricted and values["minimum_age"] is None:
        report.add(number, "minimum_age", "Give the minimum age of an age-restricted product.")
    tax = row.get("tax_class", "") or TaxClass.STANDARD
    if tax not in TaxClass.values:
        report.add(number, "tax_class", f"Use one of: {', '.join(TaxClass.values)}.")
    values["tax_class"] = tax
    active = _boolean(row.get("active", "yes") or "yes")
    if active is None:
        report.add(number, "active", "Use yes or no.")
    values["is_active"] = bool(active)
    barcodes: list[tuple[str, str, int]] = []
    for part in filter(None, row.get("barcodes", "").split("|")):
        pieces = part.split(":")
        try:
            code = gtin.normalize(pieces[0])
            kind = pieces[1] if len(pieces) > 1 else BarcodeKind.UNIT
            quantity = (
                whole_number(pieces[2], label="Quantity", low=1, high=_BARCODE_QUANTITY_MAX) if len(pieces) > 2 else 1
            )
            if kind not in BarcodeKind.values:
                raise ValueError
            barcodes.append((code, kind, quantity))
        except gtin.GtinError as error:
            report.add(number, "barcodes", f"{pieces[0]}: {error}")
        except (ValueError, IndexError, ValidationError):
            report.add(number, "barcodes", f"{part!r}: write code:kind:quantity, e.g. 14012345000013:case:24.")
    if len(report.errors) + report.more_errors > before:
        return None
    return _ProductRow(values, row.get("category", "").strip("/").lower(), barcodes)


def catalog_import(*, wholesaler: Wholesaler, open_file: Callable[[], IO[str]]) -> ImportReport:
    """Import the wholesaler's master catalog: creates and updates products by GTIN.

    ``open_file`` opens the CSV afresh: it is read once to validate and, only if every row is
    valid, a second time to apply. Atomic; idempotent (importing a file twice changes nothing more).
    """
    report = ImportReport()
    started = time.perf_counter()
    seen: set[str] = set()
    # Every code already in use, and which product's GTIN owns it (a GTIN owns itself).
    existing_codes = dict(Barcode.objects.filter(wholesaler=wholesaler).values_list("code", "product__gtin"))
    existing_codes.update(
        (g, g) for g in Product.objects.filter(wholesaler=wholesaler).values_list("gtin", flat=True).iterator()
    )
    with open_file() as handle:
        for number, row in _reader(handle, ["gtin", "name"], report):
            report.rows = number
            parsed = _catalog_row(number, row, wholesaler, report)
            if parsed is None:
                continue
            codes = [parsed.values["gtin"], *(code for code, _kind, _q in parsed.barcodes)]
            for code in codes:
                if code in seen:
                    report.add(
                        number,
                        "gtin" if code == codes[0] else "barcodes",
                        f"{gtin.display(code)} appears twice in the file.",
                    )
                elif existing_codes.get(code, parsed.values["gtin"]) != parsed.values["gtin"]:
                    report.add(
                        number,
                        "barcodes",
                        f"{gtin.display(code)} already belongs to product {gtin.display(existing_codes[code])}.",
                    )
                seen.add(code)
    if not report.ok:
        report.seconds = time.perf_counter() - started
        return report
    seen.clear()
    with transaction.atomic(), open_file() as handle:
        categories = {c.path: c for c in Category.objects.filter(wholesaler=wholesaler)}
        batch: list[_ProductRow] = []
        for number, row in _reader(handle, ["gtin", "name"], report):
            parsed = _catalog_row(number, row, wholesaler, report)
            assert parsed is not None  # validated above
            batch.append(parsed)
            if len(batch) >= BATCH:
                report.applied += _catalog_apply(wholesaler, batch, categories)
                batch = []
        report.applied += _catalog_apply(wholesaler, batch, categories)
    report.seconds = time.perf_counter() - started
    return report


def _category(wholesaler: Wholesaler, path: str, categories: dict[str, Category]) -> Category | None:
    if not path:
        return None
    if path not in categories:
        parent_path, _, name = path.rpartition("/")
        parent = _category(wholesaler, parent_path, categories) if parent_path else None
        categories[path] = Category.objects.create(
            wholesaler=wholesaler, parent=parent, path=path, name=name.replace("-", " ").capitalize()
        )
    return categories[path]


def _catalog_apply(wholesaler: Wholesaler, batch: list[_ProductRow], categories: dict[str, Category]) -> int:
    if not batch:
        return 0
    products = [
        Product(wholesaler=wholesaler, category=_category(wholesaler, row.category, categories), **row.values)
        for row in batch
    ]
    fields = [f for f in batch[0].values if f != "gtin"] + ["category"]
    saved = Product.objects.bulk_create(
        products, update_conflicts=True, unique_fields=["wholesaler", "gtin"], update_fields=fields
    )
    by_gtin = {p.gtin: p for p in saved}
    barcodes = [
        Barcode(wholesaler=wholesaler, product=by_gtin[row.values["gtin"]], code=code, kind=kind, quantity=quantity)
        for row in batch
        for code, kind, quantity in row.barcodes
    ]
    Barcode.objects.bulk_create(
        barcodes,
        update_conflicts=True,
        unique_fields=["wholesaler", "code"],
        update_fields=["product", "kind", "quantity"],
    )
    return len(batch)


# A store's assortment (the owner's dashboard) -------------------------------------------------


def assortment_rows(*, store: Store) -> Iterator[str]:
    """The store's assortment as CSV lines, streamed; reads inside the store's merchant context."""

    writer = CsvLines()
    yield writer.row(ASSORTMENT_COLUMNS)
    with merchant_context(store.merchant_id):
        items = StoreProduct.objects.for_store(store).select_related("product").order_by("pk").iterator(chunk_size=2000)
        for item in items:
            price = to_decimal(item.price, store.currency)
            yield writer.row(
                [
                    gtin.display(item.product.gtin) if item.product else item.lookup_code,
                    item.name,
                    f"{price:f}",
                    item.shelf_location,
                    "yes" if item.is_active else "no",
                    "" if item.low_stock_threshold is None else item.low_stock_threshold,
                    item.on_hand,
                ]
            )


def assortment_import(
    *, merchant: Merchant, store: Store, lines: Iterable[str], changed_by: User | None = None
) -> ImportReport:
    """Update prices, shelves, status and thresholds of a store from CSV; adds master products it names.

    ``on_hand`` and ``name`` are ignored on import (stock moves only through the ledger).
    All rows are validated first; nothing is written unless all are valid. Atomic.
    """
    report = ImportReport()
    started = time.perf_counter()
    with merchant_context(merchant.pk):
        current = {
            (item.product.gtin if item.product else item.lookup_code): item
            for item in StoreProduct.objects.for_merchant(merchant).filter(store=store).select_related("product")
        }
        catalog_products: dict[str, Product] = {}
        planned: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        for number, row in _reader(lines, ["code", "price"], report):
            report.rows = number
            code = row["code"]
            key = code if code.startswith("L") else None
            if key is None:
                try:
                    key = gtin.normalize(code)
                except gtin.GtinError as error:
                    report.add(number, "code", str(error))
                    continue
            if key in seen:
                report.add(number, "code", f"{code} appears twice in the file.")
                continue
            seen.add(key)
            if key not in current:
                product = (
                    Product.objects.for_merchant(merchant)
                    .active()
                    .select_related("wholesaler")
                    .filter(gtin=key)
                    .first()
                )
                if product is None:
                    report.add(number, "code", f"{code} is neither in this store nor in your wholesaler's catalog.")
                    continue
                catalog_products[key] = product
            change: dict[str, Any] = {}
            try:
                change["price"] = parse_amount(row["price"], store.currency)
            except AmountError as error:
                report.add(number, "price", str(error))
            active = _boolean(row.get("active", "yes") or "yes")
            if active is None:
                report.add(number, "active", "Use yes or no.")
            change["is_active"] = bool(active)
            change["shelf_location"] = row.get("shelf_location", "")[:50]
            threshold = row.get("low_stock_threshold", "")
            change["low_stock_threshold"] = None
            if threshold:
                try:
                    change["low_stock_threshold"] = whole_number(
                        threshold, label="Low stock threshold", low=0, high=THRESHOLD_MAX
                    )
                except ValidationError as error:
                    report.add(number, "low_stock_threshold", error.messages[0])
            planned.append((key, change))
        if not report.ok:
            report.seconds = time.perf_counter() - started
            return report
        with transaction.atomic():
            for key, change in planned:
                item = current.get(key)
                if item is None:
                    product = catalog_products[key]
                    item = StoreProduct.objects.create(
                        merchant=merchant,
                        store=store,
                        product=product,
                        average_cost=average_cost_initial(product=product, store=store),
                        **change,
                    )
                    PriceChange.objects.create(
                        merchant=merchant,
                        store_product=item,
                        old_price=None,
                        new_price=item.price,
                        changed_by=changed_by,
                    )
                else:
                    if item.price != change["price"]:
                        PriceChange.objects.create(
                            merchant=merchant,
                            store_product=item,
                            old_price=item.price,
                            new_price=change["price"],
                            changed_by=changed_by,
                        )
                    for name, value in change.items():
                        setattr(item, name, value)
                    item.save(update_fields=list(change))
                report.applied += 1
    report.seconds = time.perf_counter() - started
    return report
