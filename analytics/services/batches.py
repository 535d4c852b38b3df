"""Applying facts many at a time: the worker's path, with the guarantees of ``analytics.services.facts``.

A fact's task only records it as pending (``PendingFact``) and, if no drain of the merchant is queued
yet, marks the merchant due (``FactsDue``, inserted once) so that its caller enqueues one. The drain
deletes the mark, then takes up to ``BATCH_FACTS`` pending facts of the merchant and applies them in
one transaction: their ``AppliedFact`` rows inserted with ON CONFLICT DO NOTHING, and the cells of
only the rows that inserted added with one upsert per grain (the cells' SELECT sums per cell, so no
upsert touches a row twice). A batch rolled back puts its pending rows back; a fact counts once
because of its ``AppliedFact`` row, whoever applies it (a drain, the sweep, a rebuild).

Why the mark is deleted before the pending facts are read, and a fact's transaction holds the mark's
row lock: a fact either was committed before the drain's delete (and is read), or marks after the
mark was deleted (and enqueues the next drain). Only a drain lost on its way (a broker that dropped
it) leaves facts to the sweep, which drains a merchant whose facts have waited too long.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from analytics.contributions import FACT_SOURCES
from analytics.models import FactsDue, PendingFact
from analytics.services.facts import facts_add
from merchants.models import Merchant
from merchants.tenancy import merchant_context, platform_access

# Facts per transaction: enough that a backlog drains at many facts per statement, few enough that a
# store's rebuild (which waits for the batch) is not held up for more than a second or so.
BATCH_FACTS = 500


class Drained(NamedTuple):
    taken: int  # pending facts consumed (a full batch: more may wait)
    applied: int  # of which this call applied (the others were applied already, or are not facts)


def fact_pend(*, merchant_id: int, kind: str, key: int) -> bool:
    """Record a fact for the merchant's next batch; atomic, idempotent, scoped. True when this call marked the
    merchant due, and the caller must enqueue its drain (``analytics.tasks.facts_drain``).

    By id, with no lookup of the merchant: it runs once per fact, and the foreign key refuses an unknown one.
    """
    if kind not in FACT_SOURCES:
        raise ValueError(f"Unknown kind of fact {kind!r}.")
    with merchant_context(merchant_id), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_pendingfact (merchant_id, kind, key, created_at) VALUES (%s, %s, %s, now()) "
            "ON CONFLICT (merchant_id, kind, key) DO NOTHING",
            [merchant_id, kind, key],
        )
        # DO UPDATE, not DO NOTHING: it locks a mark already there until this commits, so a drain deleting the
        # mark meanwhile waits, and reads this fact after. xmax is 0 on a row this statement inserted.
        cursor.execute(
            "INSERT INTO analytics_factsdue (merchant_id, marked_at) VALUES (%s, now()) ON CONFLICT (merchant_id) "
            "DO UPDATE SET marked_at = analytics_factsdue.marked_at RETURNING xmax = 0",
            [merchant_id],
        )
        return bool(cursor.fetchone()[0])


def facts_due_mark(*, merchant: Merchant) -> bool:
    """Mark the merchant due unless it is; scoped. True when this call marked it (the caller enqueues the drain)."""
    with merchant_context(merchant.pk), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_factsdue (merchant_id, marked_at) VALUES (%s, now()) "
            "ON CONFLICT (merchant_id) DO NOTHING RETURNING id",
            [merchant.pk],
        )
        return cursor.fetchone() is not None


def facts_drain(*, merchant: Merchant, limit: int = BATCH_FACTS) -> Drained:
    """Apply up to ``limit`` of the merchant's pending facts in one transaction, each exactly once; atomic
    (a batch rolled back leaves them pending), idempotent, scoped. Concurrent drains take different facts."""
    with merchant_context(merchant.pk):
        FactsDue.objects.filter(merchant=merchant).delete()
    with merchant_context(merchant.pk), connection.cursor() as cursor:
        # Materialized: as an IN (subquery) the planner may scan it again per row deleted, and each scan
        # skips the rows just deleted, so the LIMIT would bound nothing.
        cursor.execute(
            "WITH taken AS MATERIALIZED ("
            "  SELECT id FROM analytics_pendingfact WHERE merchant_id = %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
            ") DELETE FROM analytics_pendingfact p USING taken WHERE p.id = taken.id RETURNING p.kind, p.key",
            [merchant.pk, limit],
        )
        taken = cursor.fetchall()
        applied = facts_add(cursor, taken)
    return Drained(taken=len(taken), applied=applied)


def pending_stale(*, older_than: timedelta) -> list[int]:
    """Ids of the merchants with a fact pending longer than ``older_than`` (its drain lost); across merchants,
    through the audited platform bypass."""
    with platform_access(reason="analytics: facts pending too long", actor="task:facts_sweep"):
        return sorted(
            set(
                PendingFact.objects.filter(created_at__lt=timezone.now() - older_than).values_list(
                    "merchant_id", flat=True
                )
            )
        )
