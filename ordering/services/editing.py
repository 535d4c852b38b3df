"""Editing: the owner's changes to a draft or submitted order (a line's units, a case more or less,
a product added), kept in the order's history, and sending the draft to the wholesaler."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils import timezone

from catalog.models import StoreProduct
from merchants.models import Merchant
from merchants.tenancy import merchant_context
from merchants.zones import store_zone
from ordering import selectors
from ordering.models import DepotStock, OrderState, PurchaseOrder, PurchaseOrderLine
from ordering.services.base import (
    EDITABLE,
    OrderError,
    amount_label,
    carried_check,
    day_label,
    mail_after_commit,
    order_locked,
    order_move,
    transition_record,
    whole_cases_check,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _editable(order: PurchaseOrder) -> None:
    """Refuse a change to an order the wholesaler has taken on."""
    if order.state not in EDITABLE:
        raise OrderError(
            f"Order {order.number} is {order.get_state_display().lower()}: the wholesaler has taken it on, so it "
            "can no longer be changed here. Note differences when you receive it.",
            code="not_editable",
        )


def purchase_order_line_set(
    *, merchant: Merchant, order_id: int, line_id: int, quantity: int, by: User | None = None
) -> PurchaseOrderLine | None:
    """Set a line's units (whole cases; 0 removes it) on a draft or submitted order; atomic."""
    return _line_change(merchant, order_id, line_id, lambda _line: quantity, by=by)


MAX_CASE_STEP = 100  # cases one step may add or take off


def purchase_order_line_step(
    *, merchant: Merchant, order_id: int, line_id: int, cases: int, by: User | None = None
) -> PurchaseOrderLine | None:
    """Add (negative: take off) whole cases on a line; atomic, under the order's lock.

    Read and written under the lock, so that two people stepping the same line both count; the
    last case off removes the line.
    """
    if not cases or abs(cases) > MAX_CASE_STEP:
        raise OrderError(f"Change a line by 1 to {MAX_CASE_STEP} cases at a time.", code="bad_step")
    return _line_change(
        merchant,
        order_id,
        line_id,
        lambda line: max(line.quantity + cases * line.product.case_pack, 0),
        by=by,
    )


def _line_change(
    merchant: Merchant,
    order_id: int,
    line_id: int,
    quantity_of: Callable[[PurchaseOrderLine], int],
    *,
    by: User | None,
) -> PurchaseOrderLine | None:
    """Set a line to ``quantity_of(line)`` under the order's lock, keep the change in its history; 0 removes it."""
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        _editable(order)
        line = (
            PurchaseOrderLine.objects.for_merchant(merchant)
            .select_related("product")
            .filter(order=order, pk=line_id)
            .first()
        )
        if line is None:
            raise OrderError("No such line on this order.", code="not_found")
        quantity = quantity_of(line)
        whole_cases_check(line.product, quantity)
        if not order.is_edited:
            PurchaseOrder.objects.filter(pk=order.pk).update(is_edited=True)
        _line_history(order, label=str(line.product), before=line.quantity, after=quantity, by=by)
        if quantity == 0:
            line.delete()
            return None
        line.quantity = quantity
        line.save(update_fields=["quantity"])
        return line


_RUN_START = (
    (re.compile(r"added, \d+ units"), lambda _match: None),
    (re.compile(r"(\d+) → \d+ units"), lambda match: int(match[1])),
    (re.compile(r"removed \(was (\d+) units\)"), lambda match: int(match[1])),
)


def _line_note(label: str, before: int | None, after: int) -> str:
    if before is None:
        return f"{label}: added, {after} units"
    if after == 0:
        return f"{label}: removed (was {before} units)"
    return f"{label}: {before} → {after} units"


def _line_history(order: PurchaseOrder, *, label: str, before: int | None, after: int, by: User | None) -> None:
    """Keep a change to one line in the order's history, with who made it.

    A submitted order gets an entry per change: the wholesaler may already be reading it. In a
    draft, one person's run of changes to the same line is one entry that runs from where the run
    started, so a review of many clicks reads "24 → 60 units", not one case at a time; a run that
    ends where it started leaves no entry.
    """
    if before == after:
        return
    if order.state == OrderState.DRAFT:
        last = order.transitions.order_by("-at", "-pk").first()
        prefix = f"{label}: "
        if (
            last is not None
            and last.from_state == last.to_state == OrderState.DRAFT
            and last.by_id == (by.pk if by else None)
            and last.note.startswith(prefix)
        ):
            for pattern, start in _RUN_START:
                match = pattern.fullmatch(last.note[len(prefix) :])
                if match:
                    before = start(match)
                    if before == after or (before is None and after == 0):
                        last.delete()
                    else:
                        last.note = _line_note(label, before, after)[:300]
                        last.at = timezone.now()
                        last.save(update_fields=["note", "at"])
                    return
    transition_record(order, from_state=order.state, to_state=order.state, by=by, note=_line_note(label, before, after))


