"""Payments: the PaymentIntent of an order, Stripe's webhook events and the reconciliation that backs them up.

This module stands above orders and the counter: the money path runs payments -> counter ->
orders, one way. A succeeded PaymentIntent is booked through the counter (a card reader's sale)
or as the shopper's order; refunds and disputes land on their order.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from checkout import gateway
from checkout.choices import Channel, OrderStatus
from checkout.errors import CheckoutError
from checkout.models import Dispute, Order, Shopper, WebhookEvent
from checkout.services.counter import counter_card_paid
from checkout.services.orders import order_mark_paid, order_payment_failed, order_refunded
from checkout.services.shoppers import shopper_customer_get
from checkout.webhook_events import event_read
from core.metrics import WEBHOOK_LAG_SECONDS
from merchants import tenancy
from merchants.models import Merchant
from merchants.tenancy import merchant_context, platform_access

logger = logging.getLogger("lingshou.checkout")


def payment_start(*, order: Order) -> Order:
    """Create (or find again) the order's PaymentIntent; idempotent per order.

    The idempotency key is the order's, so a retried or repeated call never creates a second
    PaymentIntent. Connect parameters go only to merchants with a connected account.
    """
    if order.status != OrderStatus.PENDING:
        raise CheckoutError("This order is not waiting for payment.", code="not_pending")
    account = order.store.merchant.stripe_account or None
    customer, save_card = None, False
    if order.shopper_id:
        shopper = Shopper.objects.get(pk=order.shopper_id)
        save_card = shopper.saves_cards
        # A shopper who keeps cards gets a Stripe customer here, so the card is saved as they pay.
        customer = shopper_customer_get(
            shopper=shopper, merchant_id=order.merchant_id, stripe_account=account or "", create=save_card
        )
    intent = gateway.intent_create(
        amount=order.total,
        currency=order.currency.lower(),
        idempotency_key=f"lingshou-order-{order.token}",
        metadata={"merchant_id": str(order.merchant_id), "order_id": str(order.pk), "store": order.store.code},
        connected_account=account,
        customer=customer,
        save_card=save_card and customer is not None,
    )
    with merchant_context(order.merchant_id):
        Order.objects.filter(pk=order.pk, payment_intent="").update(
            payment_intent=intent.id, stripe_account=account or ""
        )
        order.refresh_from_db()
    return order


HANDLED = {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded", "charge.dispute.created"}


def _merchant_of_intent(payment_intent: str) -> int | None:
    """Which merchant's order a PaymentIntent paid (a charge does not always carry our metadata)."""
    if not payment_intent:
        return None
    with platform_access(reason=f"webhook: find the order of {payment_intent}", actor="webhook:stripe"):
        return Order.objects.filter(payment_intent=payment_intent).values_list("merchant_id", flat=True).first()


def _merchant_get(merchant_id: int) -> Merchant | None:
    """The merchant an event or a waiting order names, resolved once; None for an id that names none."""
    return Merchant.objects.filter(pk=merchant_id).first()


def _merchant_activate(merchant_id: int) -> Merchant | None:
    """``_merchant_get``, in the statement that also scopes the webhook's transaction to the merchant."""
    return tenancy.activate_with(Merchant.objects.filter(pk=merchant_id), merchant_id=merchant_id)


def webhook_event_process(*, event: dict[str, Any]) -> bool:
    """Apply one verified Stripe event exactly once, whatever the order of arrival.

    The event id is recorded and its effect applied in the same transaction: a replay finds the
    id and does nothing; a crash half-way leaves neither, so Stripe's redelivery applies it.
    Returns True when this call applied it. EventPayloadError (nothing recorded) when the body has the wrong shape.
    """
    read = event_read(event)
    event_id, kind, obj = read.id, read.type, read.object
    # One unit: any failure rolls the whole event back for Stripe to deliver again, so the contexts inside it
    # need no savepoints of their own.
    with tenancy.scope(savepoints=False):
        # One statement claims the event: a concurrent delivery of the same id waits for this
        # transaction and then inserts nothing (no error, no second effect).
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO checkout_webhookevent (event_id, type, received_at, summary) VALUES (%s, %s, %s, '') "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                [event_id, kind[:100], timezone.now()],
            )
            if cursor.fetchone() is None:
                return False
        metadata = read.metadata
        summary = ""
        if kind == "payment_intent.succeeded" and read.order_id is not None:
            merchant = None if read.merchant_id is None else _merchant_activate(read.merchant_id)
            applied = merchant is not None and payment_succeeded(
                channel=str(metadata.get("channel") or Channel.SHOPPER),
                merchant=merchant,
                order_id=read.order_id,
                payment_intent=str(obj["id"]),
                amount_received=int(obj.get("amount_received") or obj.get("amount") or 0),
                currency=str(obj.get("currency", "")),
            )
            summary = f"order {read.order_id} {'paid' if applied else 'unchanged'}"
        elif kind == "payment_intent.payment_failed" and read.order_id is not None:
            last_error = obj.get("last_payment_error")
            error = (last_error.get("message") if isinstance(last_error, dict) else None) or (
                "The payment did not go through."
            )
            merchant = None if read.merchant_id is None else _merchant_activate(read.merchant_id)
            if merchant is not None:
                order_payment_failed(merchant=merchant, order_id=read.order_id, message=str(error)[:500])
            summary = f"order {read.order_id} payment failed"
        elif kind == "charge.refunded":
            merchant_id = read.merchant_id or _merchant_of_intent(str(obj.get("payment_intent") or ""))
            merchant = _merchant_get(merchant_id) if merchant_id else None
            if merchant is not None and obj.get("payment_intent"):
                order_refunded(
                    merchant=merchant,
                    payment_intent=str(obj["payment_intent"]),
                    amount_refunded=int(obj.get("amount_refunded") or 0),
                    refund_reference=event_id,
                )
                summary = f"refund of {obj.get('payment_intent')}"
        elif kind.startswith("charge.dispute."):
            recorded = dispute_record(dispute=obj)
            summary = (
                f"dispute {obj.get('id')} on {obj.get('payment_intent')}: {'recorded' if recorded else 'no order'}"
            )
        WebhookEvent.objects.filter(pk=event_id).update(processed_at=timezone.now(), summary=summary[:300])
        transaction.on_commit(partial(_webhook_lag_observe, event.get("created")))
    return True


