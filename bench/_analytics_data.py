"""bench/analytics.py's history and its raw-table figures: paid orders written in bulk by SQL.

Each store's history is made by one INSERT ... SELECT over ``generate_series`` per table, in the
merchant's own row-level-security context: orders of 1-4 lines (2.5 on average), paid between 7:00
and 22:00 local time (most in the afternoon, more on Fridays and Saturdays), products drawn with a
skew (a few sell a lot), 1 in 200 orders refunded in full two hours later. The rows have the shape
checkout's services give a paid phone order (its lines priced at the store's price with the tax
rounded half up, the unit cost recorded, the order's totals the sum of its lines); stock movements,
visits and exit passes, which no sales figure reads, are left out.

The raw figures are the analytics selectors' figures computed straight from checkout_order and
checkout_orderline (and checkout_refund), in each store's time zone, with no rollup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from checkout import taxes
from merchants.tenancy import merchant_context, platform_access

PRODUCTS = 200
ZONE = "Europe/Berlin"  # a time zone with daylight-saving changes
CHAIN_STORES = 20  # stores of the one big merchant; the rest belong to three-store merchants
SLUG = "bench-analytics"
OWNER = "owner@bench-analytics.example"


@dataclass(frozen=True)
class World:
    merchants: dict[int, list[int]]  # merchant id -> its store ids, the chain first
    chain_id: int
    owner_id: int


def world_make(*, stores: int) -> World:
    """The wholesaler, the merchants, their stores (20 in the chain) and each store's products."""
    from django.contrib.auth import get_user_model

    from catalog.models import Product, StoreProduct
    from demo.products import product_specs_bulk
    from demo.seed.catalog import categories_make
    from merchants.models import Membership, Merchant, Role, Store, Wholesaler

    with platform_access(reason="bench: analytics data", actor="bench"):
        wholesaler = Wholesaler.objects.create(slug=SLUG, name="Bench analytics")
        specs = list(product_specs_bulk(count=PRODUCTS, seed=13))
        categories = categories_make(wholesaler, specs)
        products = Product.objects.bulk_create(
            Product(
                wholesaler=wholesaler, gtin=s.gtin, name=s.name, brand=s.brand, unit_size=s.unit_size,
                case_pack=s.case_pack, wholesale_cost=s.wholesale_cost, suggested_retail_price=s.suggested_retail_price,
                tax_class=s.tax_class, category=categories[s.category_path],
            )
            for s in specs
        )  # fmt: skip
        sizes = [min(stores, CHAIN_STORES)]
        left = stores - sizes[0]
        while left > 0:
            sizes.append(min(3, left))
            left -= sizes[-1]
        merchants: dict[int, list[int]] = {}
        number = 0
        for index, size in enumerate(sizes):
            merchant = Merchant.objects.create(
                slug=f"{SLUG}-{index}", name=f"Bench shop {index}", wholesaler=wholesaler
            )
            created = []
            for _ in range(size):
                number += 1
                created.append(
                    Store.objects.create(
                        merchant=merchant, name=f"Bench store {number}", code=f"BA{number:04d}", timezone=ZONE
                    )
                )
            merchants[merchant.pk] = [store.pk for store in created]
            with merchant_context(merchant.pk):
                StoreProduct.objects.bulk_create(
                    StoreProduct(
                        merchant=merchant, store=store, product=product, price=product.suggested_retail_price,
                        average_cost=product.wholesale_cost,
                    )
                    for store in created
                    for product in products
                )  # fmt: skip
        chain_id = next(iter(merchants))
        owner = get_user_model().objects.create_user(username=OWNER, email=OWNER, password=None)
        Membership.objects.create(merchant_id=chain_id, user=owner, role=Role.OWNER)
    return World(merchants=merchants, chain_id=chain_id, owner_id=owner.pk)


