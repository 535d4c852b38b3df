"""Writes of checkout: carts, placing orders with a stock reservation, payments, the webhook's effects.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.models import MovementKind, StoreProduct
from catalog.services.stock import Move, stock_moves
from checkout import taxes
from checkout.models import (
    CartLine,
    Channel,
    Dispute,
    ExitPass,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    Shopper,
    Visit,
    WebhookEvent,
)
from merchants.models import Store
from merchants.tenancy import merchant_context, platform_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("lingshou.checkout")

MAX_LINE_QUANTITY = 99
RESERVATION = timedelta(minutes=10)
EXIT_PASS_VALID_FOR = timedelta(minutes=30)


class CheckoutError(ValidationError):
    """Something the shopper can fix (quantity, sold out, empty cart); the message says what."""


def visit_start(*, store: Store) -> Visit:
    """A new anonymous visit (cart) in a store."""
    with merchant_context(store.merchant_id):
        return Visit.objects.create(merchant_id=store.merchant_id, store=store)


# One statement per cart change: the product must be an active one of the visit's store; the line
# is inserted or updated in place (a second scan adds to it) and the visit is touched. Data-
# modifying CTEs always run to completion, so the visit is touched only when a line was written.
_CART_UPSERT = """
WITH item AS (
    SELECT id FROM catalog_storeproduct
    WHERE merchant_id = %(merchant)s AND store_id = %(store)s AND id = %(item)s AND is_active
), line AS (
    INSERT INTO checkout_cartline (merchant_id, visit_id, store_product_id, quantity, added_at)
    SELECT %(merchant)s, %(visit)s, item.id, %(quantity)s, now() FROM item
    ON CONFLICT (merchant_id, visit_id, store_product_id) DO UPDATE
        SET quantity = {new_quantity}
        WHERE {new_quantity} <= %(maximum)s
    RETURNING id, quantity
), touched AS (
    UPDATE checkout_visit SET last_seen_at = now()
    WHERE id = %(visit)s AND merchant_id = %(merchant)s AND EXISTS (SELECT 1 FROM line)
)
SELECT (SELECT id FROM item), (SELECT id FROM line), (SELECT quantity FROM line)
"""
_CART_SET = _CART_UPSERT.format(new_quantity="EXCLUDED.quantity")
_CART_ADD = _CART_UPSERT.format(new_quantity="checkout_cartline.quantity + EXCLUDED.quantity")


def _cart_write(*, visit: Visit, store_product_id: int, quantity: int, add: bool) -> CartLine | None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < (1 if add else 0):
        raise CheckoutError("Choose a quantity of 0 or more.", code="invalid_quantity")
    too_many = CheckoutError(f"At most {MAX_LINE_QUANTITY} of one product per purchase.", code="invalid_quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise too_many
    with merchant_context(visit.merchant_id):
        if quantity == 0:
            deleted, _ = CartLine.objects.filter(
                merchant_id=visit.merchant_id, visit=visit, store_product_id=store_product_id
            ).delete()
            if (
                not deleted
                and not StoreProduct.objects.filter(
                    merchant_id=visit.merchant_id, store_id=visit.store_id, pk=store_product_id
                ).exists()
            ):
                raise CheckoutError("This product is not sold here.", code="unknown_product")
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                _CART_ADD if add else _CART_SET,
                {
                    "merchant": visit.merchant_id,
                    "store": visit.store_id,
                    "visit": visit.pk,
                    "item": store_product_id,
                    "quantity": quantity,
                    "maximum": MAX_LINE_QUANTITY,
                },
            )
            item_id, line_id, line_quantity = cursor.fetchone()
    if item_id is None:
        raise CheckoutError("This product is not sold here.", code="unknown_product")
    if line_id is None:
        raise too_many  # the line would pass the limit: left as it was
    return CartLine(
        pk=line_id,
        merchant_id=visit.merchant_id,
        visit_id=visit.pk,
        store_product_id=store_product_id,
        quantity=line_quantity,
    )


def cart_set(*, visit: Visit, store_product_id: int, quantity: int) -> CartLine | None:
    """Set how many of a product are in the cart (0 removes it); validated, one atomic statement, scoped."""
    return _cart_write(visit=visit, store_product_id=store_product_id, quantity=quantity, add=False)


def cart_add(*, visit: Visit, store_product_id: int, quantity: int = 1) -> CartLine | None:
    """Add units to the cart (a second scan of the same product adds one more); one atomic statement, scoped."""
    return _cart_write(visit=visit, store_product_id=store_product_id, quantity=quantity, add=True)


def _reserved(*, merchant_id: int, product_ids: list[int]) -> dict[int, int]:
    """Units held by orders still waiting for payment within their reservation."""
    held = (
        OrderLine.objects.filter(
            merchant_id=merchant_id,
            store_product_id__in=product_ids,
            order__status=OrderStatus.PENDING,
            order__reserved_until__gt=timezone.now(),
        )
        .values("store_product_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["store_product_id"]: row["units"] for row in held}


def available(*, item: StoreProduct) -> int:
    """Units a shopper can still buy: on hand minus what pending orders hold."""
    return item.on_hand - _reserved(merchant_id=item.merchant_id, product_ids=[item.pk]).get(item.pk, 0)


def order_place(*, visit: Visit, email: str = "", shopper: Shopper | None = None) -> Order:
    """Turn the cart into an order at today's store prices, holding its units for RESERVATION.

    Atomic. Refuses (CheckoutError, nothing written) an empty cart, an inactive product, or more
    units than are available once other shoppers' reservations are counted.
    """
    with merchant_context(visit.merchant_id):
        store = Store.objects.select_related("merchant").get(pk=visit.store_id)
        lines = list(CartLine.objects.filter(merchant_id=visit.merchant_id, visit=visit).order_by("store_product_id"))
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
        problems = []
        for line in lines:
            item = items.get(line.store_product_id)
            if item is None or not item.is_active:
                problems.append("A product in your cart is no longer sold here; remove it.")
                continue
            free = item.on_hand - held.get(item.pk, 0)
            if line.quantity > free:
                problems.append(
                    f"{item.name}: only {max(free, 0)} left."
                    if free > 0
                    else f"{item.name} is sold out; remove it from your cart."
                )
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
        _lines_write(
            order=order, store=store, quantities=[(items[line.store_product_id], line.quantity) for line in lines]
        )
    return order


def _lines_write(*, order: Order, store: Store, quantities: list[tuple[StoreProduct, int]]) -> None:
    order_lines = []
    for item, quantity in quantities:
        rate = taxes.rate(country=store.country, tax_class=item.tax_class)
        line_total = item.price * quantity
        order_lines.append(
            OrderLine(
                merchant_id=order.merchant_id,
                order=order,
                store_product=item,
                name=item.name[:200],
                quantity=quantity,
                unit_price=item.price,
                tax_class=item.tax_class,
                tax_rate=rate,
                line_total=line_total,
                tax_amount=taxes.line_tax(
                    line_total=line_total, rate_bp=rate, prices_include_tax=store.prices_include_tax
                ),
                is_age_restricted=item.is_age_restricted,
            )
        )
    OrderLine.objects.bulk_create(order_lines)
    order.subtotal = sum(line.line_total for line in order_lines)
    order.tax_total = sum(line.tax_amount for line in order_lines)
    order.total = order.subtotal if store.prices_include_tax else order.subtotal + order.tax_total
    order.requires_age_check = any(line.is_age_restricted for line in order_lines)
    order.save(update_fields=["subtotal", "tax_total", "total", "requires_age_check"])


def payment_start(*, order: Order) -> Order:
    """Create (or find again) the order's PaymentIntent; idempotent per order.

    The idempotency key is the order's, so a retried or repeated call never creates a second
    PaymentIntent. Connect parameters go only to merchants with a connected account.
    """
    from checkout import gateway

    if order.status != OrderStatus.PENDING:
        raise CheckoutError("This order is not waiting for payment.", code="not_pending")
    account = order.store.merchant.stripe_account or None
    customer, save_card = None, False
    if order.shopper_id:
        from checkout.shoppers import shopper_customer_get

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


def _exit_pass_issue(order: Order) -> ExitPass:
    return ExitPass.objects.create(
        merchant_id=order.merchant_id, order=order, expires_at=timezone.now() + EXIT_PASS_VALID_FOR
    )


def order_mark_paid(
    *, merchant_id: int, order_id: int, payment_intent: str, amount_received: int, currency: str
) -> bool:
    """Mark the order paid exactly once, write its sale movements and issue its exit pass.

    Atomic and idempotent (compare-and-swap on the status): returns False when there was nothing
    to do (already paid, or the payment does not match the order, which is logged and left).
    A payment that arrives after the reservation ran out still books the sale; if stock went
    below zero meanwhile, the order is flagged as oversold for the owner (never silent).
    """
    with merchant_context(merchant_id):
        order = Order.objects.select_for_update().filter(merchant_id=merchant_id, pk=order_id).first()
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
        lines = list(order.lines.all())
        units: dict[int, int] = defaultdict(int)
        for line in lines:
            units[line.store_product_id] += line.quantity
        movements = stock_moves(
            merchant=order.merchant,
            kind=MovementKind.SALE,
            moves=[Move(product_id, -quantity) for product_id, quantity in units.items()],
            reference=f"checkout.order:{order.pk}",
        )
        order.is_oversold = any(m.is_flagged_negative for m in movements)
        order.save(update_fields=["status", "paid_at", "payment_intent", "payment_error", "is_oversold"])
        _exit_pass_issue(order)
        if order.visit_id:
            _cart_take_out(merchant_id=merchant_id, visit_id=order.visit_id, units=units)
    if order.email:
        from checkout.tasks import receipt_send

        transaction.on_commit(lambda: receipt_send.delay(merchant_id, order_id))
    return True


_CART_TAKE_OUT = """
WITH paid AS (SELECT unnest(%(products)s::bigint[]) AS product, unnest(%(units)s::int[]) AS units),
gone AS (
    DELETE FROM checkout_cartline line USING paid
    WHERE line.merchant_id = %(merchant)s AND line.visit_id = %(visit)s
      AND line.store_product_id = paid.product AND line.quantity <= paid.units
)
UPDATE checkout_cartline line SET quantity = line.quantity - paid.units FROM paid
WHERE line.merchant_id = %(merchant)s AND line.visit_id = %(visit)s
  AND line.store_product_id = paid.product AND line.quantity > paid.units
