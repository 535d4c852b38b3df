"""Writes of stock counts: open a count, record what is on the shelf, close it into count movements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.models import (
    CountLine,
    CountSession,
    MovementKind,
    StockMovement,
    StoreProduct,
)
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from catalog.services.stock import stock_move


def count_session_start(
    *, merchant: Merchant, store: Store, started_by: User | None = None, note: str = ""
) -> CountSession:
    """Open a count for a store; scoped."""
    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    with merchant_context(merchant.pk):
        return CountSession.objects.create(merchant=merchant, store=store, started_by=started_by, note=note[:200])


def count_line_set(*, merchant: Merchant, session_id: int, store_product_id: int, counted: int) -> CountLine:
    """Record (or correct) what was counted of one product; idempotent per product."""
    if counted < 0:
        raise ValidationError({"counted": "A count cannot be negative."})
    with merchant_context(merchant.pk):
        session = CountSession.objects.for_merchant(merchant).filter(pk=session_id).first()
        if session is None:
            raise ValidationError({"session": "No such count."})
        if session.status != CountSession.Status.OPEN:
            raise ValidationError({"session": "This count is closed."})
        if (
            not StoreProduct.objects.for_merchant(merchant)
            .filter(store_id=session.store_id, pk=store_product_id)
            .exists()
        ):
            raise ValidationError({"store_product": "This product is not sold in the counted store."})
        line, _ = CountLine.objects.update_or_create(
            merchant=merchant,
            session=session,
            store_product_id=store_product_id,
            defaults={"counted": counted, "updated_at": timezone.now()},
        )
    return line


def count_session_close(*, merchant: Merchant, session_id: int, closed_by: User | None = None) -> list[StockMovement]:
    """Close a count: each difference between counted and on hand becomes a count movement.

    Atomic and idempotent: the session is locked and closed once; a second call changes nothing.
    """
    with merchant_context(merchant.pk):
        session = CountSession.objects.for_merchant(merchant).select_for_update().filter(pk=session_id).first()
        if session is None:
            raise ValidationError({"session": "No such count."})
        if session.status != CountSession.Status.OPEN:
            return []
        lines = list(session.lines.order_by("store_product_id"))
        on_hand = dict(
            StoreProduct.objects.for_merchant(merchant)
            .select_for_update()
            .filter(pk__in=[line.store_product_id for line in lines])
            .order_by("pk")
            .values_list("pk", "on_hand")
        )
        movements: list[StockMovement] = []
        for line in lines:
            line.expected = on_hand[line.store_product_id]
            line.save(update_fields=["expected"])
            if line.counted != line.expected:
                movements.append(
                    stock_move(
                        merchant=merchant,
                        store_product_id=line.store_product_id,
                        kind=MovementKind.COUNT,
                        quantity=line.counted - line.expected,
                        reference=f"catalog.countsession:{session.pk}",
                        created_by=closed_by,
                    )
                )
        session.status = CountSession.Status.CLOSED
        session.closed_at = timezone.now()
        session.save(update_fields=["status", "closed_at"])
    return movements
