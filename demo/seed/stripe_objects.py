"""The Stripe objects behind the demo's seeded phone orders, at localstripe, so that refunding one works.

The sales history is bulk-loaded with made-up PaymentIntent ids (``pi_demo…``): tens of thousands
of orders, far more than localstripe should hold. The newest ``RECENT_ORDERS`` paid phone orders
of each demo store, the ones an owner finds first on the Orders page, are backed by real
PaymentIntents instead: created and paid with a test card, and the order pointed at them. This
runs at every demo start once localstripe answers; localstripe keeps its objects across restarts
(``checkout.localstripe_run``), so after the first start it only checks that they are there, and
makes them again if localstripe's state was lost. Refunding an older seeded order is refused by
Stripe with its own message ("No such payment_intent").
"""

from __future__ import annotations

from django.conf import settings

from checkout import gateway
from checkout.choices import Channel, OrderStatus
from checkout.models import Order
from demo.seed.accounts import MERCHANTS
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context, platform_access

RECENT_ORDERS = 20
TEST_CARD = "4242424242424242"
# Stripe charges no less than this (50 cents); a smaller order keeps its made-up id.
MINIMUM_CHARGE = 50


def _exists(order: Order) -> bool:
    if order.payment_intent.startswith("pi_demo"):
        return False
    try:
        gateway.intent_retrieve(intent_id=order.payment_intent, connected_account=order.stripe_account or None)
    except gateway.GatewayUnavailable:
        raise
    except gateway.GatewayError:
        return False
    return True


def _back(order: Order) -> None:
    """A paid PaymentIntent for the order's total, and the order pointed at it; the order stays as it was otherwise."""
    account = order.stripe_account or None
    intent = gateway.intent_create(
        amount=order.total,
        currency=order.currency,
        idempotency_key=f"lingshou-demo-{order.token}",
        metadata={"merchant_id": str(order.merchant_id), "order_id": str(order.pk), "channel": Channel.SHOPPER},
        connected_account=account,
    )
    # Pointed at the intent before it is paid: the webhook that follows finds the order paid by it
    # already and changes nothing.
    with merchant_context(order.merchant_id):
        Order.objects.filter(pk=order.pk, payment_intent=order.payment_intent).update(payment_intent=intent.id)
    paid = gateway.intent_confirm_with_test_card(intent_id=intent.id, card_number=TEST_CARD, connected_account=account)
    if paid.status != "succeeded":
        raise gateway.GatewayError(f"localstripe did not take the test card for order {order.number}: {paid.status}")


def stripe_objects_ensure() -> int:
    """Back each demo store's newest paid phone orders with real PaymentIntents; returns how many were made.

    Idempotent: an order whose intent Stripe knows is left alone. Only ever at localstripe (with
    STRIPE_API_BASE set); with real Stripe keys it does nothing. Raises GatewayUnavailable when
    localstripe does not answer.
    """
    if not settings.STRIPE_API_BASE:
        return 0
    with platform_access(reason="demo seed: stripe objects", actor="command:demo_stripe_objects"):
        merchant_ids = list(
            Merchant.objects.filter(slug__in=[slug for _name, slug, *_rest in MERCHANTS]).values_list("pk", flat=True)
        )
    made = 0
    for merchant_id in merchant_ids:
        with merchant_context(merchant_id):
            store_ids = list(Store.objects.filter(merchant_id=merchant_id).values_list("pk", flat=True))
            newest = [
                order
                for store_id in store_ids
                for order in Order.objects.filter(
                    merchant_id=merchant_id,
                    store_id=store_id,
                    channel=Channel.SHOPPER,
                    status=OrderStatus.PAID,
                    amount_refunded=0,
                    total__gte=MINIMUM_CHARGE,
                )
                .exclude(payment_intent="")
                .order_by("-paid_at", "-pk")[:RECENT_ORDERS]
            ]
        for order in newest:
            if not _exists(order):
                _back(order)
                made += 1
    return made