"""


def _cart_take_out(*, merchant_id: int, visit_id: int, units: dict[int, int]) -> None:
    """Take what was paid for out of the visit's cart (one statement); what was added meanwhile stays."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CART_TAKE_OUT,
            {
                "products": list(units),
                "units": list(units.values()),
                "merchant": merchant_id,
                "visit": visit_id,
            },
        )


def order_payment_failed(*, merchant_id: int, order_id: int, message: str) -> None:
    """Record why a payment failed; the order (and the cart) stay as they were so the shopper can retry."""
    with merchant_context(merchant_id):
        Order.objects.filter(merchant_id=merchant_id, pk=order_id, status=OrderStatus.PENDING).update(
            payment_error=message[:300]
        )


def order_cancel(*, order: Order, reason: str) -> bool:
    """Give up an unpaid order: its reservation ends, the cart is untouched. Idempotent (status CAS)."""
    with merchant_context(order.merchant_id):
        return bool(
            Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING).update(
                status=OrderStatus.CANCELLED, payment_error=reason[:300]
            )
        )


def order_refunded(
    *,
    merchant_id: int,
    payment_intent: str,
    amount_refunded: int,
    refund_reference: str,
    refunded_by: User | None = None,
) -> bool:
    """Bring an order's refunds up to ``amount_refunded`` (Stripe's running total); idempotent.

    The difference is kept as one Refund row (by whom; nobody for a refund made in Stripe).

    A full refund returns every unit to stock with refund movements; a partial one only
    records the amount (which units come back is the clerk's call, through an adjustment).
    """
    with merchant_context(merchant_id):
        order = Order.objects.select_for_update().filter(merchant_id=merchant_id, payment_intent=payment_intent).first()
        if order is None or order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
            return False
        if amount_refunded <= order.amount_refunded:
            return False
        Refund.objects.create(
            merchant_id=merchant_id,
            order=order,
            amount=min(amount_refunded, order.total) - order.amount_refunded,
            stripe_reference=refund_reference[:100],
            refunded_by=refunded_by,
        )
        order.amount_refunded = min(amount_refunded, order.total)
        order.status = OrderStatus.REFUNDED if order.amount_refunded >= order.total else OrderStatus.PARTIALLY_REFUNDED
        order.save(update_fields=["amount_refunded", "status"])
        if order.status == OrderStatus.REFUNDED:
            units: dict[int, int] = defaultdict(int)
            for line in order.lines.all():
                units[line.store_product_id] += line.quantity
            stock_moves(
                merchant=order.merchant,
                kind=MovementKind.REFUND,
                moves=[Move(product_id, quantity) for product_id, quantity in units.items()],
                reference=f"checkout.order:{order.pk}:{refund_reference}"[:100],
            )
    return True


