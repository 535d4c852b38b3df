"""What each fact adds to which rollup cell, written once in SQL.

Applying a fact, rebuilding a range and checking the rollups all run the same statements over a
different set of facts (a ``facts(kind, key)`` relation): the fact just committed, the facts
applied in a range, or every raw fact there is. So an incremental rollup and a rebuild agree by
construction, and the check compares the cells with an independent sum over the raw tables.

The raw facts, each keyed by the id of its row:
- ``order``: an order with ``paid_at`` set (paid, later perhaps refunded), phone and counter; it
  counts in the hour it was paid, with the counter's payment method or ``online_card``;
- ``refund``: a Refund row, booked when it was made. It is an order-level amount, attributed to
  the order's lines in proportion to what each line cost the shopper (its total, plus its tax when
  prices exclude tax; a return slip's is negative), rounded down, with the cents left over given
  one each to the lines with the largest remainders (ties: the earlier line), so the parts add up
  to the refund exactly. Units come back only with the refund that completes a full refund: then,
  as in the stock ledger, every unit of the order is refunded;
- ``lookup``: a shopper's price lookup of a known product;
- ``shelf_empty``: a shelf-empty period the cameras closed, its minutes split over the local days;
- ``stockout``: the ledger at zero: a movement that takes on hand from zero or below to above zero
  ends the period that began with the last movement that took it to zero or below.

Only an order's sale lines (products and open-price items) are sales: its deposits, charged and
returned, are money held for bottles, and neither they nor the refunds' shares of them count. A
sale line counts at what it cost after its discounts; ``discounts`` adds up what was given off, net
of tax like the sales. Open-price items have no product: they count in the hours and categories
(uncategorised) but in no product's days.

Minutes are floored per day; periods still open count once they close.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

# Each source yields (merchant_id, store_id, kind, key, occurred_at) for every raw fact of a kind.
FACT_SOURCES: dict[str, str] = {
    "order": (
        "SELECT o.merchant_id, o.store_id, 'order'::text AS kind, o.id AS key, o.paid_at AS occurred_at "
        "FROM checkout_order o WHERE o.paid_at IS NOT NULL"
    ),
    "refund": (
        "SELECT r.merchant_id, o.store_id, 'refund'::text AS kind, r.id AS key, r.created_at AS occurred_at "
        "FROM checkout_refund r JOIN checkout_order o ON o.id = r.order_id"
    ),
    "lookup": (
        "SELECT l.merchant_id, l.store_id, 'lookup'::text AS kind, l.id AS key, l.looked_up_at AS occurred_at "
        "FROM catalog_productlookup l WHERE l.store_product_id IS NOT NULL"
    ),
    "shelf_empty": (
        "SELECT p.merchant_id, p.store_id, 'shelf_empty'::text AS kind, p.id AS key, p.ended_at AS occurred_at "
        "FROM catalog_shelfemptyperiod p WHERE p.ended_at IS NOT NULL"
    ),
    "stockout": (
        "SELECT m.merchant_id, m.store_id, 'stockout'::text AS kind, m.id AS key, m.created_at AS occurred_at "
        "FROM catalog_stockmovement m WHERE m.on_hand_after > 0 AND m.on_hand_after <= m.quantity "
        # Only when stock ran out before: a new product's first delivery ends no stock-out.
        "AND EXISTS (SELECT 1 FROM catalog_stockmovement b WHERE b.merchant_id = m.merchant_id "
        "AND b.store_product_id = m.store_product_id AND b.id < m.id "
        "AND b.on_hand_after <= 0 AND b.on_hand_after - b.quantity > 0)"
    ),
}


def all_facts_sql() -> str:
    """Every raw fact of every kind: (merchant_id, store_id, kind, key, occurred_at)."""
    return " UNION ALL ".join(f"({source})" for source in FACT_SOURCES.values())


HOUR_KEY = ["merchant_id", "store_id", "local_date", "hour", "channel", "payment_method"]
HOUR_SUMS = [
    "net_sales",
    "tax",
    "discounts",
    "refunds",
    "cost",
    "net_sales_known_cost",
    "transactions",
    "units",
]
PRODUCT_KEY = ["merchant_id", "store_id", "store_product_id", "local_date"]
PRODUCT_SUMS = [
    "units",
    "net_sales",
    "cost",
    "units_known_cost",
    "net_sales_known_cost",
    "refunds",
    "refunded_units",
    "minutes_out_of_stock",
    "minutes_shelf_empty",
    "price_lookups",
]

_LOCAL = "({at} AT TIME ZONE s.timezone)"

# The kinds of order line that are sales (checkout.choices.SALE_KINDS), as SQL.
SALE_LINES = "('product', 'open_price')"

# The sold lines and the refunds' shares of them, shared by both grains. ``facts`` is the caller's.
_LINES = f"""
sold AS (
    SELECT o.merchant_id, o.store_id, o.id AS order_id, l.store_product_id, COALESCE(l.category_id, 0) AS category,
           o.paid_at AS at, o.channel,
           COALESCE(cp.method, 'online_card') AS payment_method, l.quantity::bigint AS units,
           (l.line_total - CASE WHEN o.prices_include_tax THEN l.tax_amount ELSE 0 END)::bigint AS net,
           l.tax_amount::bigint AS tax, l.unit_cost::bigint * l.quantity AS cost,
           -- Given off the price, without the tax it would have carried (prices with tax hold it).
           ROUND((l.discount + l.sale_discount)::numeric
                 * CASE WHEN o.prices_include_tax THEN 10000.0 / (10000 + l.tax_rate) ELSE 1 END)::bigint AS discounts
    FROM facts f
    JOIN checkout_order o ON f.kind = 'order' AND o.id = f.key
    JOIN checkout_orderline l ON l.order_id = o.id AND l.kind IN {SALE_LINES}
    LEFT JOIN checkout_counterpayment cp ON cp.order_id = o.id
),
refund_lines AS (
    SELECT r.merchant_id, o.store_id, r.id AS refund_id, l.id AS line_id, l.store_product_id,
           l.kind IN {SALE_LINES} AS is_sale, COALESCE(l.category_id, 0) AS category,
           r.created_at AS at, o.channel, COALESCE(cp.method, 'online_card') AS payment_method,
           r.amount::bigint AS amount, l.quantity::bigint AS units,
           (l.line_total + CASE WHEN o.prices_include_tax THEN 0 ELSE l.tax_amount END)::bigint AS paid,
           (SELECT SUM(r2.amount) FROM checkout_refund r2 WHERE r2.order_id = r.order_id AND r2.id <= r.id)
               >= o.total AS completes
    FROM facts f
    JOIN checkout_refund r ON f.kind = 'refund' AND r.id = f.key
    JOIN checkout_order o ON o.id = r.order_id
    JOIN checkout_orderline l ON l.order_id = o.id
    LEFT JOIN checkout_counterpayment cp ON cp.order_id = o.id
),
refund_quotients AS (
    -- Floored, not truncated: a return slip's share is negative, and the remainders must stay >= 0.
    SELECT rl.*, COALESCE(FLOOR((rl.amount * rl.paid)::numeric / NULLIF(SUM(rl.paid) OVER w, 0)), 0)::bigint
               AS floor_share, COALESCE(SUM(rl.paid) OVER w, 0)::bigint AS paid_total
    FROM refund_lines rl
    WINDOW w AS (PARTITION BY rl.refund_id)
),
refund_floors AS (
    SELECT rq.*, rq.amount * rq.paid - rq.floor_share * rq.paid_total AS remainder FROM refund_quotients rq
),
refund_shares AS (
    SELECT rf.*,
           rf.floor_share + CASE
               WHEN ROW_NUMBER() OVER (PARTITION BY rf.refund_id ORDER BY rf.remainder DESC, rf.line_id)
                    <= rf.amount - (SUM(rf.floor_share) OVER (PARTITION BY rf.refund_id))::bigint THEN 1 ELSE 0
           END AS share
    FROM refund_floors rf
)
"""  # noqa: S608 - our SQL; the only value put in is SALE_LINES, a constant  # nosec B608


def hour_cells_sql(facts: str) -> str:
    """A SELECT of hour cells (HOUR_KEY + HOUR_SUMS) summed over ``facts``, a SELECT of (kind, key)."""
    local = _LOCAL.format(at="x.at")
    return f"""
