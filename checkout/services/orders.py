"""Orders placed from a cart: the stock reservation, marking paid once, cancelling, refunds recorded, expiry.

The rules that keep order, ledger and money in agreement:
- prices come from the store at placement, never from the browser;
- placing an order locks its products' rows (in id order) and refuses units other pending
  orders hold, so two shoppers racing for the last unit get a clear answer before paying;
- an order is marked paid exactly once (compare-and-swap on its status), and its sale movements
  are written in that same transaction; a replayed or late webhook finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import MovementKind, StoreProduct
from catalog.selectors import LookupError_, store_product_by_code
from catalog.services.stock import Move, stock_moves
from checkout.choices import Channel, LineKind, OrderStatus, RefundMethod
from checkout.errors import CheckoutError
from checkout.models import CartLine, Order, OrderLine, Refund, Shift, Shopper, Visit
from checkout.services import pricing
from checkout.services.carts import cart_take_out
from checkout.services.exit_passes import exit_pass_issue
from checkout.services.pricing import Sold
from core.outbox import send_on_commit
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("lingshou.checkout")

RESERVATION = timedelta(minutes=10)


def _reserved(*, merchant_id: int, product_ids: list[int]) -> dict[int, int]:
    """Units (grams for products sold by weight) held by orders still waiting for payment within their reservation."""
    held = (
        OrderLine.objects.filter(merchant_id=merchant_id, store_product_id__in=product_ids)
        .held(timezone.now())
        .values("store_product_id")
        .annotate(units=Sum(F("quantity") * Coalesce("weight_grams", 1)))
    )
    return {row["store_product_id"]: row["units"] for row in held}


def available_units(*, merchant_id: int, items: list[StoreProduct]) -> dict[int, int]:
    """Units a shopper can still buy of each item (by id): on hand minus what pending orders hold; one query."""
    held = _reserved(merchant_id=merchant_id, product_ids=[item.pk for item in items]) if items else {}
    return {item.pk: item.on_hand - held.get(item.pk, 0) for item in items}


def cart_line_sold(store: Store, line: CartLine, item: StoreProduct) -> Sold | str:
    """One cart line as a product to sell (a scale label read again, never trusted from the cart), or what is
    wrong with its label. Only inside the store's merchant context."""
    if not line.code:
        return Sold(item=item, quantity=line.quantity)
    try:
        found = store_product_by_code(store=store, code=line.code)
    except LookupError_ as error:
        return f"{item.name}: {error}"
    if found.store_product.pk != item.pk or found.variable is None:
        return f"{item.name}: this scale label no longer names it; remove it from your cart."
    return Sold(
        item=item,
        quantity=line.quantity,
        code=line.code,
        label_price=found.label_price,
        weight_grams=found.weight_grams,
    )


def _cart_sold(store: Store, lines: list[CartLine], items: dict[int, StoreProduct]) -> tuple[list[Sold], list[str]]:
    """The cart's lines as products to sell, and problems."""
    sold: list[Sold] = []
    problems: list[str] = []
    for line in lines:
        item = items.get(line.store_product_id)
        if item is None or not item.is_active:
            problems.append("A product in your cart is no longer sold here; remove it.")
            continue
        entry = cart_line_sold(store, line, item)
        if isinstance(entry, str):
            problems.append(entry)
        else:
            sold.append(entry)
    return sold, problems


def order_place(*, visit: Visit, email: str = "", shopper: Shopper | None = None) -> Order:
    """Turn the cart into an order at today's store prices (a scale label's at its label's), holding its units
    for RESERVATION.

    Atomic. Refuses (CheckoutError, nothing written) an empty cart, an inactive product, a scale
    label that no longer reads, or more units than are available once other shoppers'
    reservations are counted.
    """
    with merchant_context(visit.merchant_id):
        store = Store.objects.select_related("merchant").get(pk=visit.store_id)
        lines = list(CartLine.objects.of_visit(visit).order_by("store_product_id", "code"))
        if not lines:
            raise CheckoutError("Your cart is empty.", code="empty_cart")
        # Lock the products in id order: concurrent placements queue here and never deadlock.
        items = {
            item.pk: item
            for item in StoreProduct.objects.select_for_update(of=("self",))
            .filter(merchant_id=visit.merchant_id, store_id=store.pk, pk__in=[line.store_product_id for line in lines])
            .select_related("product")
            .order_by("pk")
        }
        held = _reserved(merchant_id=visit.merchant_id, product_ids=list(items))
        sold, problems = _cart_sold(store, lines, items)
        wanted: dict[int, int] = defaultdict(int)
        for entry in sold:
            wanted[entry.item.pk] += entry.quantity * (entry.weight_grams or 1)
        for item_id, units in wanted.items():
            item = items[item_id]
            free = item.on_hand - held.get(item.pk, 0)
            if units > free:
                if free <= 0:
                    problems.append(f"{item.name} is sold out; remove it from your cart.")
                elif item.is_sold_by_weight:
                    problems.append(f"{item.name}: only {free} g left.")
                else:
                    problems.append(f"{item.name}: only {free} left.")
        if problems:
            raise CheckoutError(problems, code="unavailable")
        order = Order.objects.create(
            merchant_id=visit.merchant_id,
            store=store,
            visit=visit,
            channel=Channel.SHOPPER,
            currency=store.currency,
            prices_include_tax=store.prices_include_tax,
            subtotal=0,
            tax_total=0,
            total=0,
            reserved_until=timezone.now() + RESERVATION,
            email=email or (shopper.email if shopper else ""),
            shopper=shopper,
        )
        order_lines = pricing.order_lines_add(order=order, store=store, sold=sold)
        pricing.order_totals_write(order=order, lines=order_lines)
    return order


