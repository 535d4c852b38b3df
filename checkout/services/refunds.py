"""Refunds from the dashboard: money back through Stripe first, then the order and the ledger.

The order's row stays locked from the check of what is left to refund until the refund is
recorded, across the call to Stripe. A second refund of the same order (a double click, another
tab, a colleague) waits for the lock, then finds the new refunded amount and is checked against
what is left, so refunds never add up to more than the total. Holding a lock over a network
call is the price of that guarantee without a pending-refund row; it blocks only this one order,
for at most the gateway's timeout.

The refund is recorded with ``order_refunded``, which takes the running total, as Stripe's
``charge.refunded`` webhook also reports it. Whichever of the two arrives second finds nothing
left to do, so a refund is never counted (or its stock returned) twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from checkout import gateway
from checkout.models import Order, OrderStatus
from checkout.services.orders import order_refunded
from core.money import format_amount
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from merchants.models import Merchant

logger = logging.getLogger("lingshou.checkout")

REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


class RefundError(ValidationError):
    """A refund that was not made (nothing at Stripe, nothing recorded); the message says why."""


def refundable_amount(order: Order) -> int:
    """What is left to refund of the order, in minor units; 0 when it cannot be refunded at all."""
    if order.status not in REFUNDABLE or not order.payment_intent:
        return 0
    return max(order.total - order.amount_refunded, 0)


def _refusal(order: Order, amount: int) -> RefundError | None:
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
        order = Order.objects.select_for_update().filter(merchant=merchant, pk=order_id).first()
        if order is None:
            raise RefundError("No such order.", code="not_found")
        refusal = _refusal(order, amount)
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