WITH facts AS ({facts}),
{_LINES},
parts AS (
    SELECT merchant_id, store_id, at, channel, payment_method, net AS net_sales, tax, discounts, 0::bigint AS refunds,
           COALESCE(cost, 0) AS cost, CASE WHEN cost IS NULL THEN 0 ELSE net END AS net_sales_known_cost,
           order_id, units
    FROM sold
    UNION ALL
    SELECT merchant_id, store_id, at, channel, payment_method, 0, 0, 0, share, 0, 0, NULL, 0
    FROM refund_shares WHERE is_sale
)
SELECT x.merchant_id, x.store_id, {local}::date AS local_date, EXTRACT(HOUR FROM {local})::int AS hour,
       x.channel, x.payment_method,
       SUM(x.net_sales)::bigint AS net_sales, SUM(x.tax)::bigint AS tax, SUM(x.discounts)::bigint AS discounts,
       SUM(x.refunds)::bigint AS refunds, SUM(x.cost)::bigint AS cost,
       SUM(x.net_sales_known_cost)::bigint AS net_sales_known_cost,
       COUNT(DISTINCT x.order_id)::bigint AS transactions, SUM(x.units)::bigint AS units
FROM parts x JOIN merchants_store s ON s.id = x.store_id
GROUP BY 1, 2, 3, 4, 5, 6
"""  # noqa: S608 - our SQL; values are parameters  # nosec B608


def product_cells_sql(facts: str) -> str:
    """A SELECT of product-day cells (PRODUCT_KEY + PRODUCT_SUMS) summed over ``facts``, a SELECT of (kind, key)."""
    local = _LOCAL.format(at="x.at")
    return f"""
