"""Writes of the stock ledger: every change of on-hand stock, as movements.

The ledger's one rule: a StoreProduct's ``on_hand`` always equals the sum of its movements.
``stock_moves`` is the only code that changes ``on_hand``; it adds the movements' quantities with
a single ``UPDATE … SET on_hand = on_hand + q … RETURNING`` (the row locks make concurrent
movements queue, none is lost) and inserts the movements in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import (
    AdjustmentReason,
    MovementKind,
    StockMovement,
    StoreProduct,
)
from core.inputs import column_range
from merchants.models import Merchant
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Which way each kind of movement may go: +1 in, -1 out, 0 either.
_DIRECTION: dict[str, int] = {
    MovementKind.SALE: -1,
    MovementKind.REFUND: +1,
    MovementKind.RECEIPT: +1,
    MovementKind.ADJUSTMENT: 0,
    MovementKind.COUNT: 0,
    MovementKind.SHELF_CORRECTION: 0,
    MovementKind.WRITE_OFF: -1,
}
# A sale may take on-hand below zero (the shelf had what the books did not); it is flagged.
_MAY_GO_NEGATIVE: set[str] = {MovementKind.SALE, MovementKind.SHELF_CORRECTION}
_NEEDS_REASON: set[str] = {MovementKind.ADJUSTMENT, MovementKind.WRITE_OFF}


_ON_HAND = column_range(StoreProduct, "on_hand")


class StockError(ValidationError):
    """A movement the ledger refuses; nothing was written."""


@dataclass(frozen=True)
class Move:
    """One line of a multi-line stock change (a sale of several products, a delivery)."""

    store_product_id: int
    quantity: int


def _validate_move(kind: str, quantity: int, reason: str) -> None:
    if kind not in _DIRECTION:
        raise StockError(f"Unknown movement kind {kind!r}.", code="invalid_kind")
    if quantity == 0:
        raise StockError("A movement needs a quantity other than zero.", code="zero_quantity")
    direction = _DIRECTION[kind]
    if direction and (quantity > 0) != (direction > 0):
        raise StockError(
            f"A {MovementKind(kind).label.lower()} {'adds' if direction > 0 else 'removes'} stock.", code="wrong_sign"
        )
    if kind in _NEEDS_REASON and not reason:
        raise StockError("Give a reason for the adjustment (damaged, expired, theft, …).", code="reason_required")
    if reason and reason not in AdjustmentReason.values:
        raise StockError(f"Unknown reason {reason!r}.", code="invalid_reason")


def _apply(*, merchant_id: int, store_product_id: int, quantity: int, may_go_negative: bool) -> tuple[int, int]:
    """Add ``quantity`` to on_hand atomically; returns (on_hand after, store id). Locks the row."""
    with connection.cursor() as cursor:
        cursor.execute(
            # Adding stock is always allowed (even while on hand is still below zero); taking it
            # away may not go below zero unless the kind allows it. Checked under the row lock.
            "UPDATE catalog_storeproduct SET on_hand = on_hand + %s "
            "WHERE id = %s AND merchant_id = %s AND (%s OR %s > 0 OR on_hand::bigint + %s >= 0) "
            # Summed as bigint: the column's own type would overflow ("integer out of range") before the check.
            "AND on_hand::bigint + %s BETWEEN %s AND %s "
            "RETURNING on_hand, store_id",
            [quantity, store_product_id, merchant_id, may_go_negative, quantity, quantity, quantity, *_ON_HAND],
        )
        row = cursor.fetchone()
    if row is not None:
        return int(row[0]), int(row[1])
    current = (
        StoreProduct.objects.filter(pk=store_product_id, merchant_id=merchant_id)
        .values_list("on_hand", flat=True)
        .first()
    )
    # The row did not move, so one of the checks failed: the first that fails on the value read now says which.
    raise _refusal(current, quantity, may_go_negative=may_go_negative) or _stock_changed()


def _refusal(current: int | None, quantity: int, *, may_go_negative: bool) -> StockError | None:
    """Why adding ``quantity`` to ``current`` on hand is refused (None: it is not); ``current`` None: no such row."""
    if current is None:
        return StockError("No such product in this shop.", code="not_found")
    if not _ON_HAND[0] <= current + quantity <= _ON_HAND[1]:
        return StockError(
            f"{quantity:+} would leave {current + quantity} on hand, beyond what Lingshou can count.",
            code="out_of_range",
        )
    if not may_go_negative and quantity < 0 and current + quantity < 0:
        return StockError(
            f"Only {current} on hand: removing {-quantity} would leave {current + quantity}. Count the shelf first.",
            code="negative_stock",
        )
    return None


def _stock_changed() -> StockError:
    """Every check passes on the value read after the refusal: the row changed in between."""
    return StockError("The stock changed meanwhile: try again.", code="conflict")


# Every movement of a change in one statement, all or none: the rows are locked in id order (two changes over
# the same products cannot deadlock), every check passes on the locked values, or nothing is written and no row
# comes back. Summed as bigint: the column's own type would overflow before the range check.
_MOVE_ALL = """
WITH move AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(quantities)s::bigint[]) AS move(id, quantity)
), locked AS (
    SELECT sp.id, move.quantity, sp.on_hand::bigint + move.quantity AS after
      FROM catalog_storeproduct sp JOIN move ON move.id = sp.id
     WHERE sp.merchant_id = %(merchant)s
     ORDER BY sp.id
       FOR UPDATE OF sp
), verdict AS (
    SELECT count(*) = %(count)s AND coalesce(bool_and(
               (%(may_go_negative)s OR quantity > 0 OR after >= 0) AND after BETWEEN %(lowest)s AND %(highest)s
           ), true) AS ok
      FROM locked
)
UPDATE catalog_storeproduct sp SET on_hand = sp.on_hand + locked.quantity
  FROM locked, verdict
 WHERE verdict.ok AND sp.id = locked.id
