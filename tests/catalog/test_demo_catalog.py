"""The demo catalog: valid unique barcodes, German prices, taxes and ages, fronts a camera tells apart."""

from __future__ import annotations

import collections
import hashlib
import itertools
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from catalog import gtin
from demo.data.catalog import VAT_RATES, ProductSpec
from demo.images import product_image
from demo.products import product_specs, product_specs_bulk

ROOT = Path(__file__).resolve().parents[2]

SUBCATEGORIES = {
    "drinks": {"soft-drinks", "water", "juice", "energy-drinks", "beer", "wine", "spirits", "coffee"},
    "snacks": {"chips", "chocolate", "candy", "nuts", "cookies"},
    "dairy": {"milk", "yogurt", "cheese", "butter"},
    "bread": {"bread", "pastries"},
    "tobacco": {"cigarettes", "rolling-tobacco", "e-cigarettes", "accessories"},
    "household": {"batteries", "tissues", "cleaning", "toilet-paper"},
    "personal-care": {"oral-care", "body-care", "hygiene"},
    "frozen": {"ice-cream"},
}
# German youth protection (JuSchG §9, §10); every other category sells to anyone.
MINIMUM_AGES = {
    "drinks/beer": 16,
    "drinks/wine": 16,
    "drinks/spirits": 18,
    "tobacco/cigarettes": 18,
    "tobacco/rolling-tobacco": 18,
    "tobacco/e-cigarettes": 18,
}
THIN_MARGIN_PATHS = {"tobacco/cigarettes", "tobacco/rolling-tobacco"}
PLANT_DRINKS = ("Haferdrink", "Sojadrink", "Mandeldrink")
TAMPONS_AND_LINERS = ("Tampons", "Slipeinlagen")


@pytest.fixture(scope="module")
def specs() -> list[ProductSpec]:
    return product_specs()


@pytest.fixture(scope="module")
def bulk() -> list[ProductSpec]:
    # Its speed is measured by bench/catalog.py, not asserted here.
    return list(product_specs_bulk(count=50_000))


def _codes(items: list[ProductSpec]) -> list[str]:
    return [code for s in items for code in (s.gtin, s.multipack_gtin, s.case_gtin) if code is not None]


def _digest(items: list[ProductSpec]) -> str:
    return hashlib.sha256(repr(items).encode()).hexdigest()


# --- barcodes ---------------------------------------------------------------------------------


def test_every_barcode_is_a_valid_unique_14_digit_gtin(specs: list[ProductSpec]) -> None:
    codes = _codes(specs)
    assert len(codes) == len(set(codes))
    assert all(len(code) == 14 and gtin.is_valid(code) for code in codes)
    assert len({s.gtin for s in specs}) == len(specs) == 320


def test_unit_and_multipack_codes_carry_german_prefixes(specs: list[ProductSpec]) -> None:
    for spec in specs:
        for code in (spec.gtin, spec.multipack_gtin):
            if code is not None:
                assert code.startswith("0")
                assert 400 <= int(code[1:4]) <= 440, code


def test_a_case_code_is_the_unit_body_behind_indicator_1(specs: list[ProductSpec]) -> None:
    for spec in specs:
        assert spec.case_gtin == gtin.make("1" + spec.gtin[1:13])
        assert (spec.multipack_gtin is None) == (spec.multipack_quantity is None)
        if spec.multipack_quantity is not None:
            assert spec.multipack_quantity in (4, 5, 6)
    assert sum(1 for s in specs if s.multipack_gtin) >= 10


# --- determinism and coverage ---------------------------------------------------------------


def test_the_same_seed_gives_the_same_catalog_and_another_seed_another(specs: list[ProductSpec]) -> None:
    assert product_specs(seed=7) == specs
    other = product_specs(seed=8)
    assert other != specs
    assert len(other) == 320


