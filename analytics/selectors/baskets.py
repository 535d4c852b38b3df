"""Baskets over a period: their sizes and values, the products bought together, and price lookups against
purchases. Baskets are read from the paid orders themselves (a pair of products needs the whole basket)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F, Q, Sum

from analytics.models import ProductDay
from analytics.periods import Period
from catalog.models import StoreProduct
from checkout.choices import SALE_KINDS
from checkout.models import Order
from core.money import exponent, format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

# Two baskets prove nothing: a pair is shown only when at least this many baskets hold it.
MIN_PAIR_BASKETS = 3
SIZE_BUCKETS = [
    (1, 1, "1 item"),
    (2, 2, "2 items"),
    (3, 3, "3 items"),
    (4, 5, "4–5 items"),
    (6, 9, "6–9 items"),
    (10, None, "10 or more"),
]
# Basket values (tax included, what the shopper paid), in units of the store's currency: 2, 5, 10 and 20 euros.
VALUE_STEPS = (2, 5, 10, 20)


def value_buckets(currency: str) -> list[tuple[int, int | None, str]]:
    """The basket value buckets in minor units of the currency, labelled in it ("under 2,00 €", …)."""
    steps = [step * 10 ** exponent(currency) for step in VALUE_STEPS]
    buckets: list[tuple[int, int | None, str]] = [(0, steps[0] - 1, f"under {format_amount(steps[0], currency)}")]
    buckets += [
        (low, high - 1, f"{format_amount(low, currency)} – {format_amount(high, currency)}")
        for low, high in itertools.pairwise(steps)
    ]
    return [*buckets, (steps[-1], None, f"{format_amount(steps[-1], currency)} or more")]


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    baskets: int  # baskets holding both
    support: Decimal  # share of all baskets holding both
    confidence: Decimal  # of the baskets holding the first, the share that also hold the second
    lift: Decimal  # how much likelier together than if bought independently (1 = no link)


@dataclass(frozen=True)
class Baskets:
    count: int
    sizes: list[tuple[str, int]]
    values: list[tuple[str, int]]
    pairs: list[Pair]


def _bucket(value: int, buckets: list[tuple[int, int | None, str]]) -> str:
    return next(label for low, high, label in buckets if value >= low and (high is None or value <= high))


_PAIRS_SQL = """
    SELECT a.store_product_id, b.store_product_id, count(DISTINCT a.order_id)
    FROM checkout_orderline a
    JOIN checkout_orderline b ON b.merchant_id = a.merchant_id AND b.order_id = a.order_id
        AND b.store_product_id > a.store_product_id
    JOIN checkout_order o ON o.merchant_id = a.merchant_id AND o.id = a.order_id
    WHERE a.merchant_id = %s AND o.store_id = ANY(%s)
        AND o.paid_at >= %s AND o.paid_at < %s
    GROUP BY 1, 2
    HAVING count(DISTINCT a.order_id) >= %s
    ORDER BY 3 DESC, 1, 2
    LIMIT %s
"""


def baskets_of(
    *, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date, pairs: int = 20
) -> Baskets:
    """Sizes and values of the baskets paid in the stores' local days, and the pairs bought together most often
    (at least MIN_PAIR_BASKETS baskets each), with support, confidence and lift; scoped, four queries."""
    start, end = Period(first, last).bounds(ZoneInfo(stores[0].timezone))
    ids = [store.pk for store in stores]
    with merchant_context(merchant.pk):
        paid = Order.objects.for_merchant(merchant).sold().filter(store_id__in=ids, paid_at__gte=start, paid_at__lt=end)
        # Deposits are not sales: neither their lines' units nor their money make a basket bigger.
        rows = list(
            paid.annotate(
                units=Sum("lines__quantity", filter=Q(lines__kind__in=SALE_KINDS)),
                goods=F("total") - F("deposit_total"),
            ).values_list("units", "goods")
        )
        with connection.cursor() as cursor:
            cursor.execute(_PAIRS_SQL, [merchant.pk, ids, start, end, MIN_PAIR_BASKETS, pairs])
            found = cursor.fetchall()
        products = {pk for a, b, _n in found for pk in (a, b)}
        holding = (
            dict(
                paid.filter(lines__store_product_id__in=products)
                .values("lines__store_product_id")
                .annotate(n=Sum(1))
                .values_list("lines__store_product_id", "n")
            )
            if products
            else {}
        )
        names = {
            item.pk: item.name
            for item in StoreProduct.objects.for_merchant(merchant).filter(pk__in=products).select_related("product")
        }
    total = len(rows)
    sizes = {label: 0 for _low, _high, label in SIZE_BUCKETS}
    by_value = value_buckets(stores[0].currency)
    values = {label: 0 for _low, _high, label in by_value}
    for units, amount in rows:
        sizes[_bucket(int(units or 0), SIZE_BUCKETS)] += 1
        values[_bucket(int(amount), by_value)] += 1
    quantum = Decimal("0.001")
    return Baskets(
        count=total,
        sizes=list(sizes.items()),
        values=list(values.items()),
        pairs=[
            Pair(
                first=names.get(a, str(a)),
                second=names.get(b, str(b)),
                baskets=n,
                support=(Decimal(n) / total).quantize(quantum, ROUND_HALF_UP),
                confidence=(Decimal(n) / holding[a]).quantize(quantum, ROUND_HALF_UP),
                lift=(Decimal(n) * total / (holding[a] * holding[b])).quantize(Decimal("0.01"), ROUND_HALF_UP),
            )
            for a, b, n in found
        ],
    )


@dataclass(frozen=True)
class LookToBuy:
    name: str
    lookups: int
    units: int


def look_to_buy(
    *, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date, limit: int = 50
) -> list[LookToBuy]:
    """The ``limit`` products shoppers looked up by price most in the period, with the units they bought."""
    with merchant_context(merchant.pk):
        rows = list(
            ProductDay.objects.for_stores(merchant, stores)
            .between(first, last)
            .values("store_product_id")
            .annotate(lookups=Sum("price_lookups"), units=Sum("units"))
            .filter(lookups__gt=0)
            .order_by("-lookups", "store_product_id")[:limit]
        )
        names = {
            item.pk: item.name
            for item in StoreProduct.objects.for_merchant(merchant)
            .filter(pk__in=[row["store_product_id"] for row in rows])
            .select_related("product")
        }
    return [LookToBuy(names.get(row["store_product_id"], ""), int(row["lookups"]), int(row["units"])) for row in rows]
