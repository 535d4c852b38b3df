"""Writes of what a unit costs the shop: a store product's moving-average cost, in the store's currency.

The cost starts as the wholesaler's cost when the product is added (if it is in the store's currency),
moves with every delivery received (a moving average of what is on hand and what arrived) and, for a
store's own products, is whatever the owner says. Sale lines copy it when they are written
(checkout.services.pricing), so a cost that changes later never changes the margin of past sales.

Lingshou has no exchange rates: a cost in another currency than the store's is refused, never
converted, and the average stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from catalog.models import MovementKind, Product, StockMovement, StoreProduct
from catalog.services.stock import Move, stock_moves
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The average_cost column is a PostgreSQL integer (minor units).
COST_MAX = 2_147_483_647


def cost_validate(cost: int | None) -> None:
    """Refuse a cost that is not None or a whole number of minor units that the column can hold."""
    if cost is None:
        return
    if not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
        raise ValidationError({"cost": "A cost cannot be negative."})
    if cost > COST_MAX:
        raise ValidationError({"cost": "This cost is too large for Lingshou to keep."})


def average_cost_initial(*, product: Product, store: Store) -> int | None:
    """The cost a wholesaler's product starts with in a store: its wholesale cost when that is known (> 0)
    and in the store's currency; otherwise unknown (None)."""
    if product.wholesale_cost <= 0 or product.wholesaler.currency != store.currency:
        return None
    return product.wholesale_cost


def moving_average(*, on_hand_before: int, average: int | None, received: int, unit_cost: int) -> int:
    """The average cost after ``received`` units at ``unit_cost`` join ``on_hand_before`` at ``average``.

    Rounded half up to the minor unit. Stock below zero counts as none (those units were sold before
    they were booked in); an unknown average gives way to the delivery's cost.
    """
    if average is None:
        return unit_cost
    before = max(on_hand_before, 0)
    total = before * average + received * unit_cost
    units = before + received
    return (2 * total + units) // (2 * units)


@dataclass(frozen=True)
class Receipt:
    """Units of one store product that arrived, and what one unit cost in ``currency`` (0: not known)."""

    store_product_id: int
    quantity: int
    unit_cost: int


@dataclass
class Received:
    """What booking a delivery did: its movements, and why costs were left as they were (for people)."""

    movements: list[StockMovement]
    cost_notes: list[str] = field(default_factory=list)


def stock_receive(
    *,
    merchant: Merchant,
    receipts: Sequence[Receipt],
    currency: str,
    note: str = "",
    reference: str = "",
    created_by: User | None = None,
) -> Received:
    """Book received units into stock and move each product's average cost with them; atomic.

    The products are locked in id order (the ledger's order, so no deadlock) before on-hand is read;
    the averages are computed from that on-hand and written in the same transaction as the receipt
    movements, so a concurrent sale or delivery can come before or after, never in between.
    """
    receipts = [receipt for receipt in receipts if receipt.quantity]
    result = Received(movements=[])
    if not receipts:
        return result
    with merchant_context(merchant.pk):
        items = {
            item.pk: item
            for item in StoreProduct.objects.for_merchant(merchant)
            .select_for_update(of=("self",))
            .filter(pk__in={receipt.store_product_id for receipt in receipts})
            .select_related("store", "product")
            .order_by("pk")
        }
        changed: dict[int, StoreProduct] = {}
        refused_currencies: set[str] = set()
        for receipt in receipts:
            item = items.get(receipt.store_product_id)
            if item is None:
                continue  # the ledger below refuses it with its own message
            if currency != item.store.currency:
                # No exchange rates: converting would invent a cost.
                refused_currencies.add(item.store.currency)
            elif receipt.unit_cost <= 0:
                result.cost_notes.append(f"{item.name}: the order gives no unit cost; its cost was left as it was.")
            else:
                item.average_cost = moving_average(
                    on_hand_before=item.on_hand,
                    average=item.average_cost,
                    received=receipt.quantity,
                    unit_cost=receipt.unit_cost,
                )
                changed[item.pk] = item
            # A product received on two lines (a substitute) averages the second on top of the first.
            item.on_hand += receipt.quantity
        for store_currency in sorted(refused_currencies):
            result.cost_notes.insert(
                0,
                f"Costs left as they were: this delivery is priced in {currency} and the store counts in "
                f"{store_currency}; Lingshou has no exchange rates to convert them.",
            )
        result.movements = stock_moves(
            merchant=merchant,
            kind=MovementKind.RECEIPT,
            moves=[Move(receipt.store_product_id, receipt.quantity) for receipt in receipts],
            note=note,
            reference=reference,
            created_by=created_by,
        )
        StoreProduct.objects.bulk_update(list(changed.values()), ["average_cost"])
    return result
