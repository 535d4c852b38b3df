"""Catalog speed: barcode lookup, search, label PDFs and CSV import at shop-chain scale.

    python -m config.database run -- .venv/bin/python bench/catalog.py [--json]

Builds (once) a scratch database with 50,000 master products and a store selling 5,000 of
them. Every figure is also given as a ratio to a baseline measured in the same run: a lookup of
the same row by primary key for the lookups and searches, one label sheet for the PDFs, and a
10,000-row import for the 100,000-row one (memory should stay flat, throughput steady).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, p, report, timed

PRODUCTS = 50_000
ASSORTMENT = 5_000


def _setup() -> None:
    from config.database import url_with

    os.environ["DATABASE_URL"] = url_with(os.environ["DATABASE_URL"], database="lingshou_bench")
    django_setup("config.settings.test")
    from django.test.utils import setup_databases

    setup_databases(verbosity=0, interactive=False, keepdb=True)


def _data() -> tuple[object, object]:
    """The bench wholesaler's merchant and store, creating 50,000 products the first time."""
    from catalog.models import Barcode, BarcodeKind, Product, StoreProduct
    from demo.products import product_specs_bulk
    from merchants.models import Merchant, Store, Wholesaler
    from merchants.tenancy import merchant_context, platform_access

    with platform_access(reason="bench: catalog data", actor="bench"):
        wholesaler, _ = Wholesaler.objects.get_or_create(slug="bench-catalog", defaults={"name": "Bench catalog"})
        merchant, _ = Merchant.objects.get_or_create(
            slug="bench-catalog", defaults={"name": "Bench", "wholesaler": wholesaler}
        )
        store, _ = Store.objects.get_or_create(merchant=merchant, name="Bench store", defaults={"code": "BENCHCAT"})
        if Product.objects.filter(wholesaler=wholesaler).count() < PRODUCTS:
            Product.objects.filter(wholesaler=wholesaler).delete()
            batch: list[Product] = []
            barcodes: list[tuple[int, str, int]] = []
            for index, spec in enumerate(product_specs_bulk(count=PRODUCTS, seed=3)):
                batch.append(
                    Product(
                        wholesaler=wholesaler, gtin=spec.gtin, name=spec.name, brand=spec.brand, unit_size=spec.unit_size,
                        case_pack=spec.case_pack, wholesale_cost=spec.wholesale_cost, suggested_retail_price=spec.suggested_retail_price,
                    )
                )  # fmt: skip
                if spec.case_gtin:
                    barcodes.append((index, spec.case_gtin, spec.case_pack))
            saved = Product.objects.bulk_create(batch, batch_size=5000)
            Barcode.objects.bulk_create(
                (
                    Barcode(wholesaler=wholesaler, product=saved[i], code=code, kind=BarcodeKind.CASE, quantity=q)
                    for i, code, q in barcodes
                ),
                batch_size=5000,
            )
            rng = random.Random(5)
            with merchant_context(merchant.pk):
                StoreProduct.objects.filter(store=store).delete()
                StoreProduct.objects.bulk_create(
                    (
                        StoreProduct(merchant=merchant, store=store, product=p, price=p.suggested_retail_price)
                        for p in rng.sample(saved, ASSORTMENT)
                    ),
                    batch_size=5000,
                )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_product; ANALYZE catalog_barcode; ANALYZE catalog_storeproduct")
    return merchant, store


def _lookups(merchant: object, store: object, repeat: int) -> list[dict[str, object]]:
    from catalog.models import Barcode, StoreProduct
    from catalog.selectors import assortment_search, store_product_by_code
    from merchants.tenancy import merchant_context

    with merchant_context(merchant.pk):  # type: ignore[arg-type]
        items = list(StoreProduct.objects.filter(store=store).select_related("product").order_by("?")[:repeat])
        codes = [i.product.gtin[1:] for i in items]  # scanned as EAN-13  # type: ignore[union-attr]
        case_codes = dict(
            Barcode.objects.filter(product_id__in=[i.product_id for i in items]).values_list("product_id", "code")
        )
        rng = random.Random(9)

        def typo(name: str) -> str:
            words = name.split()[:3]
            word = rng.randrange(len(words))
            w = words[word]
            if len(w) > 4:
                cut = rng.randrange(1, len(w) - 1)
                words[word] = w[:cut] + w[cut + 1 :]  # one letter dropped
            return " ".join(words).lower()

        queries = [typo(i.product.name) for i in items]  # type: ignore[union-attr]
        pk_iter = iter(items * 2)
        code_iter = iter(codes * 2)
        case_iter = iter([case_codes.get(i.product_id, i.product.gtin) for i in items] * 2)  # type: ignore[union-attr]
        query_iter = iter(queries * 2)

        baseline = timed(lambda: StoreProduct.objects.select_related("product").get(pk=next(pk_iter).pk), repeat=repeat)
        scan = timed(lambda: store_product_by_code(store=store, code=next(code_iter)), repeat=repeat)  # type: ignore[arg-type]
        case = timed(lambda: store_product_by_code(store=store, code=next(case_iter)), repeat=repeat)  # type: ignore[arg-type]
        hits = 0

        def search() -> None:
            nonlocal hits
            query = next(query_iter)
            found = assortment_search(store=store, query=query, limit=20)  # type: ignore[arg-type]
            hits += bool(found)

        searched = timed(search, repeat=repeat)
    base95 = p(baseline, 95)
    rows = []
    for name, samples, target in (
        ("barcode lookup (EAN-13)", scan, "p95 < 5 ms"),
        ("barcode lookup (case code)", case, "p95 < 5 ms"),
        ("typo search in assortment", searched, "p95 < 50 ms"),
    ):
        rows.append(
            {"case": name, "p50_ms": round(p(samples, 50), 2), "p95_ms": round(p(samples, 95), 2),
             "baseline_p95_ms": round(base95, 2), "ratio_p95": round(p(samples, 95) / base95, 1), "target": target}
        )  # fmt: skip
    rows[-1]["target"] += f", found {hits}/{repeat}"
    return rows