def purchase_order_line_add(
    *,
    merchant: Merchant,
    order_id: int,
    store_product_id: int,
    quantity: int,
    by: User | None = None,
) -> PurchaseOrderLine:
    """Add a store product to a draft or submitted order (or set its quantity); atomic, validated."""
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        _editable(order)
        item = (
            StoreProduct.objects.for_merchant(merchant)
            .select_related("product")
            .filter(store_id=order.store_id, pk=store_product_id)
            .first()
        )
        if item is None:
            raise OrderError("This store does not sell that product.", code="not_found")
        if item.product is None:
            raise OrderError(f"{item.name} is your own product: the wholesaler cannot deliver it.", code="not_carried")
        carried_check(order, item.product)
        if quantity <= 0:
            raise OrderError("Order at least one case.", code="zero_quantity")
        whole_cases_check(item.product, quantity)
        before = (
            PurchaseOrderLine.objects.for_merchant(merchant)
            .filter(order=order, product=item.product)
            .values_list("quantity", flat=True)
            .first()
        )
        line, _ = PurchaseOrderLine.objects.update_or_create(
            merchant=merchant,
            order=order,
            product=item.product,
            defaults={
                "store_product": item,
                "quantity": quantity,
                "case_pack": item.product.case_pack,
                "unit_cost": item.product.wholesale_cost,
            },
        )
        PurchaseOrder.objects.filter(pk=order.pk).update(is_edited=True)
        _line_history(order, label=str(item.product), before=before, after=quantity, by=by)
        return line


def order_value(order: PurchaseOrder) -> int:
    """What the order's lines cost at the wholesale prices they were ordered at."""
    return sum(line.quantity * line.unit_cost for line in order.lines.all())


def purchase_order_submit(
    *, merchant: Merchant, order_id: int, by: User | None, now: dt.datetime | None = None, note: str = ""
) -> tuple[PurchaseOrder, str]:
    """Send a draft to the wholesaler; atomic, CAS. After the cut-off it moves to the next delivery and says so."""
    now = now or timezone.now()
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        if order.state != OrderState.DRAFT:
            raise OrderError(f"Order {order.number} is already {order.get_state_display().lower()}.", code="not_draft")
        lines = list(order.lines.select_related("product"))
        if not lines:
            raise OrderError("The order has no lines: add products before submitting.", code="empty")
        supply = selectors.supply_get(merchant=merchant, store=order.store)
        if supply is None:
            raise OrderError(f"{order.store.name} has no supplying depot any more.", code="no_supply")
        for line in lines:
            whole_cases_check(line.product, line.quantity)
        carried = set(
            DepotStock.objects.filter(
                depot=supply.depot, product_id__in=[line.product_id for line in lines]
            ).values_list("product_id", flat=True)
        )
        missing = [line.product.name for line in lines if line.product_id not in carried]
        if missing:
            raise OrderError(
                f"{supply.depot.name} does not carry {', '.join(missing)}: remove "
                f"{'it' if len(missing) == 1 else 'them'} first.",
                code="not_carried",
            )
        total = sum(line.quantity * line.unit_cost for line in lines)
        if supply.minimum_order_value and total < supply.minimum_order_value:
            raise OrderError(
                f"The order is worth {amount_label(total, order.currency)}; the wholesaler delivers from "
                f"{amount_label(supply.minimum_order_value, order.currency)}. Add more before submitting.",
                code="below_minimum",
            )
        message = f"Order {order.number} is submitted for delivery on {day_label(order.delivery_date)}."
        fields: dict[str, object] = {"submitted_at": now}
        deadline = selectors.order_deadline(supply=supply, delivery_date=order.delivery_date)
        if now >= deadline:
            moved = selectors.delivery_next(supply=supply, now=now)
            local = timezone.localtime(deadline, timezone=store_zone(order.store))
            message = (
                f"Orders for {day_label(order.delivery_date)} closed at {local:%H:%M} on {day_label(local.date())}: "
                f"order {order.number} moved to the next delivery, {day_label(moved.date)}."
            )
            fields["delivery_date"] = moved.date
            note = (note + " " + message).strip()
        order_move(order, to=OrderState.SUBMITTED, by=by, note=note, **fields)
        mail_after_commit("submitted", order)
    return order, message
