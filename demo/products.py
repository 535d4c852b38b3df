"""Products from the demo catalog's data: ``product_specs`` for the demo, ``product_specs_bulk`` for benchmarks.

Framework-free; the conventions (GTIN prefixes, prices with VAT, margins) are in ``demo.data.catalog``.
"""

from __future__ import annotations

import colorsys
import math
import random
import zlib
from collections.abc import Iterator, Sequence
from decimal import Decimal

from catalog.gtin import make
from demo.data.catalog import (
    BULK_BRANDS,
    EDITIONS,
    LINES,
    RGB,
    TIER_FACTORS,
    TOP_NAMES,
    VAT_RATES,
    Line,
    ProductSpec,
    Size,
    TaxClassName,
    Variant,
)


def _crc(text: str) -> int:
    """A hash that is the same in every process (str hash() is salted per process)."""
    return zlib.crc32(text.encode())


def _retail_price(cents: float) -> int:
    """A shelf price ending in 9: 1.79, 2.49, 14.99."""
    step = 10 if cents < 1000 else 50
    return max(19, round(cents / step) * step - 1)


def _net_cost(price: int, tax: TaxClassName, margin: float) -> int:
    net = Decimal(price) / (1 + VAT_RATES[tax])
    return max(1, int((net * Decimal(1 - margin)).to_integral_value()))


def _colors(hue: float, key: int) -> tuple[RGB, RGB]:
    """A primary and a clearly different secondary colour: one light, one dark, hues apart."""
    saturation = 0.55 + (key & 0xFF) / 255 * 0.4
    value = 0.45 + ((key >> 8) & 0xFF) / 255 * 0.5
    hue2 = (hue + 0.25 + ((key >> 16) & 0xFF) / 255 * 0.5) % 1.0
    shift = ((key >> 24) & 0x3F) / 63
    value2 = 0.2 + shift * 0.25 if value > 0.7 else 0.8 + shift * 0.2
    saturation2 = 0.3 + ((key >> 4) & 0x3F) / 63 * 0.6
    return _rgb(hue, saturation, value), _rgb(hue2, saturation2, value2)


def _rgb(hue: float, saturation: float, value: float) -> RGB:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _allocate(count: int, lines: Sequence[Line]) -> list[int]:
    """Split count over the lines by weight (largest remainder), never above a line's capacity."""
    quotas = [0] * len(lines)
    open_lines = [i for i, line in enumerate(lines) if line.combos]
    remaining = count
    while remaining and open_lines:
        total = sum(lines[i].weight for i in open_lines)
        shares = {i: remaining * lines[i].weight / total for i in open_lines}
        given = {i: math.floor(share) for i, share in shares.items()}
        by_remainder = sorted(open_lines, key=lambda i: (given[i] - shares[i], i))
        for i in by_remainder[: remaining - sum(given.values())]:
            given[i] += 1
        for i in open_lines:
            take = min(given[i], len(lines[i].combos) * len(lines[i].brands) - quotas[i])
            quotas[i] += take
            remaining -= take
        open_lines = [i for i in open_lines if quotas[i] < len(lines[i].combos) * len(lines[i].brands)]
    if remaining:
        raise ValueError(f"The demo assortment has {count - remaining} products at most; use product_specs_bulk.")
    return quotas


class _Prefixes:
    """Company prefixes (7 digits) per brand and the next free item reference of each."""

    def __init__(self, rng: random.Random, low: int, high: int) -> None:
        self.rng, self.low, self.high = rng, low, high
        self.prefix: dict[str, str] = {}
        self.next_item: dict[str, int] = {}

    def gtin(self, brand: str) -> str:
        if brand not in self.prefix:
            # Stable per brand name (not per seed), so a brand keeps its prefix across demos.
            number = self.low * 10_000 + _crc(brand) % ((self.high - self.low + 1) * 10_000)
            while f"{number:07d}" in self.prefix.values():
                number = self.low * 10_000 if number + 1 > self.high * 10_000 + 9_999 else number + 1
            self.prefix[brand] = f"{number:07d}"
            self.next_item[brand] = self.rng.randrange(100, 60_000)
        item = self.next_item[brand]
        # Gaps between item numbers, as a manufacturer's range has discontinued products.
        self.next_item[brand] = item + self.rng.randint(1, 9)
        return "0" + make(f"{self.prefix[brand]}{item:05d}")


