"""Applying facts to the rollups: each exactly once, all of its increments or none.

One transaction per fact (``fact_apply``) or per batch of a merchant's facts (``facts_apply``, the
worker's path through ``analytics.services.batches``): the fact's ``AppliedFact`` row is inserted with ON CONFLICT DO NOTHING,
and only if that inserted a row are the cells incremented (``INSERT … ON CONFLICT DO UPDATE SET
x = x + EXCLUDED.x``, one statement per grain). A second delivery of the same fact finds its row
and does nothing; a worker killed in between rolls the whole transaction back, and the task,
``acks_late``, runs again. Applying holds a shared advisory lock on the store, a rebuild of the
store an exclusive one, so a rebuild never sees a fact half-applied nor has one slip past it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from analytics.contributions import FACT_SOURCES, PRODUCT_DAYS, SALE_GRAINS, all_facts_sql
from merchants.models import Merchant
from merchants.tenancy import merchant_context, platform_access

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

# The advisory-lock namespace of analytics (the first half of pg_advisory_xact_lock's two keys).
LOCK_NAMESPACE = 7113
# Kinds whose facts touch the hour and category cells; the others only touch product days.
HOUR_KINDS = frozenset({"order", "refund"})

_ONE_FACT = "SELECT %s::text AS kind, %s::bigint AS key"
# Many facts (those a batch just inserted), as the same (kind, key) relation.
_NEW_FACTS = "SELECT * FROM unnest(%s::text[], %s::bigint[]) AS f(kind, key)"


def store_lock(cursor: CursorWrapper, store_id: int, *, exclusive: bool) -> None:
    """Take the store's analytics lock until the transaction ends: shared to apply, exclusive to rebuild."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_NAMESPACE, store_id])


def cells_add(cursor: CursorWrapper, *, kind: str, key: int) -> None:
    """Add one fact's increments to its cells (inside the caller's transaction)."""
    if kind in HOUR_KINDS:
        for grain in SALE_GRAINS:
            cursor.execute(grain.upsert(_ONE_FACT), [kind, key])
    cursor.execute(PRODUCT_DAYS.upsert(_ONE_FACT), [kind, key])


def fact_apply(*, merchant: Merchant, kind: str, key: int) -> bool:
    """Add one fact to the rollups exactly once; atomic, idempotent, scoped. True when applied by this call.

    False when it was applied already or is not (yet) a fact: an order not paid, a period still open.
    """
    if kind not in FACT_SOURCES:
        raise ValueError(f"Unknown kind of fact {kind!r}.")
    source = FACT_SOURCES[kind]
    with merchant_context(merchant.pk), connection.cursor() as cursor:
        cursor.execute(f"SELECT store_id FROM ({source}) f WHERE f.key = %s", [key])  # noqa: S608 - our SQL  # nosec B608
        row = cursor.fetchone()
        if row is None:
            return False
        store_lock(cursor, row[0], exclusive=False)
        cursor.execute(
            "INSERT INTO analytics_appliedfact (merchant_id, store_id, kind, key, occurred_at, applied_at) "  # noqa: S608 - our SQL  # nosec B608
            f"SELECT merchant_id, store_id, kind, key, occurred_at, now() FROM ({source}) f WHERE f.key = %s "
            "ON CONFLICT (merchant_id, kind, key) DO NOTHING RETURNING id",
            [key],
        )
        if cursor.fetchone() is None:
            return False  # applied already: by an earlier delivery, the sweep or a rebuild
        cells_add(cursor, kind=kind, key=key)
    return True


