"""Refunds from the dashboard: money back through Stripe first, then the order and the ledger; counter sales
paid in cash (or on the shop's own card terminal) are refunded at the till.

The order's row stays locked from the check of what is left to refund until the refund is
recorded, across the call to Stripe. A second refund of the same order (a double click, another
tab, a colleague) waits for the lock, then finds the new refunded amount and is checked against
what is left, so refunds never add up to more than the total. Holding a lock over a network
call is the price of that guarantee without a pending-refund row; it blocks only this one order,
for at most the gateway's timeout.

The refund is recorded with ``order_refunded``, which takes the running total, as Stripe's
``charge.refunded`` webhook also reports it. Whichever of the two arrives second finds nothing
left to do, so a refund is never counted (or its stock returned) twice.

A counter sale paid in cash gets its money back in cash, out of the drawer of the store's open
shift: the refund is kept against that shift, whose expected cash it lowers, so the count at the
close still matches. One paid on the shop's own card terminal is refunded on that terminal (and
recorded here), or in cash. Neither reaches Stripe: Stripe never saw that money. The shift's row
is locked before the order's, the order in which paying and closing take them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from checkout import gateway
from checkout.choices import RefundMethod
from checkout.models import CounterMethod, CounterPayment, Order, OrderStatus, Shift
from checkout.selectors.counter import shift_totals
from checkout.services.orders import order_refunded, refund_record
from core.money import format_amount
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from merchants.models import Merchant

logger = logging.getLogger("lingshou.checkout")

REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
_WAYS: dict[str, str] = {
    RefundMethod.STRIPE: "to the card through Stripe",
    RefundMethod.CASH: "in cash from the till",
    RefundMethod.EXTERNAL_CARD: "on the card terminal",
}


class RefundError(ValidationError):
    """A refund that was not made (nothing at Stripe, nothing recorded); the message says why."""


def refund_methods(order: Order) -> list[str]:
    """How the order's money can go back: the way it was paid (cash in cash; a terminal's card on the terminal,
    or in cash), or through Stripe for everything Stripe took. Reads the order's counter payment, if any."""
    try:
        method = order.counter_payment.method
    except CounterPayment.DoesNotExist:
        return [RefundMethod.STRIPE]
    if method == CounterMethod.CASH:
        return [RefundMethod.CASH]
    if method == CounterMethod.EXTERNAL_CARD:
        return [RefundMethod.EXTERNAL_CARD, RefundMethod.CASH]
    return [RefundMethod.STRIPE]


def refundable_amount(order: Order) -> int:
    """What is left to refund of the order, in minor units; 0 when it cannot be refunded at all."""
    if order.status not in REFUNDABLE or not order.payment_intent:
        return 0
    return max(order.total - order.amount_refunded, 0)


def _refusal(order: Order, amount: int, method: str) -> RefundError | None:
    if order.status == OrderStatus.REFUNDED:
        return RefundError("This order is already fully refunded.", code="already_refunded")
    if order.status not in REFUNDABLE:
        return RefundError(
            f"This order was never paid ({order.get_status_display().lower()}), so there is nothing to refund.",
            code="not_paid",
        )
    if not order.payment_intent:
        return RefundError(
            "This order was not paid through Stripe: give the money back from the till.", code="not_stripe"
        )
    if method not in refund_methods(order):
        ways = " or ".join(_WAYS[way] for way in refund_methods(order))
        return RefundError(
            f"This sale was paid at the counter ({order.counter_payment.get_method_display().lower()}): "
            f"give the money back {ways}.",
            code="wrong_method",
        )
    left = refundable_amount(order)
    if amount > left:
        return RefundError(
            f"At most {format_amount(left, order.currency)} can still be refunded "
            f"(total {format_amount(order.total, order.currency)}, "
            f"{format_amount(order.amount_refunded, order.currency)} already refunded).",
            code="too_much",
        )
    return None