def _webhook_lag_observe(created: object) -> None:
    """How long the event took from Stripe creating it to its effect being committed (a backlog shows here)."""
    if isinstance(created, int | float) and not isinstance(created, bool):
        # Stripe's clock may run a little ahead of ours: a negative lag is no lag.
        WEBHOOK_LAG_SECONDS.observe(max(0.0, time.time() - created))


def payment_succeeded(
    *, channel: str, merchant: Merchant, order_id: int, payment_intent: str, amount_received: int, currency: str
) -> bool:
    """Book a succeeded PaymentIntent: a counter sale through its shift (card reader), else the shopper's order."""
    if channel == Channel.COUNTER:
        return counter_card_paid(
            merchant=merchant,
            order_id=order_id,
            payment_intent=payment_intent,
            amount_received=amount_received,
            currency=currency,
        )
    return order_mark_paid(
        merchant=merchant,
        order_id=order_id,
        payment_intent=payment_intent,
        amount_received=amount_received,
        currency=currency,
    )


def dispute_record(*, dispute: dict[str, Any]) -> bool:
    """Keep a chargeback on its order, with Stripe's latest status; update-or-create on the dispute id."""
    payment_intent = str(dispute.get("payment_intent") or "")
    merchant_id = _merchant_of_intent(payment_intent) if payment_intent else None
    if merchant_id is None:
        logger.warning("dispute_without_order", extra={"dispute": dispute.get("id"), "payment_intent": payment_intent})
        return False
    with merchant_context(merchant_id):
        order = Order.objects.filter(merchant_id=merchant_id, payment_intent=payment_intent).first()
        if order is None:
            return False
        Dispute.objects.update_or_create(
            merchant_id=merchant_id,
            stripe_dispute=str(dispute["id"]),
            defaults={
                "order": order,
                "amount": int(dispute.get("amount") or 0),
                "reason": str(dispute.get("reason") or "")[:50],
                "status": str(dispute.get("status") or "")[:30],
                "updated_at": timezone.now(),
            },
        )
    logger.warning(
        "dispute", extra={"order_id": order.pk, "dispute": dispute.get("id"), "status": dispute.get("status")}
    )
    return True


def payments_reconcile(*, older_than: timedelta = timedelta(minutes=3)) -> int:
    """Ask Stripe about orders still waiting for a webhook; mark paid those it says succeeded.

    Run by beat. Idempotent (order_mark_paid is); returns how many orders it marked paid.
    """
    cutoff = timezone.now() - older_than
    marked = 0
    with platform_access(reason="beat: reconcile payments", actor="task:payments_reconcile"):
        waiting = list(
            Order.objects.waiting_for_stripe(cutoff).only(
                "pk", "merchant_id", "payment_intent", "stripe_account", "channel"
            )[:500]
        )
    for order in waiting:
        try:
            intent = gateway.intent_retrieve(
                intent_id=order.payment_intent, connected_account=order.stripe_account or None
            )
        except gateway.GatewayError:
            logger.warning("reconcile_unavailable", extra={"order_id": order.pk})
            continue
        if intent.status == "succeeded":
            marked += payment_succeeded(
                channel=order.channel,
                merchant=order.merchant,
                order_id=order.pk,
                payment_intent=intent.id,
                amount_received=intent.amount_received,
                currency=intent.currency,
            )
    return marked
