"""A bulk loader of paid sales: the rows checkout's services write, dated back, thousands at a time.

Booking a sale through the services takes a dozen statements (cart, order, lines, lock, movements,
exit pass, payment); 90 days of three kiosks are about 70,000 sales, too slow for the first
``make demo``. The loader writes the same rows in bulk, one statement per table and batch (ids drawn
from the tables' sequences beforehand), and moves each product's ``on_hand`` once per flush. It reuses checkout's own arithmetic (``pricing``,
``taxes``, ``cash_suggestions``) and mirrors, row for row, what these services write:

- phone: ``visit_start`` -> ``cart_add`` -> ``order_place`` -> ``order_mark_paid`` (from the
  ``payment_intent.succeeded`` webhook) -> ``age_check_confirm`` at the door when needed;
- counter: ``counter_sale_start`` -> ``counter_lines_scan`` -> ``age_check_confirm`` ->
  ``counter_pay_cash`` / ``counter_pay_external_card``, inside a shift (``shift_open`` /
  ``shift_close``);
- refunds: ``order_refunded`` (a full refund returns the units with refund movements);
- deliveries: ``stock_moves`` of kind receipt.

tests/demo/test_sales_loader.py books the same baskets both ways and compares the rows field by
field. The loader is for seeding only: it takes no locks and trusts its caller to be the only writer.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg
from django.db import connection, models

from catalog.models import MovementKind, StockMovement, StoreProduct
from checkout import taxes
from checkout.choices import Channel, OrderStatus
from checkout.models import CounterMethod, CounterPayment, CounterSale, ExitPass, Order, OrderLine, Refund, Shift, Visit
from checkout.services import pricing
from checkout.services.counter import cash_suggestions
from checkout.services.exit_passes import EXIT_PASS_VALID_FOR
from checkout.services.orders import RESERVATION
from merchants.models import Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PHONE = "phone"  # paid by card in the shopper's phone (Stripe)
# How long before paying a shopper scanned the entrance QR, and placed the order.
VISIT_BEFORE_PAYMENT = dt.timedelta(minutes=6)
ORDER_BEFORE_PAYMENT = dt.timedelta(minutes=1)
COUNTER_SALE_DURATION = dt.timedelta(seconds=90)
BATCH = 2000


@dataclass(frozen=True)
class Sale:
    """One basket: when it was paid, how, and its (store product id, units) in the order rung up.

    ``tender`` picks the cash handed over for a cash sale: 0 the exact amount, n the n-th of
    ``cash_suggestions`` (the next 5, 10, 20 … above the total).
    """

    at: dt.datetime
    method: str  # PHONE, CounterMethod.CASH or CounterMethod.EXTERNAL_CARD
    lines: tuple[tuple[int, int], ...]
    tender: int = 0


@dataclass
class _Booked:
    """A sale's rows waiting for the next flush."""

    order: Order
    lines: list[OrderLine]
    visit: Visit | None = None
    counter_sale: CounterSale | None = None
    payment: CounterPayment | None = None
    exit_pass: ExitPass | None = None


@dataclass
class _ShiftTally:
    shift: Shift
    cash_tendered: int = 0
    change_given: int = 0


@dataclass
class _Item:
    """What the loader knows of a store product: enough to price a line and keep its on hand."""

    pk: int
    name: str
    category_id: int | None
    price: int
    tax_class: str
    is_age_restricted: bool
    average_cost: int | None
    on_hand: int
    flushed_on_hand: int = field(default=0)


