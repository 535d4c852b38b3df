"""Counter mode: shifts with a cash count, and sales a clerk rings up with a USB barcode scanner.

The rules that keep the drawer, the orders and the ledger in agreement:
- a counter sale is an ordinary Order (channel COUNTER) without a reservation: the goods are on
  the counter, so the sale never waits for stock; selling below zero is booked and flagged by
  the ledger, as for the shopper flow;
- every change to a sale locks its order row first, so scans that arrive together queue there
  and none is lost; each scan adds its units (two scans of a can are two cans);
- payment goes through ``order_mark_paid``, the shopper flow's code: sale movements, exit pass
  and receipt are written once, and a replayed payment returns the payment already recorded;
- paying and closing lock the shift row first (then the order), so a shift's expected cash,
  opening float + cash taken − change given, counts every payment of the shift exactly once
  (opening and closing a shift: ``checkout.services.shifts``).

Prices and totals come from ``checkout.services.pricing``, the shopper flow's arithmetic; the
reads (``shift_open_get`` …) are in ``checkout.selectors.counter``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F

from catalog.models import StoreProduct
from catalog.selectors import LookupError_, ScanResult, store_product_by_code
from checkout import gateway
from checkout.choices import Channel, OrderStatus
from checkout.errors import CheckoutError
from checkout.models import CounterMethod, CounterPayment, CounterSale, Order, OrderLine, Shift
from checkout.selectors.counter import counter_sale_current, counter_sale_lines
from checkout.services import pricing
from checkout.services.orders import order_mark_paid
from checkout.services.shifts import cash_validate
from core.money import exponent, format_amount
from merchants.models import Merchant
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("lingshou.checkout.counter")

# A counter line may hold more than a shopper's cart line (99): a crate of 24 cans times five.
MAX_LINE_QUANTITY = 999


@dataclass(frozen=True)
class ScanOutcome:
    """What one scan did: the units it added to which product, or why it added nothing."""

    code: str
    store_product_id: int | None = None
    name: str = ""
    added: int = 0
    problem: str = ""


# Sales --------------------------------------------------------------------------------------------


def counter_sale_start(*, shift: Shift, clerk: User) -> Order:
    """The clerk's sale in progress in this shift, or a new empty one; atomic, scoped.

    Starting one locks the shift row, so two first scans arriving together start one sale, not
    two, and no sale starts in a shift that is closing. Continuing one takes no lock: every scan
    calls this, and the tills of a store should not wait for each other.
    """
    with merchant_context(shift.merchant_id):
        current = counter_sale_current(shift=shift, clerk=clerk)
        if current is not None:
            return current
        locked = (
            Shift.objects.select_for_update(of=("self",))
            .select_related("store")
            .get(merchant_id=shift.merchant_id, pk=shift.pk)
        )
        if not locked.is_open:
            raise CheckoutError("This shift is closed; open a new one to sell.", code="shift_closed")
        current = counter_sale_current(shift=locked, clerk=clerk)  # started while this one waited
        if current is not None:
            return current
        store = locked.store
        order = Order.objects.create(
            merchant_id=locked.merchant_id,
            store=store,
            channel=Channel.COUNTER,
            currency=store.currency,
            prices_include_tax=store.prices_include_tax,
            subtotal=0,
            tax_total=0,
            total=0,
        )
        CounterSale.objects.create(merchant_id=locked.merchant_id, order=order, shift=locked, started_by=clerk)
    return order


def _sale_lock(order: Order, *, allow_card_in_progress: bool = False) -> Order:
    """The sale's order row, locked for this transaction; refuses a sale that is no longer open."""
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("store", "store__merchant")
        .counter()
        .filter(merchant_id=order.merchant_id, pk=order.pk)
        .first()
    )
    if locked is None:
        raise CheckoutError("This is not a counter sale.", code="not_counter")
    if locked.status == OrderStatus.PAID:
        raise CheckoutError("This sale is already paid.", code="paid")
    if locked.status != OrderStatus.PENDING:
        raise CheckoutError("This sale was cancelled.", code="cancelled")
    if locked.payment_intent and not allow_card_in_progress:
        raise CheckoutError(
            "A card payment is waiting on the reader: cancel it before changing or paying this sale another way.",
            code="card_in_progress",
        )
    return locked


def _quantity_refuse(name: str) -> str:
    return f"{name}: at most {MAX_LINE_QUANTITY} on one line."