def _chosen(facts: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """The facts by kind, keys sorted: every batch takes its rows' locks in the same order."""
    keys: dict[str, set[int]] = {}
    for kind, key in facts:
        if kind not in FACT_SOURCES:
            raise ValueError(f"Unknown kind of fact {kind!r}.")
        keys.setdefault(kind, set()).add(int(key))
    return {kind: sorted(keys[kind]) for kind in sorted(keys)}


def _sources(chosen: dict[str, list[int]]) -> tuple[str, list[list[int]]]:
    """The raw facts of ``chosen`` (those that are facts, and visible to the merchant in force), and its params."""
    parts = [f"SELECT * FROM ({FACT_SOURCES[kind]}) s WHERE s.key = ANY(%s)" for kind in chosen]  # noqa: S608 - our SQL  # nosec B608
    return " UNION ALL ".join(parts), list(chosen.values())


def cells_add_many(cursor: CursorWrapper, *, kinds: list[str], keys: list[int]) -> None:
    """Add the increments of many facts to their cells (inside the caller's transaction): one upsert per grain."""
    if HOUR_KINDS.intersection(kinds):
        for grain in SALE_GRAINS:
            cursor.execute(grain.upsert(_NEW_FACTS), [kinds, keys])
    cursor.execute(PRODUCT_DAYS.upsert(_NEW_FACTS), [kinds, keys])


def facts_add(cursor: CursorWrapper, facts: Iterable[tuple[str, int]]) -> int:
    """Apply many facts inside the caller's transaction and merchant context; how many were new."""
    chosen = _chosen(facts)
    if not chosen:
        return 0
    sources, params = _sources(chosen)
    cursor.execute(f"SELECT DISTINCT store_id FROM ({sources}) f ORDER BY store_id", params)  # noqa: S608 - our SQL  # nosec B608
    # Shared locks in store order, before any row lock: a rebuild holds one store's, exclusively.
    for (store_id,) in cursor.fetchall():
        store_lock(cursor, store_id, exclusive=False)
    cursor.execute(
        "INSERT INTO analytics_appliedfact (merchant_id, store_id, kind, key, occurred_at, applied_at) "  # noqa: S608 - our SQL  # nosec B608
        f"SELECT merchant_id, store_id, kind, key, occurred_at, now() FROM ({sources}) f ORDER BY kind, key "
        "ON CONFLICT (merchant_id, kind, key) DO NOTHING RETURNING kind, key",
        params,
    )
    new = cursor.fetchall()
    if new:
        cells_add_many(cursor, kinds=[kind for kind, _ in new], keys=[key for _, key in new])
    return len(new)


def facts_apply(*, merchant: Merchant, facts: Iterable[tuple[str, int]]) -> int:
    """Add many facts of the merchant to the rollups, each exactly once; atomic (all or none), idempotent, scoped.

    How many this call applied. Facts of another merchant are not visible in its context and are not applied.
    """
    with merchant_context(merchant.pk), connection.cursor() as cursor:
        return facts_add(cursor, facts)


def facts_missing(*, hours: int, limit: int, settle_seconds: int = 0) -> list[tuple[int, str, int]]:
    """(merchant id, kind, key) of facts of the last ``hours`` not applied yet, oldest first, at most ``limit``.

    Across merchants, through the audited platform bypass. Facts younger than ``settle_seconds`` are
    left to the task their own service enqueued.
    """
    now = timezone.now()
    with (
        platform_access(reason="analytics: facts not applied yet", actor="task:facts_sweep"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"SELECT f.merchant_id, f.kind, f.key FROM ({all_facts_sql()}) f "  # noqa: S608 - our SQL  # nosec B608
            "WHERE f.occurred_at >= %s AND f.occurred_at <= %s AND NOT EXISTS ("
            "  SELECT 1 FROM analytics_appliedfact a"
            "  WHERE a.merchant_id = f.merchant_id AND a.kind = f.kind AND a.key = f.key"
            ") ORDER BY f.occurred_at LIMIT %s",
            [now - timedelta(hours=hours), now - timedelta(seconds=settle_seconds), limit],
        )
        return [(int(merchant_id), str(kind), int(key)) for merchant_id, kind, key in cursor.fetchall()]


def facts_sweep(*, hours: int = 6, limit: int = 500, settle_seconds: int = 30) -> int:
    """Apply the recent facts whose task never ran (a lost enqueue); bounded by ``limit``, idempotent, one
    transaction per merchant, each in its own context. How many."""
    missing = facts_missing(hours=hours, limit=limit, settle_seconds=settle_seconds)
    by_merchant: dict[int, list[tuple[str, int]]] = {}
    for merchant_id, kind, key in missing:
        by_merchant.setdefault(merchant_id, []).append((kind, key))
    merchants: dict[int, Merchant] = Merchant.objects.in_bulk(by_merchant)
    return sum(facts_apply(merchant=merchants[pk], facts=facts) for pk, facts in by_merchant.items() if pk in merchants)