def orders_expire(*, now: Any = None) -> int:
    """Release the reservations of orders left unpaid past their time; idempotent. Returns how many."""
    now = now or timezone.now()
    with platform_access(reason="beat: expire unpaid orders", actor="task:orders_expire"):
        # Orders that reached Stripe stay pending: reconciliation decides them.
        return Order.objects.filter(status=OrderStatus.PENDING, reserved_until__lt=now, payment_intent="").update(
            status=OrderStatus.EXPIRED
        )


# Webhook ------------------------------------------------------------------------------------------

HANDLED = {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded", "charge.dispute.created"}


def _merchant_of_intent(payment_intent: str) -> int | None:
    """Which merchant's order a PaymentIntent paid (a charge does not always carry our metadata)."""
    if not payment_intent:
        return None
    with platform_access(reason=f"webhook: find the order of {payment_intent}", actor="webhook:stripe"):
        return Order.objects.filter(payment_intent=payment_intent).values_list("merchant_id", flat=True).first()


def webhook_event_process(*, event: dict[str, Any]) -> bool:
    """Apply one verified Stripe event exactly once, whatever the order of arrival.

    The event id is recorded and its effect applied in the same transaction: a replay finds the
    id and does nothing; a crash half-way leaves neither, so Stripe's redelivery applies it.
    Returns True when this call applied it.
    """
    event_id, kind = str(event["id"]), str(event["type"])
    obj = event.get("data", {}).get("object", {}) or {}
    with transaction.atomic():
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
        metadata = obj.get("metadata") or {}
        summary = ""
        if kind == "payment_intent.succeeded" and metadata.get("order_id"):
            applied = payment_succeeded(
                channel=str(metadata.get("channel") or Channel.SHOPPER),
                merchant_id=int(metadata["merchant_id"]),
                order_id=int(metadata["order_id"]),
                payment_intent=str(obj["id"]),
                amount_received=int(obj.get("amount_received") or obj.get("amount") or 0),
                currency=str(obj.get("currency", "")),
            )
            summary = f"order {metadata['order_id']} {'paid' if applied else 'unchanged'}"
        elif kind == "payment_intent.payment_failed" and metadata.get("order_id"):
            error = (obj.get("last_payment_error") or {}).get("message") or "The payment did not go through."
            order_payment_failed(
                merchant_id=int(metadata["merchant_id"]), order_id=int(metadata["order_id"]), message=error
            )
            summary = f"order {metadata['order_id']} payment failed"
        elif kind == "charge.refunded":
            merchant_id = metadata.get("merchant_id") or _merchant_of_intent(str(obj.get("payment_intent") or ""))
            if merchant_id and obj.get("payment_intent"):
                order_refunded(
                    merchant_id=int(merchant_id),
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
    return True


def payment_succeeded(
    *, channel: str, merchant_id: int, order_id: int, payment_intent: str, amount_received: int, currency: str
) -> bool:
    """Book a succeeded PaymentIntent: a counter sale through its shift (card reader), else the shopper's order."""
    if channel == Channel.COUNTER:
        from checkout.counter import counter_card_paid

        return counter_card_paid(
            merchant_id=merchant_id,
            order_id=order_id,
            payment_intent=payment_intent,
            amount_received=amount_received,
            currency=currency,
        )
    return order_mark_paid(
        merchant_id=merchant_id,
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
    from checkout import gateway

    cutoff = timezone.now() - older_than
    marked = 0
    with platform_access(reason="beat: reconcile payments", actor="task:payments_reconcile"):
        waiting = list(
            Order.objects.filter(status__in=[OrderStatus.PENDING, OrderStatus.EXPIRED], created_at__lt=cutoff)
            .exclude(payment_intent="")
            .only("pk", "merchant_id", "payment_intent", "stripe_account", "channel")[:500]
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
                merchant_id=order.merchant_id,
                order_id=order.pk,
                payment_intent=intent.id,
                amount_received=intent.amount_received,
                currency=intent.currency,
            )
    return marked


def age_check_confirm(*, order: Order, clerk: User) -> Order:
    """A clerk saw the shopper's ID: the exit pass becomes valid. Kept: who and when. Idempotent."""
    with merchant_context(order.merchant_id):
        Order.objects.filter(pk=order.pk, requires_age_check=True, age_checked_at__isnull=True).update(
            age_checked_by=clerk, age_checked_at=timezone.now()
        )
        order.refresh_from_db()
    return order


# Exit passes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassCheck:
    """What the door or the clerk is told about a pass: ok, not_paid, used, age_check, invalid."""

    status: str
    message: str
    order: Order | None = None


def exit_pass_token(*, order: Order) -> str | None:
    """The signed token of a paid order's pass (what its QR code holds); None before payment."""
    from checkout import exit_pass

    with merchant_context(order.merchant_id):
        issued = (
            ExitPass.objects.filter(merchant_id=order.merchant_id, order=order).select_related("order__store").first()
        )
    if issued is None:
        return None
    return exit_pass.sign(
        jti=str(issued.jti),
        merchant_id=order.merchant_id,
        order_id=order.pk,
        store=issued.order.store.code,
        expires_at=issued.expires_at,
    )


def exit_pass_use(
    *, merchant_id: int, token: str, used_by: User | None = None, at: datetime | None = None
) -> PassCheck:
    """Check a pass and use it up: valid once, for a paid order, after any age check. Atomic (CAS).

    ``at`` is when an offline door reader let the shopper out; a second use of the same pass,
    online or reported later, answers 'used'.
    """
    from checkout import exit_pass

    try:
        claims = exit_pass.verify(token)
    except exit_pass.PassInvalid as error:
        return PassCheck("invalid", str(error))
    if claims.merchant_id != merchant_id:
        return PassCheck("invalid", "This pass is from another shop.")
    with merchant_context(merchant_id):
        issued = (
            ExitPass.objects.select_related("order")
            .filter(merchant_id=merchant_id, jti=claims.jti, order_id=claims.order_id)
            .first()
        )
        if issued is None:
            return PassCheck("invalid", "This is not a valid exit pass.")
        order = issued.order
        if order.status != OrderStatus.PAID:
            return PassCheck("not_paid", "Not paid: this order has no completed payment.", order)
        if order.requires_age_check and order.age_checked_at is None:
            return PassCheck("age_check", "Age check needed: a clerk must see the shopper's ID first.", order)
        used = ExitPass.objects.filter(pk=issued.pk, used_at__isnull=True).update(
            used_at=at or timezone.now(), used_by=used_by
        )
        if not used:
            issued.refresh_from_db()
            return PassCheck("used", f"Already used at {timezone.localtime(issued.used_at):%H:%M}.", order)
    return PassCheck("ok", "Paid. Have a nice day.", order)
