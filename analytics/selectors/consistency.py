"""The rollups checked against the raw facts, cell by cell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection

from analytics.contributions import GRAINS, Grain, all_facts_sql
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper


@dataclass(frozen=True)
class Mismatch:
    table: str
    cell: dict[str, object]
    expected: dict[str, int]
    actual: dict[str, int]

    def __str__(self) -> str:
        differences = ", ".join(
            f"{column} {self.actual[column]} (raw facts: {self.expected[column]})"
            for column in self.expected
            if self.expected[column] != self.actual[column]
        )
        cell = " ".join(f"{name}={value}" for name, value in self.cell.items() if name != "merchant_id")
        return f"{self.table} {cell}: {differences}"


def _compare(
    cursor: CursorWrapper, *, grain: Grain, facts: str, params: list[Any], limit: int
) -> tuple[int, list[Mismatch]]:
    table, key, sums, cells = grain.table, grain.key, grain.sums, grain.cells(facts)
    on = " AND ".join(f"e.{column} = a.{column}" for column in key)
    differs = " OR ".join(f"COALESCE(e.{column}, 0) <> COALESCE(a.{column}, 0)" for column in sums)
    sql = (
        f"WITH e AS (SELECT * FROM ({cells}) cells WHERE local_date >= %s), "  # noqa: S608 - our SQL; values are parameters  # nosec B608
        f"a AS (SELECT * FROM {table} WHERE merchant_id = %s AND store_id = %s AND local_date >= %s) "
        f"SELECT COUNT(*) OVER (), {', '.join(f'COALESCE(e.{c}, a.{c})' for c in key)}, "
        f"{', '.join(f'COALESCE(e.{c}, 0)' for c in sums)}, {', '.join(f'COALESCE(a.{c}, 0)' for c in sums)} "
        f"FROM e FULL OUTER JOIN a ON {on} WHERE {differs} ORDER BY 2, 3, 4, 5 LIMIT %s"
    )
    cursor.execute(sql, [*params, max(limit, 1)])
    rows = cursor.fetchall()
    if not rows:
        return 0, []
    mismatches = [
        Mismatch(
            table=table,
            cell=dict(zip(key, row[1 : 1 + len(key)], strict=True)),
            expected=dict(zip(sums, row[1 + len(key) : 1 + len(key) + len(sums)], strict=True)),
            actual=dict(zip(sums, row[1 + len(key) + len(sums) :], strict=True)),
        )
        for row in rows[:limit]
    ]
    return int(rows[0][0]), mismatches


def rollups_mismatches(
    *, merchant: Merchant, store: Store, since: date | None = None, limit: int = 5
) -> tuple[int, list[Mismatch]]:
    """How many of the store's cells differ from a sum over the raw facts, and the first ``limit``; read-only, scoped.

    A cell missing on either side counts as zeros, so a cell only the rollups have, or only the
    facts imply, is a mismatch too. Facts not applied yet (a task still queued) show up here.
    """
    first_day = since or date(1, 1, 1)
    facts = f"SELECT kind, key FROM ({all_facts_sql()}) f WHERE f.merchant_id = %s AND f.store_id = %s"  # noqa: S608 - our SQL  # nosec B608
    total = 0
    found: list[Mismatch] = []
    with merchant_context(merchant.pk), connection.cursor() as cursor:
        for grain in GRAINS:
            params: list[Any] = [merchant.pk, store.pk, first_day, merchant.pk, store.pk, first_day]
            count, mismatches = _compare(cursor, grain=grain, facts=facts, params=params, limit=limit - len(found))
            total += count
            found.extend(mismatches)
    return total, found[:limit]
