"""The sale a clerk rings up: scans (barcodes, PLUs, scale labels, return slips), picked and open-price items,
quantities, voids and cancelling.

Every change locks the sale's order row first, so scans that arrive together queue there and none
is lost; each scan adds its units (two scans of a can are two cans). Lines are priced by
``checkout.services.pricing``, the shopper flow's arithmetic. While the whole sale carries a
discount nothing on it changes (the discount was worked out on the sale as it was); a line with a
discount of its own keeps its quantity for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import F

from catalog import gtin
from catalog.models import StoreProduct, TaxClass
from catalog.selectors import LookupError_, ScanResult, store_product_by_code
from checkout.choices import Channel, LineKind, OrderStatus
from checkout.errors import CheckoutError
from checkout.models import CounterSale, Order, OrderLine, Shift
from checkout.selectors.counter import counter_sale_current, counter_sale_lines, deposit_amounts
from checkout.services import pricing
from core.money import format_amount
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from merchants.models import Store

# A counter line may hold more than a shopper's cart line (99): a crate of 24 cans times five.
MAX_LINE_QUANTITY = 999
# An open-price item above this is a typing slip at a kiosk's counter (1 000,00 € in cents).
MAX_OPEN_PRICE = 100_000
# Bottles a clerk counts back by hand in one go: a crate or a few bags; more wants the machine or a count again.
MAX_BOTTLES_RETURNED = 200
# Orders whose return slips count as redeemed: a slip is paid back once (or is waiting on another sale).
_SLIP_HOLDING = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


@dataclass(frozen=True)
class ScanOutcome:
    """What one scan did: the units it added to which product, or why it added nothing."""

    code: str
    store_product_id: int | None = None
    name: str = ""
    added: int = 0
    problem: str = ""


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


def sale_lock(order: Order, *, allow_card_in_progress: bool = False, changes_lines: bool = False) -> Order:
    """The sale's order row, locked for this transaction; refuses a sale that is no longer open.

    ``changes_lines``: the caller adds, changes or takes off lines, which a discount on the whole sale forbids.
    """
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
    if changes_lines and locked.sale_discount:
        raise CheckoutError(
            "This sale has a discount on the whole of it: take that discount off before changing the sale.",
            code="sale_discounted",
        )
    return locked


def _quantity_refuse(name: str) -> str:
    return f"{name}: at most {MAX_LINE_QUANTITY} on one line."


def _slip_taken(*, locked: Order, code: str) -> Order | None:
    """The other sale that already holds this return slip, if any. Serialised per slip until the transaction ends."""
    with connection.cursor() as cursor:
        # Two tills scanning one slip at once: the second waits here and then sees the first's line.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"lingshou-slip:{locked.merchant_id}:{code}"])
    line = (
        OrderLine.objects.filter(
            merchant_id=locked.merchant_id, kind=LineKind.DEPOSIT_RETURN, code=code, order__status__in=_SLIP_HOLDING
        )
        .exclude(order_id=locked.pk)
        .select_related("order")
        .first()
    )
    return line.order if line is not None else None


class _Sale:
    """The lines of one locked sale while a batch of scans or picks is added to it, written once at the end."""

    def __init__(self, locked: Order) -> None:
        self.order = locked
        self.store = locked.store
        self.lines = counter_sale_lines(order=locked)
        # A second scan of a product (or of the same scale label) adds to its line; other lines stay apart.
        self.by_product = {
            (line.store_product_id, line.code): line for line in self.lines if line.kind == LineKind.PRODUCT
        }
        self.deposits = {line.deposit_for_id: line for line in self.lines if line.kind == LineKind.DEPOSIT}
        self.slips = {line.code for line in self.lines if line.kind == LineKind.DEPOSIT_RETURN}
        self.changed: dict[int, OrderLine] = {}
        self.new: dict[tuple[int, str], pricing.Sold] = {}
        self.new_slips: list[OrderLine] = []

    def product_add(self, code: str, found: ScanResult) -> ScanOutcome:
        item = found.store_product
        if not item.is_active:
            return ScanOutcome(code=code, problem=f"{item.name} is not for sale in this store.")
        if item.is_sold_by_weight and found.variable is None:
            # Its price is per kilogram: only a scale label says how much this piece costs.
            return ScanOutcome(code=code, problem=f"{item.name} is sold by weight: weigh it and scan the scale label.")
        label = code if found.variable is not None else ""
        key = (item.pk, label)
        line = self.by_product.get(key)
        if line is not None:
            if line.discount:
                return ScanOutcome(
                    code=code,
                    problem=f"{item.name}: its line has a discount; take the discount off to add more.",
                )
            if line.quantity + found.quantity > MAX_LINE_QUANTITY:
                return ScanOutcome(code=code, problem=_quantity_refuse(item.name))
            pricing.order_line_price(
                line, quantity=line.quantity + found.quantity, prices_include_tax=self.order.prices_include_tax
            )
            self.changed[line.pk] = line
            deposit = self.deposits.get(line.pk)
            if deposit is not None:
                pricing.deposit_line_follow(
                    deposit, product_line=line, prices_include_tax=self.order.prices_include_tax
                )
                self.changed[deposit.pk] = deposit
        else:
            before = self.new.get(key)
            units = (before.quantity if before else 0) + found.quantity
            if units > MAX_LINE_QUANTITY:
                return ScanOutcome(code=code, problem=_quantity_refuse(item.name))
            self.new[key] = pricing.Sold(
                item=item,
                quantity=units,
                code=label,
                label_price=found.label_price,
                weight_grams=found.weight_grams,
            )
        return ScanOutcome(code=code, store_product_id=item.pk, name=item.name, added=found.quantity)

    def slip_add(self, slip: gtin.ReturnSlip) -> ScanOutcome:
        currency = self.order.currency
        if slip.value <= 0:
            return ScanOutcome(code=slip.code, problem="This return slip is worth nothing (0); it adds nothing.")
        if slip.code in self.slips:
            return ScanOutcome(code=slip.code, problem="This return slip is already on this sale; a slip counts once.")
        taken = _slip_taken(locked=self.order, code=slip.code)
        if taken is not None:
            where = "paid back" if taken.paid_at else "on another sale that is not finished"
            return ScanOutcome(
                code=slip.code, problem=f"This return slip was already {where} (sale {taken.number}); it counts once."
            )
        self.slips.add(slip.code)
        self.new_slips.append(
            pricing.return_slip_line(order=self.order, store=self.store, code=slip.code, value=slip.value)
        )
        return ScanOutcome(
            code=slip.code, name=f"{pricing.RETURN_SLIP_NAME} −{format_amount(slip.value, currency)}", added=1
        )

    def write(self) -> None:
        if self.changed:
            OrderLine.objects.bulk_update(self.changed.values(), ["quantity", "line_total", "tax_amount"])
        if self.new:
            pricing.order_lines_add(order=self.order, store=self.store, sold=list(self.new.values()))
        if self.new_slips:
            OrderLine.objects.bulk_create(self.new_slips)
        if self.changed or self.new or self.new_slips:
            pricing.order_totals_write(order=self.order, lines=counter_sale_lines(order=self.order))


def counter_lines_scan(*, order: Order, codes: list[str]) -> list[ScanOutcome]:
    """Add each scanned code to the sale; atomic, scoped.

    A code is a barcode (1 unit, or a pack barcode's count), a PLU, a scale label (priced from the
    label, one line per label) or a return slip of the merchant's bottle machine (its deposit back,
    once per slip). Every scan counts, repeats included. Codes that name nothing of the store, or
    that would take a line past MAX_LINE_QUANTITY, add nothing and say why; the other codes still count.
    """
    outcomes: list[ScanOutcome] = []
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        sale = _Sale(locked)
        prefix = locked.store.merchant.deposit_slip_prefix
        found_by_code: dict[str, ScanResult] = {}  # a batch often repeats a code (six cans)
        for raw in codes:
            code = raw.strip()
            if not code:
                continue
            try:
                slip = gtin.parse_return_slip(code, prefix=prefix)
                if slip is not None:
                    outcomes.append(sale.slip_add(slip))
                    continue
                found = found_by_code.get(code) or store_product_by_code(store=locked.store, code=code)
            except (LookupError_, gtin.GtinError) as error:
                outcomes.append(ScanOutcome(code=code, problem=str(error)))
                continue
            found_by_code[code] = found
            outcomes.append(sale.product_add(code, found))
        sale.write()
    return outcomes


def counter_line_scan(*, order: Order, code: str) -> ScanOutcome:
    """Add one scan to the sale (see counter_lines_scan); atomic, scoped, never deduplicated."""
    outcomes = counter_lines_scan(order=order, codes=[code])
    return outcomes[0] if outcomes else ScanOutcome(code=code, problem="Nothing was scanned.")


def counter_line_pick(*, order: Order, store_product_id: int) -> ScanOutcome:
    """Add one unit of a product the clerk picked from a search (no barcode at hand); atomic, scoped.

    Refuses (CheckoutError) a product that is not the sale's store's; an inactive one adds nothing and says why.
    """
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        item = (
            StoreProduct.objects.for_store(locked.store).select_related("product").filter(pk=store_product_id).first()
        )
        if item is None:
            raise CheckoutError("This product is not sold in this store.", code="unknown_product")
        sale = _Sale(locked)
        outcome = sale.product_add(item.lookup_code, ScanResult(item))
        sale.write()
    return outcome


def counter_line_open_price(*, order: Order, name: str, amount: int, tax_class: str) -> OrderLine:
    """Add an item without a barcode (a neighbour's cake, a damaged label) at the price and VAT rate given.

    Atomic, scoped. Refuses (CheckoutError, nothing written) an empty or over-long description, an
    amount that is not above zero or above MAX_OPEN_PRICE, and a VAT rate that is not one of the shop's.
    """
    name = " ".join(name.split())
    if not name:
        raise CheckoutError("Say what the item is (for the receipt).", code="invalid_name")
    if len(name) > 200:
        raise CheckoutError("Describe the item in at most 200 characters.", code="invalid_name")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise CheckoutError("The price must be more than zero.", code="invalid_amount")
    if tax_class not in TaxClass.values:
        raise CheckoutError("Choose one of the VAT rates shown.", code="invalid_tax_class")
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        if amount > MAX_OPEN_PRICE:
            limit = format_amount(MAX_OPEN_PRICE, locked.currency)
            raise CheckoutError(
                f"An item without a barcode costs at most {limit} here; check the price.", code="invalid_amount"
            )
        line = pricing.open_price_line(order=locked, store=locked.store, name=name, amount=amount, tax_class=tax_class)
        line.save()
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))
    return line


def bottles_return_check(*, store: Store, bottles: int, deposit: int) -> None:
    """Refuse (CheckoutError) a count of bottles that is not 1 to MAX_BOTTLES_RETURNED, or a deposit that none of
    the store's products carries (the clerk picks from those)."""
    if isinstance(bottles, bool) or not isinstance(bottles, int) or bottles < 1:
        raise CheckoutError("Enter how many bottles were returned: 1 or more.", code="invalid_bottles")
    if bottles > MAX_BOTTLES_RETURNED:
        raise CheckoutError(
            f"At most {MAX_BOTTLES_RETURNED} bottles at once; count the rest as another return.",
            code="invalid_bottles",
        )
    amounts = deposit_amounts(store=store)
    if deposit not in amounts:
        known = ", ".join(format_amount(amount, store.currency) for amount in amounts) or "none"
        raise CheckoutError(
            f"Choose one of the deposits this store's products carry ({known}).", code="invalid_deposit"
        )


def counter_bottles_return(*, order: Order, bottles: int, deposit: int) -> OrderLine:
    """Pay back the deposit on bottles the clerk took back by hand, as one negative line (voidable like a return
    slip's); atomic, scoped. Refuses (CheckoutError, nothing written) what ``bottles_return_check`` refuses."""
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        bottles_return_check(store=locked.store, bottles=bottles, deposit=deposit)
        line = pricing.bottles_return_line(order=locked, store=locked.store, bottles=bottles, deposit=deposit)
        line.save()
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))
    return line