def test_the_catalog_is_the_same_in_another_process(specs: list[ProductSpec]) -> None:
    # String hashing is salted per process: nothing may depend on set order or hash().
    script = (
        "import hashlib; from demo.products import product_specs; "
        "print(hashlib.sha256(repr(product_specs()).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == _digest(specs)


def test_the_assortment_covers_every_category(specs: list[ProductSpec]) -> None:
    found: dict[str, set[str]] = collections.defaultdict(set)
    for spec in specs:
        top, sub = spec.category_path.split("/")
        found[top].add(sub)
        assert len(spec.category_names) == 2
        assert all(spec.category_names)
    assert found == SUBCATEGORIES
    per_top = collections.Counter(s.category_path.split("/")[0] for s in specs)
    assert per_top["drinks"] >= 100
    assert min(per_top.values()) >= 10


def test_products_are_distinct_and_named_by_brand(specs: list[ProductSpec]) -> None:
    assert len({(s.name, s.unit_size) for s in specs}) == len(specs)
    assert all(s.name.startswith(s.brand + " ") for s in specs)


def test_a_smaller_catalog_keeps_its_size_and_a_too_large_one_is_refused() -> None:
    assert len(product_specs(count=40)) == 40
    assert product_specs(count=0) == []
    with pytest.raises(ValueError, match="product_specs_bulk"):
        product_specs(count=5_000)


def test_no_real_trademark_is_used(specs: list[ProductSpec]) -> None:
    real = ("coca", "pepsi", "fanta", "haribo", "marlboro", "spreequell", "club-mate", "red bull", "milka",
            "ritter", "nivea", "tempo", "zewa", "varta", "langnese", "sternburg", "gerolsteiner")  # fmt: skip
    text = " ".join(f"{s.brand} {s.name}".lower() for s in specs)
    assert [word for word in real if word in text] == []


# --- numbers a shop owner sees --------------------------------------------------------------


def test_case_packs_and_prices_are_plausible(specs: list[ProductSpec]) -> None:
    for spec in specs:
        assert spec.case_pack >= 1
        assert 0 < spec.wholesale_cost < spec.suggested_retail_price
        assert 19 <= spec.suggested_retail_price <= 3_000
        net = Decimal(spec.suggested_retail_price) / (1 + VAT_RATES[spec.tax_class])
        margin = (net - spec.wholesale_cost) / net
        low, high = (
            (Decimal("0.06"), Decimal("0.12"))
            if spec.category_path in THIN_MARGIN_PATHS
            else (Decimal("0.25"), Decimal("0.46"))
        )
        assert low <= margin <= high, (spec.name, margin)
    ending_in_9 = sum(1 for s in specs if s.suggested_retail_price % 10 == 9)
    assert ending_in_9 / len(specs) >= 0.8


def test_typical_case_packs(specs: list[ProductSpec]) -> None:
    cans = [s for s in specs if s.package == "can" and s.unit_size == "0.33 l"]
    assert cans
    assert {s.case_pack for s in cans} == {24}
    assert {s.case_pack for s in specs if s.category_path == "tobacco/cigarettes"} == {10}
    assert {s.case_pack for s in specs if s.unit_size == "1.5 l"} == {6}


def test_content_amount_matches_the_printed_size(specs: list[ProductSpec]) -> None:
    to_unit = {"l": ("l", 1), "ml": ("l", 1000), "g": ("kg", 1000), "pcs": ("piece", 1), "pc": ("piece", 1),
               "rolls": ("piece", 1)}  # fmt: skip
    for spec in specs:
        count, _, single = spec.unit_size.rpartition(" × ")
        number, unit = single.split(" ")
        content_unit, divisor = to_unit[unit]
        assert spec.content_unit == content_unit
        assert spec.content_amount == Decimal(number) * Decimal(count or 1) / divisor
    assert next(s for s in specs if s.unit_size == "10 × 10 pcs").content_amount == Decimal(100)


def test_age_restrictions_follow_german_law(specs: list[ProductSpec]) -> None:
    for spec in specs:
        age = MINIMUM_AGES.get(spec.category_path)
        assert spec.minimum_age == age, spec.name
        assert spec.is_age_restricted is (age is not None)
    paths = {s.category_path for s in specs if s.is_age_restricted}
    assert paths == set(MINIMUM_AGES)


def test_tax_classes_follow_german_vat(specs: list[ProductSpec]) -> None:
    for spec in specs:
        top = spec.category_path.split("/")[0]
        if top in ("snacks", "bread", "frozen"):
            expected = "reduced"
        elif top == "dairy":
            expected = "standard" if spec.name.split(" ", 1)[1].startswith(PLANT_DRINKS) else "reduced"
        elif spec.category_path == "drinks/coffee":  # roasted coffee and milk coffee drinks are food
            expected = "reduced"
        elif spec.category_path == "personal-care/hygiene":
            expected = "reduced" if any(word in spec.name for word in TAMPONS_AND_LINERS) else "standard"
        else:  # soft drinks, water, juice, alcohol, tobacco, household, body care
            expected = "standard"
        assert spec.tax_class == expected, spec.name


# --- bulk -----------------------------------------------------------------------------------


def test_bulk_yields_50000_products_with_unique_valid_codes(bulk: list[ProductSpec]) -> None:
    items = bulk
    assert len(items) == 50_000
    codes = _codes(items)
    assert len(codes) == len(set(codes))
    assert all(gtin.is_valid(code) for code in codes)
    assert {s.category_path.split("/")[0] for s in items} == set(SUBCATEGORIES)


def test_bulk_and_demo_codes_never_collide(specs: list[ProductSpec], bulk: list[ProductSpec]) -> None:
    assert set(_codes(specs)).isdisjoint(_codes(bulk))


def test_bulk_names_are_combinatorial_and_distinct(bulk: list[ProductSpec]) -> None:
    items = bulk
    assert len({(s.name, s.unit_size) for s in items}) == len(items)
    assert all(len(s.name.split()) >= 3 and s.name.startswith(s.brand + " ") for s in items)
    # Shared words make text search realistic: many products match "Pils" or "Bio".
    words = collections.Counter(word for s in items for word in s.name.split())
    assert words["Bio"] > 500
    assert words["Pils"] > 100


def test_bulk_is_deterministic_for_a_seed() -> None:
    first = list(itertools.islice(product_specs_bulk(count=2_000, seed=3), 500))
    again = list(product_specs_bulk(count=500, seed=3))
    assert first == again
    assert first != list(product_specs_bulk(count=500, seed=4))


def test_bulk_keeps_the_rules_of_the_demo_catalog(bulk: list[ProductSpec]) -> None:
    for spec in bulk[:5_000]:
        assert 0 < spec.wholesale_cost < spec.suggested_retail_price
        assert spec.minimum_age == MINIMUM_AGES.get(spec.category_path)


# --- product fronts -------------------------------------------------------------------------


def test_an_image_has_the_requested_size_and_a_transparent_surround(specs: list[ProductSpec]) -> None:
    bottle = next(s for s in specs if s.package == "bottle")
    image = product_image(bottle)
    assert image.size == (240, 320)
    assert image.mode == "RGBA"
    alpha = np.asarray(image)[:, :, 3]
    assert alpha[0, 0] == 0  # beside the bottle's neck
    assert alpha[200, 120] == 255
    assert product_image(bottle, size=(90, 160)).size == (90, 160)


def test_the_same_product_renders_identically(specs: list[ProductSpec]) -> None:
    for spec in specs[::40]:
        assert product_image(spec).tobytes() == product_image(spec).tobytes()


def test_products_of_one_category_look_clearly_different(specs: list[ProductSpec]) -> None:
    # Neighbours on a shelf share a category; a wrong product in a slot must show. Identical
    # fronts differ by 0; sensor noise is a few levels; the closest pair here is about 20.
    fronts = {s.gtin: np.asarray(product_image(s), dtype=np.int16) for s in specs}
    by_path: dict[str, list[str]] = collections.defaultdict(list)
    for spec in specs:
        by_path[spec.category_path].append(spec.gtin)
    closest = min(
        float(np.abs(fronts[a] - fronts[b]).mean())
        for codes in by_path.values()
        for a, b in itertools.combinations(codes, 2)
    )
    assert closest > 12


def test_bulk_products_render_too(bulk: list[ProductSpec]) -> None:
    first, second = (np.asarray(product_image(s, size=(60, 80)), dtype=np.int16) for s in bulk[:2])
    assert first.shape == (80, 60, 4)
    assert float(np.abs(first - second).mean()) > 12