WITH facts AS ({facts}),
{_LINES},
periods AS (
    SELECT p.merchant_id, p.store_id, p.store_product_id, p.started_at AS began, p.ended_at AS ended,
           'shelf' AS what
    FROM facts f JOIN catalog_shelfemptyperiod p ON f.kind = 'shelf_empty' AND p.id = f.key
    UNION ALL
    SELECT m.merchant_id, m.store_id, m.store_product_id, began.created_at, m.created_at, 'ledger'
    FROM facts f
    JOIN catalog_stockmovement m ON f.kind = 'stockout' AND m.id = f.key
    -- The last movement before it that crossed zero either way: the one that emptied the stock.
    CROSS JOIN LATERAL (
        SELECT b.created_at, b.on_hand_after FROM catalog_stockmovement b
        WHERE b.merchant_id = m.merchant_id AND b.store_product_id = m.store_product_id AND b.id < m.id
          AND (b.on_hand_after <= 0) <> (b.on_hand_after - b.quantity <= 0)
        ORDER BY b.id DESC LIMIT 1
    ) began
    WHERE began.on_hand_after <= 0
),
period_days AS (
    SELECT pr.merchant_id, pr.store_id, pr.store_product_id, pr.what, d::date AS local_date,
           GREATEST(0, FLOOR(EXTRACT(EPOCH FROM
               LEAST(pr.ended, (d + INTERVAL '1 day') AT TIME ZONE s.timezone)
               - GREATEST(pr.began, d AT TIME ZONE s.timezone)) / 60))::bigint AS minutes
    FROM periods pr
    JOIN merchants_store s ON s.id = pr.store_id
    CROSS JOIN LATERAL generate_series(
        (pr.began AT TIME ZONE s.timezone)::date::timestamp,
        (pr.ended AT TIME ZONE s.timezone)::date::timestamp,
        INTERVAL '1 day'
    ) d
    WHERE pr.ended > pr.began
),
parts AS (
    SELECT x.merchant_id, x.store_id, x.store_product_id, {local}::date AS local_date,
           x.units, x.net AS net_sales, COALESCE(x.cost, 0) AS cost,
           CASE WHEN x.cost IS NULL THEN 0 ELSE x.units END AS units_known_cost,
           CASE WHEN x.cost IS NULL THEN 0 ELSE x.net END AS net_sales_known_cost,
           0::bigint AS refunds, 0::bigint AS refunded_units, 0::bigint AS minutes_out_of_stock,
           0::bigint AS minutes_shelf_empty, 0::bigint AS price_lookups
    FROM sold x JOIN merchants_store s ON s.id = x.store_id
    WHERE x.store_product_id IS NOT NULL
    UNION ALL
    SELECT x.merchant_id, x.store_id, x.store_product_id, {local}::date, 0, 0, 0, 0, 0,
           x.share, CASE WHEN x.completes THEN x.units ELSE 0 END, 0, 0, 0
    FROM refund_shares x JOIN merchants_store s ON s.id = x.store_id
    WHERE x.store_product_id IS NOT NULL
    UNION ALL
    SELECT l.merchant_id, l.store_id, l.store_product_id, (l.looked_up_at AT TIME ZONE s.timezone)::date,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 1
    FROM facts f
    JOIN catalog_productlookup l ON f.kind = 'lookup' AND l.id = f.key AND l.store_product_id IS NOT NULL
    JOIN merchants_store s ON s.id = l.store_id
    UNION ALL
    SELECT merchant_id, store_id, store_product_id, local_date, 0, 0, 0, 0, 0, 0, 0,
           CASE WHEN what = 'ledger' THEN minutes ELSE 0 END, CASE WHEN what = 'shelf' THEN minutes ELSE 0 END, 0
    FROM period_days
)
SELECT merchant_id, store_id, store_product_id, local_date,
       {", ".join(f"SUM({column})::bigint AS {column}" for column in PRODUCT_SUMS)}
