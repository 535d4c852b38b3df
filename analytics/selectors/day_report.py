"""The end-of-day report of one store: what the day took, by payment method and tax rate, what went back, and
whether the drawer matched; read from the day's own sales, refunds and shifts (a day is small)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from analytics.periods import Period
from checkout.models import Channel, CounterMethod, CounterSale, Order, OrderLine, OrderStatus, Refund, Shift
from checkout.selectors.counter import shift_totals
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context


@dataclass(frozen=True)
class MethodRow:
    label: str
    sales: int
    amount: int


@dataclass(frozen=True)
class TaxRow:
    rate: int  # basis points
    gross: int
    tax: int

    @property
    def net(self) -> int:
        return self.gross - self.tax

    @property
    def percent(self) -> str:
        """1900 -> '19', 550 -> '5.5'."""
        return f"{self.rate / 100:g}"


@dataclass(frozen=True)
class ShiftRow:
    shift: Shift
    cash_sales: int
    expected_cash: int

    @property
    def difference(self) -> int | None:
        """Counted minus expected once the shift is closed: negative is missing from the drawer."""
        return None if self.shift.counted_cash is None else self.shift.counted_cash - self.expected_cash


@dataclass(frozen=True)
class DayReport:
    store: Store
    day: dt.date
    methods: list[MethodRow]
    taxes: list[TaxRow]
    refunds: int
    refunded: int
    lines_voided: int
    sales_cancelled: int
    shifts: list[ShiftRow]

    @property
    def sales(self) -> int:
        return sum(row.sales for row in self.methods)

    @property
    def taken(self) -> int:
        return sum(row.amount for row in self.methods)

    @property
    def tax(self) -> int:
        return sum(row.tax for row in self.taxes)


def day_report(*, merchant: Merchant, store: Store, day: dt.date) -> DayReport:
    """The store's day in its own time zone: sales by when they were paid, refunds by when they were made,
    shifts by when they opened; scoped, a fixed number of queries."""
    start, end = Period(day, day).bounds(ZoneInfo(store.timezone))
    with merchant_context(merchant.pk):
        # Orders that were paid that day, whatever happened to them afterwards (refunds are reported as refunds).
        paid = Order.objects.for_merchant(merchant).sold().filter(store=store, paid_at__gte=start, paid_at__lt=end)
        counter = {Q(counter_payment__method=method): label for method, label in CounterMethod.choices}
        totals = paid.aggregate(
            phone_sales=Count("pk", filter=Q(channel=Channel.SHOPPER)),
            phone_amount=Coalesce(Sum("total", filter=Q(channel=Channel.SHOPPER)), 0),
            **{f"m{k}_sales": Count("pk", filter=f) for k, f in enumerate(counter)},
            **{f"m{k}_amount": Coalesce(Sum("total", filter=f), 0) for k, f in enumerate(counter)},
        )
        methods = [MethodRow("Scan and pay (card, online)", totals["phone_sales"], totals["phone_amount"])] + [
            MethodRow(f"Counter: {label.lower()}", totals[f"m{k}_sales"], totals[f"m{k}_amount"])
            for k, label in enumerate(counter.values())
        ]
        taxes = [
            TaxRow(row["tax_rate"], row["gross"], row["tax"])
            for row in OrderLine.objects.for_merchant(merchant)
            .filter(order__in=paid)
            .values("tax_rate")
            .annotate(gross=Sum("line_total"), tax=Sum("tax_amount"))
            .order_by("tax_rate")
        ]
        refunds = (
            Refund.objects.for_merchant(merchant)
            .filter(order__store=store, created_at__gte=start, created_at__lt=end)
            .aggregate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0))
        )
        counter_sales = (
            CounterSale.objects.for_merchant(merchant)
            .filter(order__store=store, started_at__gte=start, started_at__lt=end)
            .aggregate(
                voided=Coalesce(Sum("lines_voided"), 0),
                cancelled=Count("pk", filter=Q(order__status=OrderStatus.CANCELLED)),
            )
        )
        shifts = list(
            Shift.objects.for_merchant(merchant)
            .filter(store=store, opened_at__gte=start, opened_at__lt=end)
            .select_related("opened_by", "closed_by")
            .order_by("opened_at")
        )
    rows = []
    for shift in shifts:
        money = shift_totals(shift=shift)
        rows.append(ShiftRow(shift=shift, cash_sales=money.cash_sales, expected_cash=money.expected_cash))
    return DayReport(
        store=store,
        day=day,
        methods=[row for row in methods if row.sales] or methods[:1],
        taxes=[
            # Without tax in the prices the lines hold the net amount; the gross is net plus tax.
            row if store.prices_include_tax else TaxRow(row.rate, row.gross + row.tax, row.tax)
            for row in taxes
        ],
        refunds=refunds["count"],
        refunded=refunds["amount"],
        lines_voided=counter_sales["voided"],
        sales_cancelled=counter_sales["cancelled"],
        shifts=rows,
    )
