"""Paying a counter sale: cash with the change, a card on the shop's own terminal, or a Stripe card reader.

Payment goes through ``order_mark_paid``, the shopper flow's code: sale movements, exit pass and
receipt are written once, and a replayed payment returns the payment already recorded. Paying locks
the shift row first (then the order), the order closing takes too, so a shift's expected cash,
opening float + cash taken − change given − cash refunded, counts every payment exactly once.

When the deposit returned is more than the goods the total is negative: only the drawer settles
that (``counter_pay_out``), nothing tendered and the amount handed out as change; cards refuse it.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from checkout import gateway
from checkout.choices import Channel
from checkout.errors import CheckoutError
from checkout.models import CounterMethod, CounterPayment, CounterSale, Order, OrderLine, Shift
from checkout.services.counter.sales import sale_lock
from checkout.services.orders import order_mark_paid
from checkout.services.shifts import cash_validate
from core.money import exponent, format_amount
from core.outages import Unavailable
from merchants.models import Merchant
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("lingshou.checkout.counter")


def _payable_check(locked: Order, shift: Shift, *, method: str, payout: bool = False) -> None:
    if not shift.is_open:
        raise CheckoutError("This shift is closed; open a new one to sell.", code="shift_closed")
    if not OrderLine.objects.of_order(locked).exists():
        raise CheckoutError("Scan something before taking payment.", code="empty_sale")
    if locked.requires_age_check and locked.age_checked_at is None:
        raise CheckoutError("This sale has age-restricted items: check the shopper's ID first.", code="age_check")
    if locked.total < 0 and not payout:
        owed = format_amount(-locked.total, locked.currency)
        if method == CounterMethod.CASH:
            raise CheckoutError(
                f"The deposit returned is {owed} more than the goods: pay {owed} out of the drawer.",
                code="payout_due",
            )
        raise CheckoutError(
            f"The deposit returned is {owed} more than the goods: a card cannot pay money out. "
            f"Pay {owed} out of the drawer in cash, or add the shopper's goods.",
            code="negative_total",
        )
    if payout and locked.total >= 0:
        raise CheckoutError(
            f"Nothing to pay out: the sale comes to {format_amount(locked.total, locked.currency)}. Take payment.",
            code="nothing_to_pay_out",
        )


def _payment_book(
    *,
    merchant: Merchant,
    order: Order,
    shift: Shift,
    method: str,
    payment_intent: str,
    amount: int,
    currency: str,
    tendered: int,
    recorded_by_id: int,
) -> CounterPayment | None:
    """Book the sale (order paid, sale movements, exit pass) and record how it was paid; None when it was not booked.

    Inside the caller's transaction, which holds the shift's lock.
    """
    booked = order_mark_paid(
        merchant=merchant,
        order_id=order.pk,
        payment_intent=payment_intent,
        amount_received=amount,
        currency=currency,
    )
    if not booked:
        return None
    return CounterPayment.objects.create(
        merchant_id=order.merchant_id,
        order_id=order.pk,
        shift=shift,
        method=method,
        amount=amount,
        amount_tendered=tendered,
        change_given=tendered - amount,
        recorded_by_id=recorded_by_id,
    )


def _pay(*, order: Order, method: str, tendered: int | None, recorded_by: User, payout: bool = False) -> CounterPayment:
    """Take a cash or external-card payment, or pay a negative total out in cash: shift lock, then order lock, then
    book once (a replay returns it)."""
    with merchant_context(order.merchant_id):
        sale = CounterSale.objects.of_order(order).first()
        if sale is None:
            raise CheckoutError("This is not a counter sale.", code="not_counter")
        # Shift first, then order: the lock order shift_close takes too.
        shift = Shift.objects.select_for_update().get(merchant_id=order.merchant_id, pk=sale.shift_id)
        existing = CounterPayment.objects.of_order(order).first()
        if existing is not None:
            return existing  # a replayed payment (double click, retried request): paid once
        locked = sale_lock(order)
        _payable_check(locked, shift, method=method, payout=payout)
        if payout:
            tendered = 0  # the shopper hands over nothing; the change given is the deposit paid out
        elif method == CounterMethod.CASH:
            assert tendered is not None
            cash_validate(tendered, "The cash given")
            if tendered < locked.total:
                raise CheckoutError(
                    f"Not enough cash: {format_amount(tendered, locked.currency)} given, "
                    f"{format_amount(locked.total, locked.currency)} due.",
                    code="insufficient_cash",
                )
        else:
            tendered = locked.total
        payment = _payment_book(
            merchant=locked.store.merchant,
            order=locked,
            shift=shift,
            method=method,
            payment_intent=f"counter:{method}:{locked.pk}",
            amount=locked.total,
            currency=locked.currency,
            tendered=tendered,
            recorded_by_id=recorded_by.pk,
        )
        if payment is None:  # cannot happen under the locks above; never take money for an unbooked sale
            raise CheckoutError("The sale could not be booked; nothing was recorded.", code="not_booked")
    logger.info("counter_paid", extra={"order_id": order.pk, "method": method, "amount": payment.amount})
    return payment


def counter_pay_cash(*, order: Order, tendered: int, recorded_by: User) -> CounterPayment:
    """Take cash: refuses too little, records the change due and books the sale once; atomic, scoped.

    A replay returns the payment already recorded and changes nothing.
    """
    return _pay(order=order, method=CounterMethod.CASH, tendered=tendered, recorded_by=recorded_by)


def counter_pay_out(*, order: Order, recorded_by: User) -> CounterPayment:
    """Settle a sale whose deposit returned exceeds its goods by paying the difference out of the drawer; books it
    once; atomic, scoped. Refuses (CheckoutError) a sale that does not come to less than zero.

    The payment records amount = the negative total, nothing tendered and the payout as change, so the
    shift's expected cash goes down by exactly the amount paid out.
    """
    return _pay(order=order, method=CounterMethod.CASH, tendered=None, recorded_by=recorded_by, payout=True)


def counter_pay_external_card(*, order: Order, recorded_by: User) -> CounterPayment:
    """Record the sale as paid by card on a terminal outside Lingshou; books it once; atomic, scoped."""
    return _pay(order=order, method=CounterMethod.EXTERNAL_CARD, tendered=None, recorded_by=recorded_by)


# Card through Stripe Terminal ------------------------------------------------------------------------
#
# Server-driven: Lingshou creates a card_present PaymentIntent and hands it to the store's reader;
# the shopper taps or inserts the card there; Stripe's webhook (or the reconciliation task) then
# books the sale with counter_card_paid. While the reader waits the sale cannot change, so the
# amount on the reader is always the sale's total.


def counter_card_start(*, order: Order) -> Order:
    """Send the sale's total to the store's Stripe reader; atomic, scoped, once per sale and total.

    Refuses (CheckoutError, nothing sent) a store without a reader, an empty or unchecked sale, a
    closed shift, and a card payment already waiting. Stripe errors come back as CheckoutError.
    """
    with merchant_context(order.merchant_id):
        sale = CounterSale.objects.of_order(order).first()
        if sale is None:
            raise CheckoutError("This is not a counter sale.", code="not_counter")
        shift = Shift.objects.select_for_update().get(merchant_id=order.merchant_id, pk=sale.shift_id)
        locked = sale_lock(order)
        _payable_check(locked, shift, method=CounterMethod.STRIPE_CARD)
        reader = locked.store.stripe_reader
        if not reader:
            raise CheckoutError("No Stripe card reader is set up for this store (Payments settings).", code="no_reader")
        account = locked.store.merchant.stripe_account or None
        try:
            intent = gateway.terminal_intent_create(
                amount=locked.total,
                currency=locked.currency,
                # The locks above let one click through per sale; this key covers the client's own
                # retries of this one request. A new attempt (after a cancel) needs a new intent.
                idempotency_key=f"lingshou-counter-{locked.token}-{uuid.uuid4()}",
                metadata={
                    "merchant_id": str(locked.merchant_id),
                    "order_id": str(locked.pk),
                    "store": locked.store.code,
                    "channel": Channel.COUNTER,
                },
                connected_account=account,
            )
        except gateway.GatewayUnavailable as error:
            # Nothing written and nothing on the reader: the clerk hears "try again in a minute", not a refusal.
            raise Unavailable("payments", retry_after=error.retry_after) from error
        except gateway.GatewayError as error:
            raise CheckoutError(f"The card reader could not start: {error.message}", code="reader_error") from error
        # Kept (and committed) before the reader asks for the card: whatever happens next, the sale
        # is frozen and knows its intent, so a card charged later is always booked against it.
        locked.payment_intent = intent.id
        locked.stripe_account = account or ""
        locked.payment_error = ""
        locked.save(update_fields=["payment_intent", "stripe_account", "payment_error"])
    try:
        gateway.reader_process_intent(reader=reader, intent_id=intent.id, connected_account=account)
    except gateway.GatewayError as error:
        counter_card_cancel(order=locked)  # nothing reached the reader: let the sale go again
        raise CheckoutError(f"The card reader could not start: {error.message}", code="reader_error") from error
    logger.info("counter_card_start", extra={"order_id": order.pk, "payment_intent": intent.id, "reader": reader})
    return locked


def counter_card_cancel(*, order: Order) -> bool:
    """Stop a waiting card payment so the sale can change or be paid otherwise; False when the card already paid.

    Cancels at Stripe first: only a PaymentIntent Stripe confirms as cancelled is let go.
    """
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, allow_card_in_progress=True)
        if not locked.payment_intent:
            return True
        account = locked.stripe_account or None
        try:
            if locked.store.stripe_reader:
                gateway.reader_cancel(reader=locked.store.stripe_reader, connected_account=account)
        except gateway.GatewayError:
            pass  # the reader may already be idle; the intent's own cancellation decides below
        try:
            status = gateway.intent_cancel(intent_id=locked.payment_intent, connected_account=account)
        except gateway.GatewayError as error:
            raise CheckoutError(f"Stripe did not answer; try again: {error.message}", code="reader_error") from error
        if status == "succeeded":
            return False  # the webhook books it; never let go of a paid sale
        locked.payment_intent = ""
        locked.stripe_account = ""
        locked.save(update_fields=["payment_intent", "stripe_account"])
    return True


def counter_card_paid(
    *, merchant: Merchant, order_id: int, payment_intent: str, amount_received: int, currency: str
) -> bool:
    """Book a counter sale that Stripe says the reader took; idempotent (one CounterPayment per order).

    The sale is booked even if its shift closed meanwhile: the card was charged, so the sale happened.
    """
    with merchant_context(merchant.pk):
        sale = CounterSale.objects.for_merchant(merchant).filter(order_id=order_id).first()
        if sale is None:
            return False
        shift = Shift.objects.select_for_update().for_merchant(merchant).get(pk=sale.shift_id)
        paid = CounterPayment.objects.for_merchant(merchant).filter(order_id=order_id).first()
        if paid is not None:
            if paid.method != CounterMethod.STRIPE_CARD:
                # The card was charged for a sale already paid another way: the owner must refund it.
                logger.error("counter_card_paid_twice", extra={"order_id": order_id, "payment_intent": payment_intent})
            return False
        order = Order.objects.for_merchant(merchant).get(pk=order_id)
        payment = _payment_book(
            merchant=merchant,
            order=order,
            shift=shift,
            method=CounterMethod.STRIPE_CARD,
            payment_intent=payment_intent,
            amount=amount_received,
            currency=currency,
            tendered=amount_received,
            recorded_by_id=sale.started_by_id,
        )
        if payment is None:
            return False
    logger.info("counter_card_paid", extra={"order_id": order_id, "payment_intent": payment_intent})
    return True


def cash_suggestions(*, total: int, currency: str) -> list[int]:
    """What a shopper is likely to hand over for ``total``: the next 5, 10, 20, 50 or 100 above it, three at most."""
    unit = 10 ** exponent(currency)
    rounded = sorted({-(-total // (step * unit)) * step * unit for step in (5, 10, 20, 50, 100)})
    return [amount for amount in rounded if amount > total][:3]