def order_refund(*, merchant: Merchant, order_id: int, amount: int, refunded_by: User) -> Order:
    """Refund ``amount`` of a paid order through Stripe and record it; scoped, atomic, never beyond the total.

    Raises RefundError, with nothing refunded and nothing recorded, for an order that is not
    paid or already fully refunded, an amount that is not above zero or more than what is
    left, and a refusal or an outage at Stripe.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise RefundError("The amount to refund must be more than zero.", code="invalid_amount")
    with merchant_context(merchant.pk):
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("counter_payment")
            .filter(merchant=merchant, pk=order_id)
            .first()
        )
        if order is None:
            raise RefundError("No such order.", code="not_found")
        refusal = _refusal(order, amount, RefundMethod.STRIPE)
        if refusal is not None:
            raise refusal
        running_total = order.amount_refunded + amount
        try:
            # The key names the running total: a repeat of the same refund from the same state
            # (a retry after a timeout) is answered with the first refund, not a second one.
            refund_id = gateway.refund_create(
                intent_id=order.payment_intent,
                amount=amount,
                idempotency_key=f"lingshou-refund-{order.token}-{running_total}",
                connected_account=order.stripe_account or None,
            )
        except gateway.GatewayUnavailable as error:
            logger.warning("refund_unavailable", extra={"order_id": order.pk, "error": error.message})
            raise RefundError(
                "Stripe did not answer, so the refund may or may not have gone through. Reload the order: "
                "if the refunded amount has not changed, refund the same amount again; "
                "Stripe recognises the repeat and does not pay out twice.",
                code="unavailable",
            ) from error
        except gateway.GatewayError as error:
            raise RefundError(f"Stripe refused the refund: {error.message}", code="refused") from error
        recorded = order_refunded(
            merchant=merchant,
            payment_intent=order.payment_intent,
            amount_refunded=running_total,
            refund_reference=refund_id,
            refunded_by=refunded_by,
        )
        if not recorded:
            # Cannot happen while the lock is held; if it does, the webhook still brings it up.
            logger.error("refund_not_recorded", extra={"order_id": order.pk, "refund": refund_id})
        order.refresh_from_db()
    logger.info(
        "order_refund",
        extra={"order_id": order.pk, "amount": amount, "refund": refund_id, "refunded_by": refunded_by.pk},
    )
    return order


def order_refund_at_till(*, merchant: Merchant, order_id: int, amount: int, method: str, refunded_by: User) -> Order:
    """Refund ``amount`` of a counter sale paid in cash or on the shop's terminal; scoped, atomic, never beyond the total.

    Cash comes out of the drawer of the store's open shift and is kept against it. Raises RefundError,
    with nothing recorded, for an order not paid that way, an amount not above zero or more than
    what is left, cash with no shift open in the store, and more cash than the drawer should hold.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise RefundError("The amount to refund must be more than zero.", code="invalid_amount")
    if method not in (RefundMethod.CASH, RefundMethod.EXTERNAL_CARD):
        raise RefundError("Choose how the money goes back.", code="wrong_method")
    with merchant_context(merchant.pk):
        found = Order.objects.filter(merchant=merchant, pk=order_id).values_list("store_id", flat=True).first()
        if found is None:
            raise RefundError("No such order.", code="not_found")
        shift = None
        if method == RefundMethod.CASH:
            # The shift first, then the order: the lock order of paying and closing.
            shift = Shift.objects.select_for_update().open().filter(merchant=merchant, store_id=found).first()
            if shift is None:
                raise RefundError(
                    "No shift is open at this store's till: open one at the counter to give cash back from its drawer.",
                    code="no_shift",
                )
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("counter_payment")
            .filter(merchant=merchant, pk=order_id)
            .first()
        )
        assert order is not None  # found above, and orders are never deleted
        refusal = _refusal(order, amount, method)
        if refusal is not None:
            raise refusal
        if shift is not None:
            in_drawer = shift_totals(shift=shift).expected_cash
            if amount > in_drawer:
                raise RefundError(
                    f"The drawer should hold only {format_amount(in_drawer, order.currency)}; "
                    f"{format_amount(amount, order.currency)} cannot come out of it.",
                    code="not_enough_cash",
                )
        refund_record(
            merchant=merchant,
            order=order,
            amount_refunded=order.amount_refunded + amount,
            refunded_by=refunded_by,
            method=method,
            shift=shift,
        )
    logger.info(
        "order_refund_at_till",
        extra={"order_id": order.pk, "amount": amount, "method": method, "refunded_by": refunded_by.pk},
    )
    return order