def product_specs(*, count: int = 320, seed: int = 7) -> list[ProductSpec]:
    """``count`` distinct products spread over all categories; the same list for the same seed."""
    if count < 0:
        raise ValueError("count cannot be negative.")
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets  # nosec B311
    prefixes = _Prefixes(rng, 400, 429)
    picked: list[tuple[Line, str, Variant, Size]] = []
    for line, quota in zip(LINES, _allocate(count, LINES), strict=True):
        combos = [(brand, variant, size) for variant, size in line.combos for brand in line.brands]
        chosen = sorted(rng.sample(range(len(combos)), quota))
        picked.extend((line, *combos[i]) for i in chosen)
    picked.sort(key=lambda item: (item[0].path, item[1], item[2].name, item[3].label, item[3].package))
    specs = []
    seen_in_path: dict[str, int] = {}
    for line, brand, variant, size in picked:
        gtin = prefixes.gtin(brand)
        multipack = prefixes.gtin(brand) if size.multipack and rng.random() < 0.8 else None
        if size.fixed_prices:
            price = rng.choice(size.fixed_prices)
        else:
            tier = TIER_FACTORS[_crc(brand) % 3]
            price = _retail_price(size.price * variant.factor * tier * rng.uniform(0.95, 1.05))
        # Neighbours on a shelf are usually of one category: step their hues by the golden
        # ratio so that any two of them look different to a camera.
        index = seen_in_path[line.path] = seen_in_path.get(line.path, -1) + 1
        hue = (_crc(line.path) / 2**32 + index * 0.618034) % 1.0
        name = " ".join(filter(None, (brand, variant.name, size.suffix)))
        specs.append(_spec(line, brand, name, size, gtin, multipack, price, rng.uniform(*line.margin), hue))
    return specs


def _spec(
    line: Line,
    brand: str,
    name: str,
    size: Size,
    gtin: str,
    multipack: str | None,
    price: int,
    margin: float,
    hue: float,
) -> ProductSpec:
    top = line.path.split("/", 1)[0]
    return ProductSpec(
        gtin=gtin,
        name=name,
        brand=brand,
        category_path=line.path,
        category_names=(TOP_NAMES[top], *line.names),
        unit_size=size.label,
        content_amount=size.amount,
        content_unit=size.unit,
        case_pack=size.case_pack,
        wholesale_cost=_net_cost(price, line.tax, margin),
        suggested_retail_price=price,
        is_age_restricted=line.age is not None,
        minimum_age=line.age,
        tax_class=line.tax,
        colors=_colors(hue, _crc(gtin)),
        multipack_gtin=multipack,
        case_gtin=make("1" + gtin[1:13]) if size.case_pack > 1 else None,
        multipack_quantity=size.multipack if multipack else None,
        package=size.package,
    )


def product_specs_bulk(*, count: int, seed: int = 1) -> Iterator[ProductSpec]:
    """``count`` products named '<Brand> <Edition> <Product>' with unique GTINs, lazily, for benchmarks."""
    if count < 0:
        raise ValueError("count cannot be negative.")
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets  # nosec B311
    brands = len(BULK_BRANDS)
    # Weighted round robin over the lines; within a line an affine permutation of its
    # (brand, edition, product, size) space visits each combination once, in scattered order.
    schedule = [i for i, line in enumerate(LINES) for _ in range(line.weight)]
    rng.shuffle(schedule)
    capacity = [brands * len(EDITIONS[line.path.split("/")[0]]) * len(line.combos) for line in LINES]
    steps = []
    for space in capacity:
        step = rng.randrange(space // 3, space)
        while math.gcd(step, space) != 1:
            step += 1
        steps.append((step, rng.randrange(space)))
    used = [0] * len(LINES)
    next_item = [rng.randrange(100, 10_000) for _ in range(brands)]
    # Unique 7-digit company prefixes 4300000-4409463, one per bulk brand.
    company = [f"{4_300_000 + b * 137:07d}" for b in range(brands)]
    tiers = [TIER_FACTORS[_crc(brand) % 3] for brand in BULK_BRANDS]
    for n in range(count):
        index = schedule[n % len(schedule)]
        line = LINES[index]
        k = used[index]
        if k >= capacity[index]:
            raise ValueError(f"count {count} exceeds what the bulk generator can name uniquely.")
        used[index] = k + 1
        step, offset = steps[index]
        code = (k * step + offset) % capacity[index]
        code, b = divmod(code, brands)
        editions = EDITIONS[line.path.split("/")[0]]
        combo, edition = divmod(code, len(editions))
        variant, size = line.combos[combo]
        item = next_item[b]
        # Two in three products that come in multipacks get a multipack code.
        has_multipack = size.multipack is not None and n % 3 != 0
        next_item[b] = item + 1 + has_multipack
        if next_item[b] > 100_000:
            raise ValueError(f"count {count} exhausts the item numbers of a bulk brand.")
        gtin = "0" + make(f"{company[b]}{item:05d}")
        multipack_gtin = "0" + make(f"{company[b]}{item + 1:05d}") if has_multipack else None
        jitter = 0.95 + (code * 7919 % 101) / 1000
        if size.fixed_prices:
            price = size.fixed_prices[code % len(size.fixed_prices)]
        else:
            price = _retail_price(size.price * variant.factor * tiers[b] * jitter)
        margin = line.margin[0] + (line.margin[1] - line.margin[0]) * (code * 104729 % 97) / 96
        brand = BULK_BRANDS[b]
        name = " ".join(filter(None, (brand, editions[edition], variant.name, size.suffix)))
        yield _spec(line, brand, name, size, gtin, multipack_gtin, price, margin, (n * 0.618034) % 1.0)