def _line_of(locked: Order, line_id: int) -> OrderLine:
    line = OrderLine.objects.of_order(locked).filter(pk=line_id).first()
    if line is None:
        raise CheckoutError("This line is no longer on the sale.", code="unknown_line")
    return line


def counter_line_set_quantity(*, order: Order, line_id: int, quantity: int) -> OrderLine | None:
    """Set a line's quantity (0 voids it) and its deposit's with it; atomic, scoped. The line, or None once voided.

    Refuses (CheckoutError) a deposit line (it follows its product), a return slip (it counts once)
    and a line with a discount (the discount was worked out on the quantity it had).
    """
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
        raise CheckoutError("Choose a quantity of 0 or more.", code="invalid_quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise CheckoutError(f"At most {MAX_LINE_QUANTITY} on one line.", code="invalid_quantity")
    if quantity == 0:
        counter_line_void(order=order, line_id=line_id)
        return None
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        line = _line_of(locked, line_id)
        if line.kind == LineKind.DEPOSIT:
            raise CheckoutError("The deposit follows its product: change the product's quantity.", code="deposit_line")
        if line.kind == LineKind.DEPOSIT_RETURN:
            raise CheckoutError("A deposit returned counts once; void it to take it off.", code="deposit_line")
        if line.discount:
            raise CheckoutError(
                f"{line.name} has a discount: take it off before changing the quantity.", code="line_discounted"
            )
        pricing.order_line_price(line, quantity=quantity, prices_include_tax=locked.prices_include_tax)
        changed = [line]
        for deposit in OrderLine.objects.of_order(locked).filter(kind=LineKind.DEPOSIT, deposit_for=line):
            pricing.deposit_line_follow(deposit, product_line=line, prices_include_tax=locked.prices_include_tax)
            changed.append(deposit)
        OrderLine.objects.bulk_update(changed, ["quantity", "line_total", "tax_amount"])
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))
    return line


def counter_line_void(*, order: Order, line_id: int) -> None:
    """Take a line (and its deposit) off the unpaid sale and count the void for the shift; atomic, scoped."""
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        line = _line_of(locked, line_id)
        if line.kind == LineKind.DEPOSIT:
            raise CheckoutError("The deposit goes with its product: void the product.", code="deposit_line")
        # The deposit lines go with it (on_delete CASCADE from deposit_for).
        OrderLine.objects.of_order(locked).filter(pk=line.pk).delete()
        CounterSale.objects.of_order(locked).update(lines_voided=F("lines_voided") + 1)
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))


def counter_sale_cancel(*, order: Order) -> None:
    """Give up the unpaid sale (the shopper walked away); atomic, scoped; nothing was booked."""
    with merchant_context(order.merchant_id):
        locked = sale_lock(order)
        locked.status = OrderStatus.CANCELLED
        locked.payment_error = "Cancelled at the counter."
        locked.save(update_fields=["status", "payment_error"])