RETURNING sp.id, sp.on_hand, sp.store_id
"""


def _apply_all(
    *, merchant_id: int, moves: Sequence[Move], may_go_negative: bool
) -> dict[int, tuple[int, int]] | StockError:
    """Apply moves of distinct products in one statement: (on hand after, store id) by product, or why nothing was
    applied (returned, not raised, so that the caller leaves its context first: nothing was written)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _MOVE_ALL,
            {
                "ids": [move.store_product_id for move in moves],
                "quantities": [move.quantity for move in moves],
                "merchant": merchant_id,
                "count": len(moves),
                "may_go_negative": may_go_negative,
                "lowest": _ON_HAND[0],
                "highest": _ON_HAND[1],
            },
        )
        rows = cursor.fetchall()
    if len(rows) == len(moves):
        return {int(row[0]): (int(row[1]), int(row[2])) for row in rows}
    on_hand = dict(
        StoreProduct.objects.filter(
            pk__in=[move.store_product_id for move in moves], merchant_id=merchant_id
        ).values_list("pk", "on_hand")
    )
    for move in sorted(moves, key=lambda m: m.store_product_id):
        refusal = _refusal(on_hand.get(move.store_product_id), move.quantity, may_go_negative=may_go_negative)
        if refusal is not None:
            return refusal
    return _stock_changed()


def stock_moves(
    *,
    merchant: Merchant,
    kind: str,
    moves: Sequence[Move],
    reason: str = "",
    note: str = "",
    reference: str = "",
    created_by: User | None = None,
) -> list[StockMovement]:
    """Apply several movements of one kind at once: all or none, atomic, deadlock-free.

    Rows are locked in id order, so two multi-line changes over the same products always take
    their locks in the same order and cannot deadlock each other.
    """
    merchant_id = merchant.pk
    for move in moves:
        _validate_move(kind, move.quantity, reason)
    movements = []
    now = timezone.now()
    may_go_negative = kind in _MAY_GO_NEGATIVE
    distinct = len({move.store_product_id for move in moves}) == len(moves)
    refused: StockError | None = None
    # Distinct products: one statement changes all or none, so the block needs no savepoint of its own (a
    # refusal is raised after it); the same product twice is moved one row at a time, inside a savepoint.
    with merchant_context(merchant_id, savepoint=not distinct):
        applied = _apply_all(merchant_id=merchant_id, moves=moves, may_go_negative=may_go_negative) if distinct else {}
        if isinstance(applied, StockError):
            refused, applied = applied, {}
        for move in sorted(moves, key=lambda m: m.store_product_id) if refused is None else []:
            after, store_id = applied.get(move.store_product_id) or _apply(
                merchant_id=merchant_id,
                store_product_id=move.store_product_id,
                quantity=move.quantity,
                may_go_negative=may_go_negative,
            )
            movements.append(
                StockMovement(
                    merchant_id=merchant_id,
                    store_id=store_id,
                    store_product_id=move.store_product_id,
                    kind=kind,
                    quantity=move.quantity,
                    reason=reason,
                    note=note[:200],
                    reference=reference[:100],
                    is_flagged_negative=after < 0,
                    on_hand_after=after,
                    created_by=created_by,
                    created_at=now,
                )
            )
        StockMovement.objects.bulk_create(movements)  # none when refused
        # A movement that lifts on hand from zero (or below) ends a stock-out: analytics counts its minutes.
        restocked = [m.pk for m in movements if m.on_hand_after > 0 and m.on_hand_after - m.quantity <= 0]
        for movement_id in restocked:
            # robust: the movement is booked whatever the broker does; analytics' facts_sweep applies a lost task.
            transaction.on_commit(
                partial(current_app.send_task, "analytics.tasks.stockout_apply", args=[merchant_id, movement_id]),
                robust=True,
            )
    if refused is not None:
        raise refused
    return movements


def stock_move(
    *,
    merchant: Merchant,
    store_product_id: int,
    kind: str,
    quantity: int,
    reason: str = "",
    note: str = "",
    reference: str = "",
    created_by: User | None = None,
) -> StockMovement:
    """Record one movement and move on_hand with it; atomic, never loses a concurrent update."""
    return stock_moves(
        merchant=merchant,
        kind=kind,
        moves=[Move(store_product_id, quantity)],
        reason=reason,
        note=note,
        reference=reference,
        created_by=created_by,
    )[0]


def stock_adjust(
    *,
    merchant: Merchant,
    store_product_id: int,
    quantity: int,
    reason: str,
    note: str = "",
    created_by: User | None = None,
) -> StockMovement:
    """An owner's adjustment: needs a reason, and may not take stock below zero."""
    kind = (
        MovementKind.WRITE_OFF
        if reason in {AdjustmentReason.DAMAGED, AdjustmentReason.EXPIRED} and quantity < 0
        else MovementKind.ADJUSTMENT
    )
    return stock_move(
        merchant=merchant,
        store_product_id=store_product_id,
        kind=kind,
        quantity=quantity,
        reason=reason,
        note=note,
        created_by=created_by,
    )
