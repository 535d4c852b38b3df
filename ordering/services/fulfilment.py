"""Fulfilment, the wholesaler's side: confirm and allocate depot stock, substitute, pick, ship
(backordering what the depot could not send), deliver, cancel, and the invoice and pick list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone

from catalog.models import Product
from merchants.models import Merchant
from merchants.tenancy import merchant_context
from ordering import selectors
from ordering.models import DepotStock, OrderState, PurchaseOrder, PurchaseOrderLine
from ordering.services.base import (
    CANCELLABLE_BY_SHOP,
    CANCELLABLE_BY_WHOLESALER,
    OrderError,
    carried_check,
    day_label,
    mail_after_commit,
    order_create,
    order_locked,
    order_move,
    transition_record,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _lines_and_depot_rows(order: PurchaseOrder) -> tuple[list[PurchaseOrderLine], dict[int, DepotStock]]:
    """The order's lines, and the depot's stock rows of what they ship, locked in product order so that
    two orders sharing products never deadlock."""
    lines = list(order.lines.select_related("product", "substitute").order_by("pk"))
    rows = {
        row.product_id: row
        for row in DepotStock.objects.select_for_update()
        .filter(depot_id=order.depot_id, product_id__in=sorted({line.shipped_product.pk for line in lines}))
        .order_by("product_id")
    }
    return lines, rows


def purchase_order_confirm(
    *,
    merchant: Merchant,
    order_id: int,
    by: User | None,
    allocations: Mapping[int, int] | None = None,
    backorder_short: bool = True,
) -> PurchaseOrder:
    """The wholesaler accepts the order and allocates depot stock per line; short lines are backordered or cancelled.

    ``allocations`` (line id → units) lowers what a line gets; it never exceeds what was ordered or
    what the depot has free. Depot rows are locked in product order, so confirmations cannot deadlock.
    """
    allocations = allocations or {}
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        if order.state != OrderState.SUBMITTED:
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}: only submitted orders are confirmed.",
                code="not_submitted",
            )
        lines, stock = _lines_and_depot_rows(order)
        short = []
        for line in lines:
            row = stock.get(line.shipped_product.pk)
            wanted = line.quantity
            if line.pk in allocations:
                wanted = allocations[line.pk]
                if not 0 <= wanted <= line.quantity:
                    raise OrderError(
                        f"{line.product}: allocate between 0 and the {line.quantity} ordered.", code="bad_allocation"
                    )
            elif line.allocated_quantity is not None:
                wanted = min(line.allocated_quantity, line.quantity)
            free = row.allocatable if row else 0
            allocated = min(wanted, free)
            if allocated < wanted and line.case_pack > 1 and line.substitute_id is None:
                allocated -= allocated % line.case_pack  # the depot ships whole cases
            if row and allocated:
                DepotStock.objects.filter(pk=row.pk).update(allocated=F("allocated") + allocated)
                row.allocated += allocated
            missing = line.quantity - allocated
            line.allocated_quantity = allocated
            line.backordered_quantity = missing if backorder_short else 0
            line.save(update_fields=["allocated_quantity", "backordered_quantity"])
            if missing:
                short.append(f"{line.product}: {allocated} of {line.quantity}")
        note = (
            ("Short: " + "; ".join(short) + (" (backordered)" if backorder_short else " (cancelled)")) if short else ""
        )
        order_move(order, to=OrderState.CONFIRMED, by=by, note=note)
    return order


def purchase_order_pick(*, merchant: Merchant, order_id: int, by: User | None) -> PurchaseOrder:
    """Confirmed → picking (the pick list is printed); atomic, CAS."""
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        if order.state != OrderState.CONFIRMED:
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}, not confirmed.", code="state"
            )
        return order_move(order, to=OrderState.PICKING, by=by, note="Pick list printed")


def purchase_order_ship(
    *, merchant: Merchant, order_id: int, by: User | None, now: dt.datetime | None = None
) -> PurchaseOrder:
    """Confirmed or picking → shipped; atomic, CAS; the owner is mailed after commit.

    Allocated units leave the depot; backordered ones go on a backorder for the next delivery.
    """
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        if order.state not in (OrderState.CONFIRMED, OrderState.PICKING):
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}: only confirmed orders ship.",
                code="state",
            )
        lines, rows = _lines_and_depot_rows(order)
        for line in lines:
            units = line.allocated_quantity or 0
            row = rows.get(line.shipped_product.pk)
            if units and row is not None:
                DepotStock.objects.filter(pk=row.pk).update(
                    on_hand=F("on_hand") - units, allocated=F("allocated") - units
                )
            line.shipped_quantity = units
            line.save(update_fields=["shipped_quantity"])
        backorder = _backorder_create(order, lines, merchant=merchant, by=by, now=now or timezone.now())
        order_move(
            order,
            to=OrderState.SHIPPED,
            by=by,
            note=f"Backordered units follow in {backorder.number}" if backorder else "",
        )
        mail_after_commit("shipped", order)
    return order


def _backorder_create(
    order: PurchaseOrder, lines: list[PurchaseOrderLine], *, merchant: Merchant, by: User | None, now: dt.datetime
) -> PurchaseOrder | None:
    """What the depot could not send goes on an order of its own for the store's next delivery,
    already submitted (the shop ordered it once), so the wholesaler confirms it like any other."""
    owed = [line for line in lines if line.backordered_quantity]
    if not owed:
        return None
    supply = selectors.supply_get(merchant=merchant, store=order.store)
    delivery_date = (
        selectors.delivery_next(supply=supply, now=now, after=order.delivery_date).date
        if supply
        else order.delivery_date + dt.timedelta(days=7)
    )
    backorder = order_create(
        merchant_id=order.merchant_id,
        store_id=order.store_id,
        depot_id=order.depot_id,
        state=OrderState.SUBMITTED,
        delivery_date=delivery_date,
        currency=order.currency,
        notes=[f"Backorder of {order.number}: the units its depot could not send on {day_label(order.delivery_date)}."],
        created_by=by,
        submitted_at=now,
        backorder_of=order,
    )
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(
            merchant_id=order.merchant_id,
            order=backorder,
            store_product_id=line.store_product_id,
            product_id=line.product_id,
            case_pack=line.case_pack,
            unit_cost=line.unit_cost,
            quantity=line.backordered_quantity,
            explanation=f"backordered from {order.number}",
        )
        for line in owed
    )
    transition_record(
        backorder, from_state="", to_state=OrderState.SUBMITTED, by=by, note=f"Backorder of {order.number}"
    )
    return backorder


def purchase_order_deliver(*, merchant: Merchant, order_id: int, by: User | None) -> PurchaseOrder:
    """Shipped → delivered (the driver handed it over); atomic, CAS."""
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        if order.state != OrderState.SHIPPED:
            raise OrderError(f"Order {order.number} is {order.get_state_display().lower()}, not shipped.", code="state")
        return order_move(order, to=OrderState.DELIVERED, by=by)


def purchase_order_cancel(
    *, merchant: Merchant, order_id: int, by: User | None, by_wholesaler: bool = False, note: str = ""
) -> PurchaseOrder:
    """Cancel an order where its state allows; allocated depot stock is released; atomic, CAS.

    The shop may cancel drafts and submitted orders; once the wholesaler confirmed, only the
    wholesaler may, until the goods ship. Shipped goods are not cancelled: they are received and claimed.
    """
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        allowed = CANCELLABLE_BY_WHOLESALER if by_wholesaler else CANCELLABLE_BY_SHOP
        if order.state not in allowed:
            if not by_wholesaler and order.state in CANCELLABLE_BY_WHOLESALER:
                reason = "it is confirmed by the wholesaler: ask them to cancel it"
            else:
                reason = f"it is {order.get_state_display().lower()}; note problems when you receive it"
            raise OrderError(f"Order {order.number} cannot be cancelled: {reason}.", code="not_cancellable")
        if order.state in (OrderState.CONFIRMED, OrderState.PICKING):
            lines, rows = _lines_and_depot_rows(order)
            for line in lines:
                row = rows.get(line.shipped_product.pk)
                if row is not None and line.allocated_quantity:
                    DepotStock.objects.filter(pk=row.pk).update(allocated=F("allocated") - line.allocated_quantity)
        return order_move(order, to=OrderState.CANCELLED, by=by, note=note)


def purchase_order_line_substitute(
    *, merchant: Merchant, order_id: int, line_id: int, product_id: int | None
) -> PurchaseOrderLine:
    """The wholesaler sends another product for a line (or undoes that) before confirming; atomic."""
    with merchant_context(merchant.pk):
        order = order_locked(merchant, order_id)
        if order.state != OrderState.SUBMITTED:
            raise OrderError("Substitute products before confirming the order.", code="state")
        line = PurchaseOrderLine.objects.for_merchant(merchant).filter(order=order, pk=line_id).first()
        if line is None:
            raise OrderError("No such line on this order.", code="not_found")
        substitute = None
        if product_id is not None:
            substitute = Product.objects.filter(pk=product_id, wholesaler_id=order.depot.wholesaler_id).first()
            if substitute is None or substitute.pk == line.product_id:
                raise OrderError("Choose another product of the catalog.", code="bad_substitute")
            carried_check(order, substitute)
        line.substitute = substitute
        line.save(update_fields=["substitute"])
        return line
