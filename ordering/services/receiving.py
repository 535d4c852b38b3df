"""Receiving: the store counts a delivery in (damaged units apart), the good units go into stock at the
order's unit cost (moving each product's average cost) and every difference goes to the wholesaler as a
claim, which the wholesaler resolves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from catalog.models import StoreProduct
from catalog.services.assortment import assortment_add
from catalog.services.costs import Receipt, stock_receive
from merchants.models import Merchant
from merchants.tenancy import merchant_context
from ordering.models import Claim, ClaimLine, OrderState, PurchaseOrder, PurchaseOrderLine
from ordering.services.base import RECEIVABLE, OrderError, order_locked, order_move

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Count:
    """What the store counted of one line: units that arrived (damaged ones included), and of those damaged."""

    received: int
    damaged: int = 0


@dataclass(frozen=True)
class Difference:
    """One line of a claim: what was shipped against what the store counted."""

    line: PurchaseOrderLine
    shipped: int
    received: int
    damaged: int

    @property
    def text(self) -> str:
        """ "6 missing", "2 damaged", "3 more than shipped", joined for one line."""
        parts = []
        if self.received < self.shipped:
            parts.append(f"{self.shipped - self.received} missing")
        if self.received > self.shipped:
            parts.append(f"{self.received - self.shipped} more than shipped")
        if self.damaged:
            parts.append(f"{self.damaged} damaged")
        return ", ".join(parts)


def receiving_differences(lines: Sequence[PurchaseOrderLine], counts: Mapping[int, Count]) -> list[Difference]:
    """The claim a booking of ``counts`` files: every line whose count is not what was shipped, or has damage.

    A line without a count arrived as shipped. Pure: the receiving page shows it before anything is booked.
    """
    differences = []
    for line in lines:
        shipped = line.shipped_quantity or 0
        count = counts.get(line.pk, Count(received=shipped))
        if count.received != shipped or count.damaged:
            differences.append(Difference(line, shipped, count.received, count.damaged))
    return differences


def _store_product_for(merchant: Merchant, order: PurchaseOrder, line: PurchaseOrderLine) -> StoreProduct:
    """The store's product the line's units are booked to: the substitute's, listed now if the store had none."""
    if line.substitute_id is None:
        return line.store_product
    item = (
        StoreProduct.objects.for_merchant(merchant)
        .filter(store_id=order.store_id, product_id=line.substitute_id)
        .first()
    )
    if item is not None:
        return item
    return assortment_add(merchant=merchant, store=order.store, product=line.substitute)  # type: ignore[arg-type]


def purchase_order_receive(
    *, merchant: Merchant, order_id: int, counts: Mapping[int, Count], by: User | None, note: str = ""
) -> PurchaseOrder:
    """Book a delivery into stock: receipt movements of the good units, a claim for every difference.

    Atomic and CAS: the ledger moves, the average costs move, the order becomes received and the claim
    is opened together, or nothing happens. More than shipped is booked (the goods are there) and
    flagged in the claim. The line's unit cost is in the order's currency (the wholesaler's): when that
    is not the store's, costs stay as they were (Lingshou has no exchange rates) and the order's notes
    and history say so.
    """
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        if order.state not in RECEIVABLE:
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}: only a shipped order can be received.",
                code="state",
            )
        lines = list(order.lines.select_related("product", "substitute", "store_product").order_by("pk"))
        unknown = set(counts) - {line.pk for line in lines}
        if unknown:
            raise OrderError("A counted line is not on this order.", code="not_found")
        receipts: list[Receipt] = []
        for line in lines:
            count = counts.get(line.pk, Count(received=line.shipped_quantity or 0))
            if count.received < 0 or count.damaged < 0:
                raise OrderError(f"{line.product}: counts cannot be negative.", code="negative_quantity")
            if count.damaged > count.received:
                raise OrderError(
                    f"{line.product}: {count.damaged} damaged is more than the {count.received} that arrived.",
                    code="damaged_exceeds_received",
                )
            shipped = line.shipped_quantity or 0
            line.received_quantity = count.received
            line.damaged_quantity = count.damaged
            line.is_over_received = count.received > shipped
            line.save(update_fields=["received_quantity", "damaged_quantity", "is_over_received"])
            good = count.received - count.damaged
            if good:
                # A substitute is billed at the ordered line's cost: that is what the store pays for it.
                receipts.append(Receipt(_store_product_for(merchant, order, line).pk, good, line.unit_cost))
        differences = receiving_differences(lines, counts)
        received = stock_receive(
            merchant=merchant,
            receipts=receipts,
            currency=order.currency,
            note=f"Delivery {order.number}",
            reference=f"ordering.purchaseorder:{order.pk}",
            created_by=by,
        )
        summary = note
        if differences:
            over = [d for d in differences if d.received > d.shipped]
            claim = Claim.objects.create(merchant=merchant, order=order, note=note[:300], created_by=by)
            ClaimLine.objects.bulk_create(
                ClaimLine(
                    merchant=merchant,
                    claim=claim,
                    line=difference.line,
                    shipped=difference.shipped,
                    received=difference.received,
                    damaged=difference.damaged,
                )
                for difference in differences
            )
            summary = (
                f"Claim opened: {len(differences)} line{'s' if len(differences) != 1 else ''} differ"
                + (f", {len(over)} with more than shipped" if over else "")
                + (f". {note}" if note else "")
            )
        if received.cost_notes:
            # Shown on the order's page; the history keeps them with the receipt.
            order.notes = [*order.notes, *received.cost_notes]
            order.save(update_fields=["notes"])
            summary = " ".join([summary, *received.cost_notes]).strip()
        order_move(order, to=OrderState.RECEIVED, by=by, note=summary, received_at=timezone.now())
    return order


def claim_resolve(*, merchant: Merchant, claim_id: int, resolution: str) -> Claim:
    """The wholesaler closes a claim (credit note, redelivery…); idempotent."""
    with merchant_context(merchant.pk):
        Claim.objects.for_merchant(merchant).open().filter(pk=claim_id).update(
            status="resolved", resolution=resolution[:300], resolved_at=timezone.now()
        )
        claim = Claim.objects.for_merchant(merchant).filter(pk=claim_id).first()
        if claim is None:
            raise OrderError("No such claim.", code="not_found")
        return claim