_ITEMS = """
CREATE TEMP TABLE bench_items ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY sp.id)::int AS idx, sp.id AS sp_id, sp.price, p.tax_class, p.name,
       p.category_id, sp.average_cost AS cost, p.is_age_restricted, 0 AS rate
FROM catalog_storeproduct sp JOIN catalog_product p ON p.id = sp.product_id
WHERE sp.merchant_id = %(merchant)s AND sp.store_id = %(store)s
"""
# Orders of the store's days [first, last], none after now; n numbers them from 1.
_ORDERS = """
CREATE TEMP TABLE bench_orders ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY paid_at)::bigint AS n, paid_at, random() < 0.005 AS refunded,
       1 + floor(random() * 4)::int AS lines
FROM (
    SELECT ((d + make_interval(hours => 7 + floor(random() * 7.5 + random() * 7.5)::int,
                               secs => floor(random() * 3600)::int)) AT TIME ZONE %(zone)s) AS paid_at
    FROM generate_series(%(first)s::timestamp, %(last)s::timestamp, INTERVAL '1 day') d
    CROSS JOIN LATERAL generate_series(
        1, round(%(per_day)s * CASE EXTRACT(ISODOW FROM d) WHEN 5 THEN 1.25 WHEN 6 THEN 1.35 WHEN 7 THEN 0.7
                                                          ELSE 0.95 END)::int) j
) o
WHERE paid_at <= now()
"""
_LINES = """
CREATE TEMP TABLE bench_lines ON COMMIT DROP AS
SELECT o.n, i.sp_id, i.name, i.category_id, i.price, i.tax_class, i.rate, i.cost, i.is_age_restricted, q.quantity,
       i.price * q.quantity AS line_total,
       round((i.price * q.quantity)::numeric * i.rate / (10000 + i.rate))::int AS tax_amount
FROM bench_orders o
CROSS JOIN LATERAL generate_series(1, o.lines) k
CROSS JOIN LATERAL (SELECT 1 + floor(%(products)s * power(random(), 2) + 0 * k)::int AS idx,
                           CASE WHEN random() < 0.2 THEN 2 ELSE 1 END AS quantity) q
JOIN bench_items i ON i.idx = q.idx
"""
_INSERT_ORDERS = """
INSERT INTO checkout_order (id, merchant_id, store_id, channel, token, status, currency, prices_include_tax,
    subtotal, tax_total, total, amount_refunded, payment_intent, stripe_account, payment_error,
    requires_age_check, is_oversold, email, created_at, paid_at, reserved_until,
    deposit_total, discount_total, sale_discount, sale_discount_reason)
SELECT %(base)s + o.n, %(merchant)s, %(store)s, 'shopper', gen_random_uuid(),
       CASE WHEN o.refunded THEN 'refunded' ELSE 'paid' END, 'EUR', TRUE,
       t.subtotal, t.tax_total, t.subtotal, CASE WHEN o.refunded THEN t.subtotal ELSE 0 END,
       'pi_bench_' || (%(base)s + o.n), '', '', t.age, FALSE, '', o.paid_at - INTERVAL '1 minute', o.paid_at,
       o.paid_at + INTERVAL '9 minutes', 0, 0, 0, ''
FROM bench_orders o
JOIN (SELECT n, SUM(line_total)::int AS subtotal, SUM(tax_amount)::int AS tax_total, bool_or(is_age_restricted) AS age
      FROM bench_lines GROUP BY n) t ON t.n = o.n
ORDER BY o.n
"""
_INSERT_LINES = """
INSERT INTO checkout_orderline (merchant_id, order_id, store_product_id, name, category_id, quantity, unit_price,
    tax_class, tax_rate, line_total, tax_amount, unit_cost, is_age_restricted,
    kind, code, discount, discount_reason, sale_discount)
SELECT %(merchant)s, %(base)s + n, sp_id, name, category_id, quantity, price, tax_class, rate, line_total, tax_amount,
       cost, is_age_restricted, 'product', '', 0, '', 0
FROM bench_lines ORDER BY n
"""
_INSERT_REFUNDS = """
INSERT INTO checkout_refund (merchant_id, order_id, amount, stripe_reference, created_at, method)
SELECT %(merchant)s, id, total, 're_bench_' || id, paid_at + INTERVAL '2 hours', 'stripe'
FROM checkout_order WHERE merchant_id = %(merchant)s AND store_id = %(store)s AND id > %(base)s
  AND status = 'refunded'
"""


def history_make(*, merchant_id: int, store_id: int, first: dt.date, last: dt.date, per_day: int) -> tuple[int, int]:
    """Paid orders and their lines for the store's local days first..last; returns (orders, lines)."""
    from django.db import transaction

    params: dict[str, Any] = {
        "merchant": merchant_id, "store": store_id, "zone": ZONE, "first": first, "last": last,
        "per_day": per_day, "products": PRODUCTS,
    }  # fmt: skip
    with transaction.atomic(), merchant_context(merchant_id), connection.cursor() as cursor:
        cursor.execute(_ITEMS, params)
        cursor.execute("SELECT DISTINCT tax_class FROM bench_items")
        for (tax_class,) in cursor.fetchall():
            cursor.execute(
                "UPDATE bench_items SET rate = %s WHERE tax_class = %s",
                [taxes.rate(country="DE", tax_class=tax_class), tax_class],
            )
        cursor.execute(_ORDERS, params)
        orders = cursor.rowcount
        cursor.execute(_LINES, params)
        lines = cursor.rowcount
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('checkout_order', 'id'))",
        )
        params["base"] = cursor.fetchone()[0]
        cursor.execute("SELECT setval(pg_get_serial_sequence('checkout_order', 'id'), %s)", [params["base"] + orders])
        cursor.execute(_INSERT_ORDERS, params)
        cursor.execute(_INSERT_LINES, params)
        cursor.execute(_INSERT_REFUNDS, params)
    return orders, lines


# --- the figures from the raw tables ---

