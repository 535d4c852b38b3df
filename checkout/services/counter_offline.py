"""Booking a counter sale the till rang up while Lingshou could not be reached: as it was scanned, once, or not at all.

The clerk sold from the price list the page keeps in the browser and took the cash; the sale
arrives later, whole. The rules:
- it is booked by the counter's own services (start, scan, set quantity, ID check, pay cash), in
  one transaction: order, lines, the shift's cash payment and the ledger's sale movements are
  all written, or none is;
- it is booked only as the clerk rang it up: a code that no longer finds an active product, a
  unit price or deposit other than the one the clerk saw, or a total other than the one the clerk charged
  refuses the whole sale, naming each line and why (``OfflineSaleRefused``), so the till can show
  it to the clerk; stock is no reason, as at the online counter (selling below zero is flagged);
- a scale label is booked through the same scan as online, at Lingshou's reading of it: a till
  that read it otherwise has the line refused ("scale_label"), never booked at the till's figure;
- the till's id for the sale is unique per merchant (``OfflineSale``): a sale sent again returns
  the order its first send booked and changes nothing; concurrent sends of a shift queue on the
  shift's row, and the unique constraint settles sends that race through different shifts;
- a sale of the clerk's that was open on the server when the connection dropped, and that the
  till carried into the offline sale, is cancelled in the same transaction (``replaces``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError
from django.utils import timezone

from catalog.selectors import LookupError_, store_product_by_code
from checkout.choices import Channel, OrderStatus
from checkout.errors import CheckoutError
from checkout.models import CounterPayment, CounterSale, OfflineSale, Order, OrderLine, Shift
from checkout.selectors.counter import counter_sale_lines
from checkout.services import counter
from checkout.services.orders import age_check_confirm
from core.money import format_amount
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from merchants.models import Store

logger = logging.getLogger("lingshou.checkout.counter")


@dataclass(frozen=True)
class OfflineLine:
    """One line as the clerk rang it up: the code scanned, the units, the price of one unit the till showed.

    ``deposit``: the deposit per unit the till charged with it (the counter adds it as a line of its
    own); None from a till whose price list knew no deposits, which then leaves it to the total.
    """

    code: str
    quantity: int
    unit_price: int
    deposit: int | None = None


@dataclass(frozen=True)
class OfflineSaleIn:
    """A sale as the till sends it (validated for shape by the view, for substance here)."""

    client_id: uuid.UUID
    lines: list[OfflineLine]
    total: int
    tendered: int
    made_at: datetime
    age_checked: bool = False
    replaces: int | None = None

    def digest(self) -> str:
        """What identifies this content: a second send with other content under the same id is not a replay."""
        content = asdict(self)
        content.update(client_id=str(self.client_id), made_at=self.made_at.isoformat())
        for line in content["lines"]:
            # A sale sent before tills knew deposits keeps the digest it was booked with.
            if line["deposit"] is None:
                del line["deposit"]
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class LineProblem:
    """Why one line (by its place in the sale) cannot be booked as scanned; ``current_price`` or
    ``current_deposit`` when it is the price or the deposit."""

    index: int
    code: str
    reason: str
    message: str
    name: str = ""
    current_price: int | None = None
    current_deposit: int | None = None


class OfflineSaleRefused(CheckoutError):
    """The sale cannot be booked as the clerk rang it up; ``lines`` says which lines and why. Nothing was written."""

    def __init__(self, message: str, *, code: str, lines: list[LineProblem] | None = None) -> None:
        super().__init__(message, code=code)
        self.lines = lines or []


@dataclass(frozen=True)
class OfflineBooking:
    """The order an offline sale is booked as, its cash payment, and whether this send only found it booked."""

    order: Order
    payment: CounterPayment
    replayed: bool = False
    lines: list[OrderLine] = field(default_factory=list)


def _replay(*, merchant_id: int, sale: OfflineSaleIn) -> OfflineBooking | None:
    """The booking an earlier send of this sale made, or None; refuses the same id with other content."""
    found = (
        OfflineSale.objects.filter(merchant_id=merchant_id, client_id=sale.client_id)
        .select_related("order", "order__counter_payment")
        .first()
    )
    if found is None:
        return None
    order = found.order
    if found.digest != sale.digest():
        raise OfflineSaleRefused(
            f"This till already sent a sale under this id, booked as sale {order.number}, with other lines or "
            "amounts; nothing was changed. Discard this copy if sale "
            f"{order.number} is the one the shopper paid.",
            code="client_id_reused",
        )
    return OfflineBooking(
        order=order, payment=order.counter_payment, replayed=True, lines=counter_sale_lines(order=order)
    )


def _problems(*, store: Store, sale: OfflineSaleIn) -> tuple[list[LineProblem], set[str]]:
    """Each line that the counter would not book today as the clerk rang it up, and why; and the codes that are
    scale labels (the counter keeps each label's line apart)."""
    problems = []
    labels = set()
    for index, line in enumerate(sale.lines):
        try:
            found = store_product_by_code(store=store, code=line.code)
        except LookupError_ as error:
            problems.append(LineProblem(index, line.code, "unknown", f"{line.code}: {error}"))
            continue
        item = found.store_product
        if found.variable is not None:
            labels.add(line.code)
        # A scale label's price is what Lingshou reads from it (its own, or its weight at the price per kilogram).
        price = item.price if found.variable is None else found.label_price
        if not item.is_active:
            problems.append(
                LineProblem(
                    index, line.code, "inactive", f"{item.name} is no longer for sale in this store.", item.name
                )
            )
        elif found.variable is not None and price != line.unit_price:
            # The till read the label with the price list it had; Lingshou's reading is the one booked.
            problems.append(
                LineProblem(
                    index,
                    line.code,
                    "scale_label",
                    f"{item.name}: Lingshou reads this scale label as {format_amount(price or 0, store.currency)}, "
                    f"not {format_amount(line.unit_price, store.currency)} as charged.",
                    item.name,
                    current_price=price,
                )
            )
        elif price != line.unit_price:
            problems.append(
                LineProblem(
                    index,
                    line.code,
                    "price_changed",
                    f"{item.name} now costs {format_amount(item.price, store.currency)}, "
                    f"not {format_amount(line.unit_price, store.currency)} as scanned.",
                    item.name,
                    current_price=item.price,
                )
            )
        elif line.deposit is not None and item.deposit != line.deposit:
            problems.append(
                LineProblem(
                    index,
                    line.code,
                    "deposit_changed",
                    f"{item.name} now carries a deposit of {format_amount(item.deposit, store.currency)}, "
                    f"not {format_amount(line.deposit, store.currency)} as charged.",
                    item.name,
                    current_deposit=item.deposit,
                )
            )
    return problems, labels


def _sale_new(*, shift: Shift, clerk: User) -> Order:
    """A new empty counter sale in the locked shift, whatever sale the clerk has open online.

    Not ``counter_sale_start``: that continues the clerk's sale in progress, and an offline sale
    sent while the clerk already rings up the next shopper online must not land in that one.
    """
    store = shift.store
    order = Order.objects.create(
        merchant_id=shift.merchant_id,
        store=store,
        channel=Channel.COUNTER,
        currency=store.currency,
        prices_include_tax=store.prices_include_tax,
        subtotal=0,
        tax_total=0,
        total=0,
    )
    CounterSale.objects.create(merchant_id=shift.merchant_id, order=order, shift=shift, started_by=clerk)
    return order


def _replaced_cancel(*, shift: Shift, order_id: int) -> None:
    """Cancel the sale the till carried into this offline sale; refuses when it was paid meanwhile."""
    replaced = Order.objects.of_shift(shift).counter().filter(pk=order_id).select_related("counter_sale").first()
    if replaced is None:
        raise OfflineSaleRefused(
            f"Sale {order_id:06d}, which this sale took over, is not a sale of this shift.", code="invalid_replaces"
        )
    if replaced.status == OrderStatus.CANCELLED:
        return  # cancelled already (on another till, or the shift's close): nothing to undo
    if replaced.status != OrderStatus.PENDING:
        raise OfflineSaleRefused(
            f"Sale {replaced.number}, which this offline sale took over, was paid before the connection dropped: "
            "this offline sale repeats it. Discard it unless the shopper paid twice.",
            code="replaced_sale_paid",
        )
    try:
        counter.counter_sale_cancel(order=replaced)
    except CheckoutError as error:
        raise OfflineSaleRefused(
            f"Sale {replaced.number}, which this offline sale took over, cannot be cancelled: {error.messages[0]}",
            code="replaced_sale_open",
        ) from error


def _book(*, shift: Shift, clerk: User, sale: OfflineSaleIn) -> OfflineBooking:
    with merchant_context(shift.merchant_id):
        # Every send of this shift's offline sales queues here: a retry that arrives while the
        # first send is still booking waits, then finds it booked.
        locked = (
            Shift.objects.select_for_update(of=("self",))
            .select_related("store", "store__merchant")
            .get(merchant_id=shift.merchant_id, pk=shift.pk)
        )
        replayed = _replay(merchant_id=shift.merchant_id, sale=sale)
        if replayed is not None:
            return replayed
        if not locked.is_open:
            raise OfflineSaleRefused(
                "This shift was closed before the sale reached Lingshou; book it in the shift that is open now.",
                code="shift_closed",
            )
        problems, labels = _problems(store=locked.store, sale=sale)
        if problems:
            raise OfflineSaleRefused(
                f"{len(problems)} line{'s' if len(problems) != 1 else ''} cannot be booked as scanned; "
                "nothing was booked.",
                code="lines_refused",
                lines=problems,
            )
        if sale.replaces is not None:
            _replaced_cancel(shift=locked, order_id=sale.replaces)
        order = _sale_new(shift=locked, clerk=clerk)
        # Each code scanned once adds what one scan adds (a six-pack: six); the quantity the clerk
        # rang up for each product is then set, as a clerk would type it.
        outcomes = counter.counter_lines_scan(order=order, codes=[line.code for line in sale.lines])
        # A product line is the product's scans, or one scale label's (the counter keeps each label apart).
        wanted: dict[tuple[int, str], int] = {}
        for index, (line, outcome) in enumerate(zip(sale.lines, outcomes, strict=True)):
            if outcome.problem or outcome.store_product_id is None:
                raise OfflineSaleRefused(
                    "A line cannot be booked as scanned; nothing was booked.",
                    code="lines_refused",
                    lines=[LineProblem(index, line.code, "refused", outcome.problem, outcome.name)],
                )
            key = (outcome.store_product_id, line.code if line.code in labels else "")
            wanted[key] = wanted.get(key, 0) + line.quantity
        for order_line in counter_sale_lines(order=order):
            # Only the product lines the scans made: a deposit line (no product of its own) takes
            # its product line's quantity when that is set, so it is booked once, as the till showed it.
            units = wanted.get((order_line.store_product_id or 0, order_line.code))
            if units is not None and order_line.quantity != units:
                counter.counter_line_set_quantity(order=order, line_id=order_line.pk, quantity=units)
        order.refresh_from_db()
        # The pricing the online counter applies is the last word: what it charges is what the
        # clerk must have charged, or the drawer and the books part ways.
        if order.total != sale.total:
            raise OfflineSaleRefused(
                f"Lingshou prices this sale at {format_amount(order.total, order.currency)}, the till charged "
                f"{format_amount(sale.total, order.currency)}; nothing was booked.",
                code="total_differs",
            )
        if order.requires_age_check:
            if not sale.age_checked:
                raise OfflineSaleRefused(
                    "This sale has age-restricted items and the till did not record the ID check; nothing was booked.",
                    code="age_check",
                )
            age_check_confirm(order=order, clerk=clerk)
        payment = counter.counter_pay_cash(order=order, tendered=sale.tendered, recorded_by=clerk)
        # Reports count a sale when it was made: the till's time, kept within the shift (a till
        # clock that is wrong cannot put a sale before its shift or in the future).
        made = min(max(sale.made_at, locked.opened_at), timezone.now())
        Order.objects.filter(merchant_id=order.merchant_id, pk=order.pk).update(created_at=made, paid_at=made)
        CounterSale.objects.of_order(order).update(started_at=made)
        CounterPayment.objects.of_order(order).update(at=made)
        OfflineSale.objects.create(
            merchant_id=order.merchant_id,
            order=order,
            client_id=sale.client_id,
            made_at=sale.made_at,
            digest=sale.digest(),
        )
        order.refresh_from_db()
        payment.refresh_from_db()
        lines = counter_sale_lines(order=order)
    logger.info(
        "counter_offline_sale_booked",
        extra={"order_id": order.pk, "client_id": str(sale.client_id), "amount": payment.amount},
    )
    return OfflineBooking(order=order, payment=payment, lines=lines)


def offline_sale_book(*, shift: Shift, clerk: User, sale: OfflineSaleIn) -> OfflineBooking:
    """Book a sale rung up offline, whole and as scanned, or nothing; atomic, scoped, idempotent by the till's id.

    Raises OfflineSaleRefused (nothing written) with the reason, and the lines when they are it.
    """
    try:
        return _book(shift=shift, clerk=clerk, sale=sale)
    except IntegrityError:
        # The same sale booked meanwhile through another shift's lock (the till resent it after
        # a shift change): the unique id rolled this copy back; answer with the first booking.
        with merchant_context(shift.merchant_id):
            replayed = _replay(merchant_id=shift.merchant_id, sale=sale)
        if replayed is None:
            raise
        return replayed


def offline_problem_json(problem: LineProblem) -> dict[str, Any]:
    """A refused line as the till reads it: index, code, reason, message, and name and current price or deposit
    when known."""
    return {key: value for key, value in asdict(problem).items() if value not in (None, "")}