class SalesLoader:
    """Books paid sales, refunds and deliveries of one store in memory; ``flush`` writes them.

    Call in time order. Between flushes the database's ``on_hand`` lags; call ``flush`` before a
    service that reads stock (a count), then ``reload`` to take in what that service changed.
    """

    def __init__(self, *, store: Store, clerk: User) -> None:
        self.store = store
        self.merchant = store.merchant
        self.clerk = clerk
        self.items: dict[int, _Item] = {}
        self._booked: list[_Booked] = []
        self._by_order: dict[int, _Booked] = {}
        self._dirty: dict[int, Order] = {}  # refunded after their flush: saved again
        self._refunds: list[Refund] = []
        self._movements: list[StockMovement] = []
        self._ids: dict[str, list[int]] = {}
        self._shift: _ShiftTally | None = None
        self.reload()

    # Reading the store ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Write what is booked, then read the store's products (prices, costs, on hand) again.

        Call it after a service changed them (a price, a count).
        """
        if self._booked or self._movements or self._refunds or self._dirty:
            self.flush()
        with merchant_context(self.merchant.pk):
            rows = StoreProduct.objects.filter(merchant_id=self.merchant.pk, store=self.store).select_related("product")
            self.items = {
                item.pk: _Item(
                    pk=item.pk,
                    name=item.name[:200],
                    category_id=item.product.category_id if item.product else None,
                    price=item.price,
                    tax_class=item.tax_class,
                    is_age_restricted=item.is_age_restricted,
                    average_cost=item.average_cost,
                    on_hand=item.on_hand,
                    flushed_on_hand=item.on_hand,
                )
                for item in rows
            }

    @property
    def pending(self) -> int:
        """Sales booked since the last flush."""
        return len(self._booked)

    def on_hand(self, store_product_id: int) -> int:
        return self.items[store_product_id].on_hand

    def _next_id(self, model: type[models.Model]) -> int:
        # Ids drawn from the table's own sequence: a sale's movements and payment name its order
        # (and the order its visit) before the rows are written, as the services do after inserting.
        table = model._meta.db_table
        pool = self._ids.setdefault(table, [])
        if not pool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, BATCH]
                )
                pool.extend(row[0] for row in reversed(cursor.fetchall()))
        return pool.pop()

    # Shifts --------------------------------------------------------------------------------------

    def shift_open(self, *, at: dt.datetime, opening_cash: int) -> Shift:
        """Open the till as ``shift_open`` does (by the clerk, with a float); one open shift at a time."""
        assert self._shift is None, "close the open shift first"
        with merchant_context(self.merchant.pk):
            shift = Shift.objects.create(
                merchant_id=self.merchant.pk,
                store=self.store,
                opened_by=self.clerk,
                opened_at=at,
                opening_cash=opening_cash,
            )
        self._shift = _ShiftTally(shift)
        return shift

    def shift_close(self, *, at: dt.datetime, difference: int = 0, note: str = "") -> Shift:
        """Close the till as ``shift_close`` does: expected cash from the shift's payments, counted = expected + difference."""
        assert self._shift is not None, "no shift is open"
        tally, self._shift = self._shift, None
        shift = tally.shift
        shift.expected_cash = shift.opening_cash + tally.cash_tendered - tally.change_given
        shift.counted_cash = shift.expected_cash + difference
        shift.closed_at = at
        shift.closed_by = self.clerk
        shift.note = note.strip()[:300]
        with merchant_context(self.merchant.pk):
            shift.save(update_fields=["expected_cash", "counted_cash", "closed_at", "closed_by", "note"])
        return shift

    # Sales ---------------------------------------------------------------------------------------

    def _lines(self, order: Order, sale: Sale) -> list[OrderLine]:
        # The phone's cart is read in product id order (order_place); the counter keeps scan order.
        wanted = sorted(sale.lines) if sale.method == PHONE else list(sale.lines)
        lines = []
        for store_product_id, quantity in wanted:
            item = self.items[store_product_id]
            line = OrderLine(
                merchant_id=self.merchant.pk,
                order=order,
                store_product_id=item.pk,
                name=item.name,
                category_id=item.category_id,
                unit_price=item.price,
                tax_class=item.tax_class,
                tax_rate=taxes.rate(country=self.store.country, tax_class=item.tax_class),
                unit_cost=item.average_cost,
                is_age_restricted=item.is_age_restricted,
            )
            pricing.order_line_price(line, quantity=quantity, prices_include_tax=self.store.prices_include_tax)
            lines.append(line)
        return lines

    def _stock(
        self, *, kind: str, moves: Sequence[tuple[int, int]], reference: str, at: dt.datetime
    ) -> list[StockMovement]:
        """Movements as ``stock_moves`` writes them: in product id order, with the running on hand."""
        movements = []
        for store_product_id, quantity in sorted(moves):
            item = self.items[store_product_id]
            item.on_hand += quantity
            movements.append(
                StockMovement(
                    merchant_id=self.merchant.pk,
                    store_id=self.store.pk,
                    store_product_id=store_product_id,
                    kind=kind,
                    quantity=quantity,
                    reason="",
                    note="",
                    reference=reference[:100],
                    is_flagged_negative=item.on_hand < 0,
                    on_hand_after=item.on_hand,
                    created_by=None,
                    created_at=at,
                )
            )
        self._movements.extend(movements)
        return movements

    def sell(self, sale: Sale) -> Order:
        """Book one paid sale (order, lines, sale movements, exit pass, and the visit or the counter payment)."""
        if not sale.lines or any(quantity < 1 for _, quantity in sale.lines):
            raise ValueError("a sale needs at least one line, each of one unit or more")
        if len({store_product_id for store_product_id, _ in sale.lines}) != len(sale.lines):
            raise ValueError("give each product once: the cart and the counter add repeats up on one line")
        phone = sale.method == PHONE
        if not phone and self._shift is None:
            raise ValueError("a counter sale needs an open shift")
        order_id = self._next_id(Order)
        started = sale.at - (ORDER_BEFORE_PAYMENT if phone else COUNTER_SALE_DURATION)
        order = Order(
            pk=order_id,
            merchant_id=self.merchant.pk,
            store_id=self.store.pk,
            channel=Channel.SHOPPER if phone else Channel.COUNTER,
            token=uuid.uuid4(),
            status=OrderStatus.PAID,
            currency=self.store.currency,
            prices_include_tax=self.store.prices_include_tax,
            reserved_until=started + RESERVATION if phone else None,
            payment_intent=f"pi_demo{order_id:010d}" if phone else f"counter:{sale.method}:{order_id}",
            stripe_account="",
            payment_error="",
            email="",
            created_at=started,
            paid_at=sale.at,
        )
        lines = self._lines(order, sale)
        order.subtotal, order.tax_total, order.total = pricing.order_totals(
            lines, prices_include_tax=order.prices_include_tax
        )
        order.requires_age_check = any(line.is_age_restricted for line in lines)
        if order.requires_age_check:
            # The clerk saw an ID: at the till before paying, at the door after a phone payment.
            order.age_checked_by = self.clerk
            order.age_checked_at = sale.at + dt.timedelta(minutes=1) if phone else sale.at - dt.timedelta(seconds=20)
        units: dict[int, int] = defaultdict(int)
        for line in lines:
            if line.store_product_id is not None:  # the demo sells products only; typed for the others
                units[line.store_product_id] += line.quantity
        movements = self._stock(
            kind=MovementKind.SALE,
            moves=[(pk, -quantity) for pk, quantity in units.items()],
            reference=f"checkout.order:{order_id}",
            at=sale.at,
        )
        order.is_oversold = any(m.is_flagged_negative for m in movements)
        booked = _Booked(
            order=order,
            lines=lines,
            exit_pass=ExitPass(
                merchant_id=self.merchant.pk,
                order=order,
                jti=uuid.uuid4(),
                issued_at=sale.at,
                expires_at=sale.at + EXIT_PASS_VALID_FOR,
            ),
        )
        if phone:
            booked.visit = Visit(
                pk=self._next_id(Visit),
                merchant_id=self.merchant.pk,
                store_id=self.store.pk,
                token=uuid.uuid4(),
                started_at=sale.at - VISIT_BEFORE_PAYMENT,
                last_seen_at=started,
            )
            order.visit_id = booked.visit.pk
        else:
            assert self._shift is not None
            booked.counter_sale = CounterSale(
                merchant_id=self.merchant.pk,
                order=order,
                shift=self._shift.shift,
                started_by=self.clerk,
                started_at=started,
                lines_voided=0,
            )
            tendered = order.total
            if sale.method == CounterMethod.CASH and sale.tender:
                offers = cash_suggestions(total=order.total, currency=order.currency)
                tendered = offers[min(sale.tender, len(offers)) - 1] if offers else order.total
            booked.payment = CounterPayment(
                merchant_id=self.merchant.pk,
                order=order,
                shift=self._shift.shift,
                method=sale.method,
                amount=order.total,
                amount_tendered=tendered,
                change_given=tendered - order.total,
                recorded_by=self.clerk,
                at=sale.at,
            )
            if sale.method == CounterMethod.CASH:
                self._shift.cash_tendered += tendered
                self._shift.change_given += tendered - order.total
        self._booked.append(booked)
        self._by_order[order_id] = booked
        return order

    def refund(self, *, order: Order, amount_refunded: int, reference: str, at: dt.datetime, by: User | None) -> None:
        """Bring the order's refunds up to ``amount_refunded`` as ``order_refunded`` does (running total)."""
        if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
            return
        if amount_refunded <= order.amount_refunded:
            return
        self._refunds.append(
            Refund(
                merchant_id=self.merchant.pk,
                order=order,
                amount=min(amount_refunded, order.total) - order.amount_refunded,
                stripe_reference=reference[:100],
                refunded_by=by,
                created_at=at,
            )
        )
        order.amount_refunded = min(amount_refunded, order.total)
        order.status = OrderStatus.REFUNDED if order.amount_refunded >= order.total else OrderStatus.PARTIALLY_REFUNDED
        if order.pk not in self._by_order:
            self._dirty[order.pk] = order
        if order.status == OrderStatus.REFUNDED:
            booked = self._by_order.get(order.pk)
            if booked is not None:
                lines = booked.lines
            else:
                with merchant_context(self.merchant.pk):
                    lines = list(OrderLine.objects.filter(merchant_id=self.merchant.pk, order_id=order.pk))
            units: dict[int, int] = defaultdict(int)
            for line in lines:
                if line.store_product_id is not None:
                    units[line.store_product_id] += line.quantity
            self._stock(
                kind=MovementKind.REFUND,
                moves=list(units.items()),
                reference=f"checkout.order:{order.pk}:{reference}",
                at=at,
            )

    def receive(self, *, moves: Sequence[tuple[int, int]], reference: str, at: dt.datetime) -> None:
        """A delivery put on the shelves: receipt movements as ``stock_moves`` writes them."""
        if moves:
            self._stock(kind=MovementKind.RECEIPT, moves=moves, reference=reference, at=at)

    # Writing -------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything booked since the last flush; returns the number of orders written."""
        booked, self._booked, self._by_order = self._booked, [], {}
        with merchant_context(self.merchant.pk):
            _insert(Visit, [b.visit for b in booked if b.visit is not None])
            _insert(Order, [b.order for b in booked])
            _insert(OrderLine, [line for b in booked for line in b.lines])
            _insert(ExitPass, [b.exit_pass for b in booked if b.exit_pass])
            _insert(CounterSale, [b.counter_sale for b in booked if b.counter_sale])
            _insert(CounterPayment, [b.payment for b in booked if b.payment])
            if self._dirty:
                Order.objects.bulk_update(list(self._dirty.values()), ["amount_refunded", "status"], batch_size=BATCH)
            _insert(Refund, self._refunds)
            _insert(StockMovement, self._movements)
            moved = [(item.pk, item.on_hand - item.flushed_on_hand) for item in self.items.values()]
            moved = [(pk, delta) for pk, delta in moved if delta]
            if moved:
                # One statement for every product: on hand moves by the sum of its new movements.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE catalog_storeproduct AS item SET on_hand = item.on_hand + moved.delta "
                        "FROM unnest(%s::bigint[], %s::int[]) AS moved(id, delta) "
                        "WHERE item.id = moved.id AND item.merchant_id = %s",
                        [[pk for pk, _ in moved], [delta for _, delta in moved], self.merchant.pk],
                    )
        for item in self.items.values():
            item.flushed_on_hand = item.on_hand
        self._dirty, self._refunds, self._movements = {}, [], []
        return len(booked)


def _insert(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Insert the model instances: the rows bulk_create would write, one column array per field.

    ``INSERT … SELECT FROM unnest(…)`` takes one array per column, so a batch costs the
    database one statement and Python no SQL of its own (COPY would be faster still, but
    PostgreSQL refuses it on tables under row-level security). Every concrete column is written
    from the instance (its defaults were filled in when it was built); the id too when it was
    drawn beforehand, else the table's identity gives it.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and getattr(rows[0], f.attname) is None)]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    # Arrays of the column's base type: a cast to varchar(n)[] would cut a long value silently.
    types = [re.sub(r"\(.*\)", "", f.db_type(connection) or "text").replace("varchar", "text") for f in fields]
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    statement = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model  # nosec B608
        f"SELECT * FROM unnest({arrays})"
    )
    connection.ensure_connection()
    # A cursor that sends the arrays as bound binary parameters, not as SQL text (Django's cursors
    # quote every element into the statement): the same transaction, a fraction of the work.
    with psycopg.Cursor(connection.connection) as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            cursor.execute(statement, [[getattr(row, f.attname) for row in chunk] for f in fields], binary=True)