FROM parts
GROUP BY 1, 2, 3, 4
"""  # noqa: S608 - our SQL; values are parameters  # nosec B608


CATEGORY_KEY = ["merchant_id", "store_id", "local_date", "category"]
CATEGORY_SUMS = ["units", "net_sales", "cost", "net_sales_known_cost", "refunds"]


def category_cells_sql(facts: str) -> str:
    """A SELECT of category-day cells (CATEGORY_KEY + CATEGORY_SUMS) summed over ``facts``, a SELECT of (kind, key)."""
    local = _LOCAL.format(at="x.at")
    return f"""
WITH facts AS ({facts}),
{_LINES},
parts AS (
    SELECT merchant_id, store_id, category, at, units, net AS net_sales, COALESCE(cost, 0) AS cost,
           CASE WHEN cost IS NULL THEN 0 ELSE net END AS net_sales_known_cost, 0::bigint AS refunds
    FROM sold
    UNION ALL
    SELECT merchant_id, store_id, category, at, 0, 0, 0, 0, share
    FROM refund_shares WHERE is_sale
)
SELECT x.merchant_id, x.store_id, {local}::date AS local_date, x.category,
       {", ".join(f"SUM(x.{column})::bigint AS {column}" for column in CATEGORY_SUMS)}
FROM parts x JOIN merchants_store s ON s.id = x.store_id
GROUP BY 1, 2, 3, 4
"""  # noqa: S608 - our SQL; values are parameters  # nosec B608


def upsert_sql(*, table: str, cells: str, key: list[str], sums: list[str], where: str = "TRUE") -> str:
    """Add the cells of ``cells`` (filtered by ``where``) into ``table``: one atomic upsert, rows in key order.

    Taking the rows' locks in key order keeps two facts that touch the same cells from deadlocking.
    """
    columns = [*key, *sums]
    names = ", ".join(columns)
    increments = ", ".join(f"{column} = {table}.{column} + EXCLUDED.{column}" for column in sums)
    return (
        f"INSERT INTO {table} ({names}) "  # noqa: S608 - table and column names are ours, values are parameters  # nosec B608
        f"SELECT {names} FROM ({cells}) cells WHERE {where} ORDER BY {', '.join(key)} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {increments}"
    )


class Grain(NamedTuple):
    """One rollup table: its cells' key and sums, and the SELECT of its cells over a set of facts."""

    table: str
    key: list[str]
    sums: list[str]
    cells: Callable[[str], str]

    def upsert(self, facts: str, *, where: str = "TRUE") -> str:
        """The upsert that adds the cells of ``facts`` (filtered by ``where``) into this table."""
        return upsert_sql(table=self.table, cells=self.cells(facts), key=self.key, sums=self.sums, where=where)


HOURS = Grain("analytics_saleshour", HOUR_KEY, HOUR_SUMS, hour_cells_sql)
PRODUCT_DAYS = Grain("analytics_productday", PRODUCT_KEY, PRODUCT_SUMS, product_cells_sql)
CATEGORY_DAYS = Grain("analytics_categoryday", CATEGORY_KEY, CATEGORY_SUMS, category_cells_sql)
GRAINS = (HOURS, PRODUCT_DAYS, CATEGORY_DAYS)
# The grains that only orders and refunds touch (lookups and stock-out periods add to product days only).
SALE_GRAINS = (HOURS, CATEGORY_DAYS)