def _labels() -> list[dict[str, object]]:
    from catalog.labels import LabelItem, labels_pdf

    items = [
        LabelItem(
            name=f"Produkt {n} Würzig mit langem Namen", brand="Quellwerk", unit_size="0.5 l", price_text="2,49 €",
            unit_price_text="4,98 €/l", url=f"https://lingshou.example/s/BENCHCAT/p/{4000000000000 + n}/",
            code_text=str(4000000000000 + n), is_age_restricted=n % 10 == 0,
        )
        for n in range(1000)
    ]  # fmt: skip
    started = time.perf_counter()
    labels_pdf(items=items[:24], store_name="Bench")
    one_sheet = time.perf_counter() - started
    started = time.perf_counter()
    pdf = labels_pdf(items=items, store_name="Bench")
    thousand = time.perf_counter() - started
    return [
        {"case": "1,000 labels to PDF", "seconds": round(thousand, 2), "baseline_one_sheet_s": round(one_sheet, 3),
         "ratio": round(thousand / one_sheet, 1), "pdf_kb": len(pdf) // 1024, "target": "< 10 s"}
    ]  # fmt: skip


def _import_child(rows: int) -> None:
    """Run in a fresh process: write a CSV of ``rows`` products, import it, print time and peak memory."""
    _setup()
    from catalog.csv_io import CATALOG_COLUMNS, catalog_import
    from catalog.models import Product
    from demo.products import product_specs_bulk
    from merchants.models import Wholesaler

    wholesaler, _ = Wholesaler.objects.get_or_create(slug=f"bench-import-{rows}", defaults={"name": "Bench import"})
    Product.objects.filter(wholesaler=wholesaler).delete()
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CATALOG_COLUMNS)
        for spec in product_specs_bulk(count=rows, seed=17):
            writer.writerow(
                [spec.gtin, spec.name, spec.brand, spec.category_path, spec.unit_size, spec.content_amount or "", spec.content_unit,
                 spec.case_pack, f"{spec.wholesale_cost / 100:.2f}", f"{spec.suggested_retail_price / 100:.2f}",
                 "yes" if spec.is_age_restricted else "no", spec.minimum_age or "", spec.tax_class, "yes",
                 f"{spec.case_gtin}:case:{spec.case_pack}" if spec.case_gtin else ""]
            )  # fmt: skip
        path = handle.name
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = catalog_import(wholesaler=wholesaler, open_file=lambda: open(path, encoding="utf-8", newline=""))  # noqa: SIM115
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    os.unlink(path)
    Product.objects.filter(wholesaler=wholesaler).delete()
    print(json.dumps({"rows": rows, "ok": result.ok, "seconds": result.seconds, "rows_per_s": result.rows_per_second,
                      "peak_rss_mb": rss_after / 1024, "import_rss_growth_mb": (rss_after - rss_before) / 1024}))  # fmt: skip


def _imports() -> list[dict[str, object]]:
    results = {}
    for rows in (10_000, 100_000):
        out = subprocess.run(
            [sys.executable, __file__, "--import-child", str(rows)], capture_output=True, text=True, check=True
        ).stdout
        results[rows] = json.loads(out.strip().splitlines()[-1])
    small, large = results[10_000], results[100_000]
    return [
        {"case": f"import {rows:,} rows", "ok": r["ok"], "seconds": round(r["seconds"], 1), "rows_per_s": round(r["rows_per_s"]),
         "peak_rss_mb": round(r["peak_rss_mb"]), "rss_growth_mb": round(r["import_rss_growth_mb"], 1),
         "ratio_rss_vs_10k": round(r["peak_rss_mb"] / small["peak_rss_mb"], 2),
         "ratio_throughput_vs_10k": round(r["rows_per_s"] / small["rows_per_s"], 2)}
        for rows, r in ((10_000, small), (100_000, large))
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--import-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_child:
        _import_child(args.import_child)
        return
    _setup()
    merchant, store = _data()
    rows = _lookups(merchant, store, args.repeat)
    rows += _labels()
    if not args.skip_import:
        rows += _imports()
    if args.json:
        print(json.dumps({"bench": "catalog", "products": PRODUCTS, "assortment": ASSORTMENT, "rows": rows}))
        return
    for row in rows:
        report(str(row.pop("case")), [row], as_json=False)
        print()


if __name__ == "__main__":
    main()