@transaction.atomic
def order_place_or_resume(*, visit: Visit, email: str = "", shopper: Shopper | None = None) -> Order:
    """The visit's order whose payment never started, when it holds the cart as it is now; else a new order.

    Atomic. A checkout retried after Stripe did not answer takes up the same order (so the same
    idempotency key: one PaymentIntent) instead of placing a second one whose units the first
    still holds (the last unit would read as sold out to its own buyer). Earlier unstarted orders
    of the visit that no longer match the cart are cancelled before the new one is placed.
    """
    with merchant_context(visit.merchant_id):
        waiting = list(
            Order.objects.awaiting_payment(timezone.now())
            .filter(merchant_id=visit.merchant_id, visit=visit, channel=Channel.SHOPPER, payment_intent="")
            .select_related("store__merchant")
            .select_for_update(of=("self",))
            .order_by("-pk")
        )
        cart = sorted(CartLine.objects.of_visit(visit).values_list("store_product_id", "code", "quantity"))
        for order in waiting:
            held = OrderLine.objects.filter(order=order, kind=LineKind.PRODUCT)
            if sorted(held.values_list("store_product_id", "code", "quantity")) == cart:
                return order
            order_cancel(order=order, reason="The cart changed before the payment started.")
    return order_place(visit=visit, email=email, shopper=shopper)


def order_mark_paid(
    *, merchant: Merchant, order_id: int, payment_intent: str, amount_received: int, currency: str
) -> bool:
    """Mark the order paid exactly once, write its sale movements and issue its exit pass.

    Atomic and idempotent (compare-and-swap on the status): returns False when there was nothing
    to do (already paid, or the payment does not match the order, which is logged and left).
    A payment that arrives after the reservation ran out still books the sale; if stock went
    below zero meanwhile, the order is flagged as oversold for the owner (never silent).
    """
    with merchant_context(merchant.pk):
        order = Order.objects.select_for_update().for_merchant(merchant).filter(pk=order_id).first()
        if order is None or order.status == OrderStatus.PAID:
            return False
        if order.payment_intent and order.payment_intent != payment_intent:
            logger.error("payment_mismatch", extra={"order_id": order_id, "payment_intent": payment_intent})
            return False
        if amount_received != order.total or currency.upper() != order.currency:
            logger.error(
                "payment_amount_mismatch", extra={"order_id": order_id, "amount": amount_received, "currency": currency}
            )
            return False
        if order.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED, OrderStatus.CANCELLED):
            return False
        order.status = OrderStatus.PAID
        order.paid_at = timezone.now()
        order.payment_intent = payment_intent
        order.payment_error = ""
        lines = [line for line in order.lines.all() if line.store_product_id is not None]
        units: dict[int, int] = defaultdict(int)
        for line in lines:
            units[line.store_product_id] += line.stock_units
        movements = stock_moves(
            merchant=merchant,
            kind=MovementKind.SALE,
            moves=[Move(product_id, -quantity) for product_id, quantity in units.items()],
            reference=f"checkout.order:{order.pk}",
        )
        order.is_oversold = any(m.is_flagged_negative for m in movements)
        order.save(update_fields=["status", "paid_at", "payment_intent", "payment_error", "is_oversold"])
        exit_pass_issue(order=order)
        if order.visit_id:
            cart_take_out(
                order=order,
                bought={(line.store_product_id, line.code): line.quantity for line in lines},
            )
        # Analytics hears of the sale after commit, by task name (nothing here imports it). robust: the
        # payment is committed, so a broker outage must not turn its answer into an error; facts_sweep heals it.
        transaction.on_commit(
            lambda: current_app.send_task("analytics.tasks.order_paid_apply", args=[merchant.pk, order_id]),
            robust=True,
        )
        if order.email:
            # Through the outbox: nothing else would send the receipt again, and the payment's webhook must
            # answer 200 whatever the broker does (a 503 makes Stripe redeliver an event already applied).
            send_on_commit("checkout.tasks.receipt_send", [merchant.pk, order_id])
    return True