_NET = "(l.line_total - CASE WHEN o.prices_include_tax THEN l.tax_amount ELSE 0 END)"
_LOCAL_PAID = "(o.paid_at AT TIME ZONE s.timezone)"
# The orders paid in the stores' local days [first, last]; the UTC bounds let the index narrow it first.
_PAID_IN = f"""
FROM checkout_order o
JOIN checkout_orderline l ON l.order_id = o.id
JOIN merchants_store s ON s.id = o.store_id
WHERE o.merchant_id = %(merchant)s AND o.store_id = ANY(%(stores)s) AND o.paid_at IS NOT NULL
  AND o.paid_at >= %(first)s::timestamp - INTERVAL '1 day' AND o.paid_at < %(last)s::timestamp + INTERVAL '2 days'
  AND {_LOCAL_PAID}::date BETWEEN %(first)s AND %(last)s
  AND NOT ({_LOCAL_PAID}::date = %(last)s AND EXTRACT(HOUR FROM {_LOCAL_PAID}) > %(last_hour)s)
"""
_SUMMARY = f"""
SELECT COALESCE(SUM({_NET}), 0), COALESCE(SUM(l.tax_amount), 0), COALESCE(SUM(l.unit_cost::bigint * l.quantity), 0),
       COALESCE(SUM(CASE WHEN l.unit_cost IS NULL THEN 0 ELSE {_NET} END), 0), COUNT(DISTINCT o.id),
       COALESCE(SUM(l.quantity), 0)
{_PAID_IN}
"""
_REFUNDS = """
SELECT COALESCE(SUM(r.amount), 0)
FROM checkout_refund r JOIN checkout_order o ON o.id = r.order_id JOIN merchants_store s ON s.id = o.store_id
WHERE r.merchant_id = %(merchant)s AND o.store_id = ANY(%(stores)s)
  AND r.created_at >= %(first)s::timestamp - INTERVAL '1 day' AND r.created_at < %(last)s::timestamp + INTERVAL '2 days'
  AND (r.created_at AT TIME ZONE s.timezone)::date BETWEEN %(first)s AND %(last)s
  AND NOT ((r.created_at AT TIME ZONE s.timezone)::date = %(last)s
           AND EXTRACT(HOUR FROM r.created_at AT TIME ZONE s.timezone) > %(last_hour)s)
"""
_BY_HOUR = f"""
SELECT {_LOCAL_PAID}::date, EXTRACT(HOUR FROM {_LOCAL_PAID})::int, SUM({_NET}), SUM(l.tax_amount),
       COUNT(DISTINCT o.id), SUM(l.quantity)
{_PAID_IN}
GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608  # nosec B608
_BY_CHANNEL = f"SELECT o.channel, SUM({_NET}) {_PAID_IN} GROUP BY 1"
_BY_METHOD = f"""
SELECT COALESCE(cp.method, 'online_card'), SUM({_NET})
{_PAID_IN.replace("WHERE", "LEFT JOIN checkout_counterpayment cp ON cp.order_id = o.id WHERE", 1)}
GROUP BY 1
"""
# Each line under the category it was sold in, grouped by that category's top level.
_BY_CATEGORY = f"""
SELECT split_part(COALESCE(c.path, ''), '/', 1), SUM({_NET})
{_PAID_IN.replace("WHERE", "LEFT JOIN catalog_category c ON c.id = l.category_id WHERE", 1)}
GROUP BY 1
"""

SUMMARY_FIELDS = ("net_sales", "tax", "cost", "net_sales_known_cost", "transactions", "units")


def _run(sql: str, *, merchant_id: int, stores: Sequence[int], first: dt.date, last: dt.date, last_hour: int) -> Any:
    params = {"merchant": merchant_id, "stores": list(stores), "first": first, "last": last, "last_hour": last_hour}
    with merchant_context(merchant_id), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def raw_summary(
    *, merchant_id: int, stores: Sequence[int], first: dt.date, last: dt.date, last_hour: int | None = None
) -> dict[str, int]:
    """sales_summary's figures from the raw orders, lines and refunds."""
    scope = {"merchant_id": merchant_id, "stores": stores, "first": first, "last": last, "last_hour": 23}
    if last_hour is not None:
        scope["last_hour"] = last_hour
    row = _run(_SUMMARY, **scope)[0]
    figures = {field: int(value) for field, value in zip(SUMMARY_FIELDS, row, strict=True)}
    figures["refunds"] = int(_run(_REFUNDS, **scope)[0][0])
    return figures


def raw_sales_page(*, merchant_id: int, stores: Sequence[int], first: dt.date, last: dt.date) -> list[Any]:
    """The Sales page's figures (headline, hours, channel, payment method, category) for a period and the one
    before it, from the raw tables."""
    days = (last - first).days + 1
    before = (first - dt.timedelta(days=days), first - dt.timedelta(days=1))
    found: list[Any] = []
    for start, end in ((first, last), before):
        found.append(raw_summary(merchant_id=merchant_id, stores=stores, first=start, last=end))
        for sql in (_BY_HOUR, _BY_CHANNEL, _BY_METHOD, _BY_CATEGORY):
            found.append(_run(sql, merchant_id=merchant_id, stores=stores, first=start, last=end, last_hour=23))
    return found
