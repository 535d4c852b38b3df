"""What every ordering service shares: the states an order may be changed in, its number, its lock,
the compare-and-swap that moves it and the transition that keeps the move, and the order e-mails.

Every state change is a compare-and-swap (``UPDATE … WHERE state = <the state we checked>``) in
the same transaction as its side rows, and is kept as a transition (who, when, from, to, note).
A second click, a redelivered task or the wholesaler acting at the same moment finds the state
moved on and changes nothing. E-mails are queued after commit.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.formats import date_format

from catalog.models import Product
from core.money import format_amount
from core.outbox import send_on_commit
from merchants.models import Merchant
from ordering.models import DepotStock, OrderState, PurchaseOrder, PurchaseOrderTransition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CANCELLABLE_BY_SHOP = (OrderState.DRAFT, OrderState.SUBMITTED)
CANCELLABLE_BY_WHOLESALER = (OrderState.DRAFT, OrderState.SUBMITTED, OrderState.CONFIRMED, OrderState.PICKING)
EDITABLE = (OrderState.DRAFT, OrderState.SUBMITTED)
RECEIVABLE = (OrderState.SHIPPED, OrderState.DELIVERED)


class OrderError(ValidationError):
    """An order change that was refused; nothing was written."""


def day_label(value: dt.date) -> str:
    """A delivery day as the owner reads it: "Monday 23 November"."""
    return date_format(value, "l j F")


def amount_label(amount: int, currency: str) -> str:
    """An amount in minor units, written out with its currency as every page writes money (core.money)."""
    return format_amount(amount, currency)


def order_create(**fields: object) -> PurchaseOrder:
    """A new order whose number is its id (taken from the sequence first, so both are set at once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('ordering_purchaseorder', 'id'))")
        order_id = int(cursor.fetchone()[0])
    return PurchaseOrder.objects.create(pk=order_id, number=f"PO-{order_id:06d}", **fields)


def transition_record(order: PurchaseOrder, *, from_state: str, to_state: str, by: User | None, note: str = "") -> None:
    """Keep a change of the order in its history (who, from, to, why); the note is cut to fit."""
    PurchaseOrderTransition.objects.create(
        merchant_id=order.merchant_id, order=order, from_state=from_state, to_state=to_state, by=by, note=note[:300]
    )


def order_move(order: PurchaseOrder, *, to: str, by: User | None, note: str = "", **fields: object) -> PurchaseOrder:
    """Compare-and-swap the order from the state it was read in to ``to``; refuse if it moved meanwhile."""
    changed = PurchaseOrder.objects.filter(merchant_id=order.merchant_id, pk=order.pk, state=order.state).update(
        state=to, **fields
    )
    if not changed:
        current = PurchaseOrder.objects.filter(pk=order.pk).values_list("state", flat=True).first()
        raise OrderError(
            f"Order {order.number} is {OrderState(current).label.lower() if current else 'gone'} now; nothing changed.",
            code="state_changed",
        )
    transition_record(order, from_state=order.state, to_state=to, by=by, note=note)
    order.state = to
    for name, value in fields.items():
        setattr(order, name, value)
    return order


def order_locked(merchant: Merchant, order_id: int) -> PurchaseOrder:
    """The merchant's order under its row lock, with store and depot; call inside the merchant's context."""
    order = (
        PurchaseOrder.objects.for_merchant(merchant)
        .select_for_update(of=("self",))
        .select_related("store", "depot")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise OrderError("No such order.", code="not_found")
    return order


def mail_after_commit(event: str, order: PurchaseOrder) -> None:
    """Queue the order's e-mail for ``event`` once the transaction commits (never for a rolled-back change), through
    the outbox: a publish lost to a broker outage is sent by its relay."""
    send_on_commit("ordering.tasks.purchase_order_mail", [order.merchant_id, order.pk, event])


def carried_check(order: PurchaseOrder, product: Product) -> None:
    """Refuse a product the order's depot does not carry."""
    if not DepotStock.objects.filter(depot_id=order.depot_id, product=product).exists():
        raise OrderError(f"{order.depot.name} does not carry {product.name}.", code="not_carried")


def whole_cases_check(product: Product, quantity: int) -> None:
    """Refuse a negative quantity, or one that is not whole cases of the product."""
    if quantity < 0:
        raise OrderError("A quantity cannot be negative.", code="negative_quantity")
    if quantity % product.case_pack:
        lower = quantity // product.case_pack * product.case_pack
        upper = lower + product.case_pack
        choices = f"{lower} or {upper}" if lower else f"{upper}"
        raise OrderError(
            f"{product.name} comes in cases of {product.case_pack}: {quantity} is not whole cases ({choices}).",
            code="not_whole_cases",
        )