def order_payment_failed(*, merchant: Merchant, order_id: int, message: str) -> None:
    """Record why a payment failed; the order (and the cart) stay as they were so the shopper can retry."""
    with merchant_context(merchant.pk):
        Order.objects.pending().for_merchant(merchant).filter(pk=order_id).update(payment_error=message[:300])


def order_cancel(*, order: Order, reason: str) -> bool:
    """Give up an unpaid order: its reservation ends, the cart is untouched. Idempotent (status CAS)."""
    with merchant_context(order.merchant_id):
        return bool(
            Order.objects.filter(pk=order.pk).pending().update(status=OrderStatus.CANCELLED, payment_error=reason[:300])
        )


def refund_record(
    *,
    merchant: Merchant,
    order: Order,
    amount_refunded: int,
    reference: str = "",
    refunded_by: User | None = None,
    method: str = RefundMethod.STRIPE,
    shift: Shift | None = None,
) -> Refund | None:
    """Bring the locked order's refunds up to ``amount_refunded`` (a running total); None when nothing was left to do.

    Inside the caller's transaction, which holds the order's row lock. The difference is kept as one
    Refund row (how, by whom, out of which shift's drawer for cash). A full refund returns every unit
    to stock with refund movements; a partial one only records the amount (which units come back is
    the clerk's call, through an adjustment).
    """
    if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        return None
    if amount_refunded <= order.amount_refunded:
        return None
    refund = Refund.objects.create(
        merchant=merchant,
        order=order,
        amount=min(amount_refunded, order.total) - order.amount_refunded,
        method=method,
        shift=shift,
        stripe_reference=reference[:100],
        refunded_by=refunded_by,
    )
    order.amount_refunded = min(amount_refunded, order.total)
    order.status = OrderStatus.REFUNDED if order.amount_refunded >= order.total else OrderStatus.PARTIALLY_REFUNDED
    order.save(update_fields=["amount_refunded", "status"])
    # robust: the refund is committed; analytics' facts_sweep applies it if the broker lost the task.
    transaction.on_commit(
        lambda: current_app.send_task("analytics.tasks.refund_apply", args=[merchant.pk, refund.pk]), robust=True
    )
    if order.status == OrderStatus.REFUNDED:
        units: dict[int, int] = defaultdict(int)
        for line in order.lines.filter(kind=LineKind.PRODUCT):
            units[line.store_product_id] += line.stock_units
        stock_moves(
            merchant=merchant,
            kind=MovementKind.REFUND,
            moves=[Move(product_id, quantity) for product_id, quantity in units.items()],
            reference=f"checkout.order:{order.pk}:{reference or f'refund-{refund.pk}'}"[:100],
        )
    return refund


def order_refunded(
    *,
    merchant: Merchant,
    payment_intent: str,
    amount_refunded: int,
    refund_reference: str,
    refunded_by: User | None = None,
) -> bool:
    """Bring the order paid with ``payment_intent`` up to ``amount_refunded`` (Stripe's running total); idempotent.

    Atomic, scoped; nobody is recorded for a refund made in Stripe's own dashboard (see refund_record).
    """
    with merchant_context(merchant.pk):
        order = Order.objects.select_for_update().for_merchant(merchant).filter(payment_intent=payment_intent).first()
        if order is None:
            return False
        refund = refund_record(
            merchant=merchant,
            order=order,
            amount_refunded=amount_refunded,
            reference=refund_reference,
            refunded_by=refunded_by,
        )
    return refund is not None


def orders_expire(*, now: datetime | None = None) -> int:
    """Release the reservations of orders left unpaid past their time; idempotent. Returns how many."""
    now = now or timezone.now()
    with platform_access(reason="beat: expire unpaid orders", actor="task:orders_expire"):
        # Orders that reached Stripe stay pending: reconciliation decides them.
        return Order.objects.reservation_over(now).update(status=OrderStatus.EXPIRED)


def age_check_confirm(*, order: Order, clerk: User) -> Order:
    """A clerk saw the shopper's ID: the exit pass becomes valid. Kept: who and when. Idempotent."""
    with merchant_context(order.merchant_id):
        Order.objects.filter(pk=order.pk, requires_age_check=True, age_checked_at__isnull=True).update(
            age_checked_by=clerk, age_checked_at=timezone.now()
        )
        order.refresh_from_db()
    return order