def counter_lines_scan(*, order: Order, codes: list[str]) -> list[ScanOutcome]:
    """Add each scanned code's units (1, or a pack barcode's count) to the sale; atomic, scoped.

    Every scan counts, repeats included. Codes that name no product of the store, or that would
    take a line past MAX_LINE_QUANTITY, add nothing and say why; the other codes still count.
    """
    outcomes: list[ScanOutcome] = []
    with merchant_context(order.merchant_id):
        locked = _sale_lock(order)
        store = locked.store
        lines = {line.store_product_id: line for line in counter_sale_lines(order=locked)}
        found_by_code: dict[str, ScanResult] = {}  # a batch often repeats a code (six cans)
        changed: dict[int, OrderLine] = {}
        new: dict[int, tuple[StoreProduct, int]] = {}
        for raw in codes:
            code = raw.strip()
            if not code:
                continue
            try:
                found = found_by_code.get(code) or store_product_by_code(store=store, code=code)
            except LookupError_ as error:
                outcomes.append(ScanOutcome(code=code, problem=str(error)))
                continue
            found_by_code[code] = found
            item = found.store_product
            if found.variable is not None:
                outcomes.append(
                    ScanOutcome(code=code, problem=f"{item.name}: scale labels cannot be sold at the counter yet.")
                )
                continue
            if not item.is_active:
                outcomes.append(ScanOutcome(code=code, problem=f"{item.name} is not for sale in this store."))
                continue
            line = lines.get(item.pk)
            if line is not None:
                if line.quantity + found.quantity > MAX_LINE_QUANTITY:
                    outcomes.append(ScanOutcome(code=code, problem=_quantity_refuse(item.name)))
                    continue
                pricing.order_line_price(
                    line, quantity=line.quantity + found.quantity, prices_include_tax=locked.prices_include_tax
                )
                changed[line.pk] = line
            else:
                units = new.get(item.pk, (item, 0))[1] + found.quantity
                if units > MAX_LINE_QUANTITY:
                    outcomes.append(ScanOutcome(code=code, problem=_quantity_refuse(item.name)))
                    continue
                new[item.pk] = (item, units)
            outcomes.append(ScanOutcome(code=code, store_product_id=item.pk, name=item.name, added=found.quantity))
        if changed:
            OrderLine.objects.bulk_update(changed.values(), ["quantity", "line_total", "tax_amount"])
        if new:
            pricing.order_lines_add(order=locked, store=store, quantities=list(new.values()))
        if changed or new:
            pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))
    return outcomes


def counter_line_scan(*, order: Order, code: str) -> ScanOutcome:
    """Add one scan to the sale (see counter_lines_scan); atomic, scoped, never deduplicated."""
    outcomes = counter_lines_scan(order=order, codes=[code])
    return outcomes[0] if outcomes else ScanOutcome(code=code, problem="Nothing was scanned.")


def counter_line_set_quantity(*, order: Order, line_id: int, quantity: int) -> OrderLine | None:
    """Set a line's quantity (0 voids it); atomic, scoped. Returns the line, or None once voided."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise CheckoutError("Choose a quantity of 0 or more.", code="invalid_quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise CheckoutError(f"At most {MAX_LINE_QUANTITY} on one line.", code="invalid_quantity")
    if quantity == 0:
        counter_line_void(order=order, line_id=line_id)
        return None
    with merchant_context(order.merchant_id):
        locked = _sale_lock(order)
        line = OrderLine.objects.of_order(locked).filter(pk=line_id).first()
        if line is None:
            raise CheckoutError("This line is no longer on the sale.", code="unknown_line")
        pricing.order_line_price(line, quantity=quantity, prices_include_tax=locked.prices_include_tax)
        line.save(update_fields=["quantity", "line_total", "tax_amount"])
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))
    return line


def counter_line_void(*, order: Order, line_id: int) -> None:
    """Take a line off the unpaid sale and count the void for the shift; atomic, scoped."""
    with merchant_context(order.merchant_id):
        locked = _sale_lock(order)
        deleted, _ = OrderLine.objects.of_order(locked).filter(pk=line_id).delete()
        if not deleted:
            raise CheckoutError("This line is no longer on the sale.", code="unknown_line")
        CounterSale.objects.of_order(locked).update(lines_voided=F("lines_voided") + 1)
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))


def counter_sale_cancel(*, order: Order) -> None:
    """Give up the unpaid sale (the shopper walked away); atomic, scoped; nothing was booked."""
    with merchant_context(order.merchant_id):
        locked = _sale_lock(order)
        locked.status = OrderStatus.CANCELLED
        locked.payment_error = "Cancelled at the counter."
        locked.save(update_fields=["status", "payment_error"])


# Payments -----------------------------------------------------------------------------------------


def _payable_check(locked: Order, shift: Shift) -> None:
    if not shift.is_open:
        raise CheckoutError("This shift is closed; open a new one to sell.", code="shift_closed")
    if not OrderLine.objects.of_order(locked).exists():
        raise CheckoutError("Scan something before taking payment.", code="empty_sale")
    if locked.requires_age_check and locked.age_checked_at is None:
        raise CheckoutError("This sale has age-restricted items: check the shopper's ID first.", code="age_check")


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


def _pay(*, order: Order, method: str, tendered: int | None, recorded_by: User) -> CounterPayment:
    """Take a cash or external-card payment: shift lock, then order lock, then book once (a replay returns it)."""
    with merchant_context(order.merchant_id):
        sale = CounterSale.objects.of_order(order).first()
        if sale is None:
            raise CheckoutError("This is not a counter sale.", code="not_counter")
        # Shift first, then order: the lock order shift_close takes too.
        shift = Shift.objects.select_for_update().get(merchant_id=order.merchant_id, pk=sale.shift_id)
        existing = CounterPayment.objects.of_order(order).first()
        if existing is not None:
            return existing  # a replayed payment (double click, retried request): paid once
        locked = _sale_lock(order)
        _payable_check(locked, shift)
        if method == CounterMethod.CASH:
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
        locked = _sale_lock(order)
        _payable_check(locked, shift)
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
        locked = _sale_lock(order, allow_card_in_progress=True)
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
