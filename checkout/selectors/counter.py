"""Reads of counter mode: shifts, their sales and lines, and the money of a shift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Aggregate, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from catalog.models import StoreProduct
from checkout.choices import OrderStatus
from checkout.models import CounterMethod, CounterPayment, CounterSale, Order, OrderLine, Refund, Shift
from checkout.receipts import receipt_order
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class ShiftTotals:
    """The money of a shift so far (or at its close), minor units."""

    sales: int
    cash_sales: int
    cash_tendered: int
    change_given: int
    card_sales: int
    reader_sales: int
    cancelled: int
    lines_voided: int
    # Cash handed back from this shift's drawer for refunds (of sales of this shift or earlier ones).
    cash_refunds: int
    expected_cash: int
    # Deposit paid out in cash for sales whose returns exceeded their goods, and how many such sales;
    # neither counts in ``sales``, ``cash_sales`` or ``change_given`` (deposits are not sales).
    cash_paid_out: int = 0
    payouts: int = 0


def shift_open_get(*, merchant: Merchant, store: Store) -> Shift | None:
    """The store's open shift, if any; scoped to the merchant."""
    return Shift.objects.open().for_merchant(merchant).filter(store=store).first()


def shift_get(*, merchant: Merchant, shift_id: int) -> Shift | None:
    """One of the merchant's shifts (open or closed), or None; scoped."""
    return Shift.objects.for_merchant(merchant).filter(pk=shift_id).select_related("store").first()


def shift_last_closed_get(*, merchant: Merchant, store: Store) -> Shift | None:
    """The store's most recently closed shift, for its cash count; scoped."""
    return Shift.objects.closed().for_merchant(merchant).filter(store=store).order_by("-closed_at").first()


def shift_unpaid_count(*, shift: Shift) -> int:
    """Sales of the shift with items but no payment yet: what closing it would cancel; scoped."""
    return Order.objects.of_shift(shift).pending().filter(lines__isnull=False).distinct().count()


def counter_payment_get(*, merchant: Merchant, order_id: int, shift: Shift | None = None) -> CounterPayment | None:
    """The payment of one of the merchant's counter sales (within ``shift`` if given), or None; scoped."""
    payments = CounterPayment.objects.for_merchant(merchant).filter(order_id=order_id).select_related("order")
    return (payments.filter(shift=shift) if shift is not None else payments).first()


def counter_sale_get(*, merchant: Merchant, order_id: int) -> Order | None:
    """One of the merchant's counter sales, or None (a shopper's order is not one); scoped."""
    return (
        Order.objects.counter()
        .for_merchant(merchant)
        .filter(pk=order_id)
        .select_related("store", "store__merchant", "counter_sale__shift__store")
        .first()
    )


def counter_sale_current(*, shift: Shift, clerk: User) -> Order | None:
    """The clerk's sale in progress in this shift (the newest unpaid one), or None; scoped."""
    return (
        Order.objects.of_shift(shift)
        .counter()
        .pending()
        .filter(counter_sale__started_by=clerk)
        .select_related("store", "store__merchant", "counter_sale")
        .order_by("-pk")
        .first()
    )


def counter_sale_lines(*, order: Order) -> list[OrderLine]:
    """A sale's lines in the order they were first scanned, each deposit line right after its product's; scoped."""
    return receipt_order(OrderLine.objects.of_order(order).order_by("pk"))


def counter_line_get(*, order: Order, line_id: int) -> OrderLine | None:
    """One line of the sale, or None (another sale's line is not one of them); scoped."""
    return OrderLine.objects.of_order(order).filter(pk=line_id).first()


def deposit_amounts(*, store: Store) -> list[int]:
    """The deposits (minor units) the store's products carry, smallest first: what a bottle brought back by
    hand can be worth at this counter; scoped."""
    with merchant_context(store.merchant_id):
        return list(
            StoreProduct.objects.filter(merchant_id=store.merchant_id, store=store, deposit__gt=0)
            .order_by("deposit")
            .values_list("deposit", flat=True)
            .distinct()
        )


def _per_shift(rows: QuerySet[Any], total: Aggregate) -> Coalesce:
    """A scalar subquery: ``total`` over the rows of the outer query's shift (0 when there are none)."""
    of_shift = rows.filter(merchant_id=OuterRef("merchant_id"), shift_id=OuterRef("pk")).values("shift_id")
    return Coalesce(Subquery(of_shift.annotate(total=total).values("total")), 0)


def shift_totals(*, shift: Shift) -> ShiftTotals:
    """Sales, cash and card taken, change given, cash refunded and the cash the drawer should hold; scoped,
    two queries."""
    sale = Q(amount__gte=0)
    cash = Q(method=CounterMethod.CASH) & sale
    # A payout is cash only (a constraint): nothing tendered, the amount handed out as its change.
    payout = Q(method=CounterMethod.CASH, amount__lt=0)
    with merchant_context(shift.merchant_id):
        money = CounterPayment.objects.of_shift(shift).aggregate(
            sales=Count("pk", filter=sale),
            cash_sales=Coalesce(Sum("amount", filter=cash), 0),
            cash_tendered=Coalesce(Sum("amount_tendered", filter=cash), 0),
            change_given=Coalesce(Sum("change_given", filter=cash), 0),
            payouts=Count("pk", filter=payout),
            # A payout's amount is its tendered less its change (a constraint): what left the drawer, below zero.
            paid_out=Coalesce(Sum("amount", filter=payout), 0),
            card_sales=Coalesce(Sum("amount", filter=Q(method=CounterMethod.EXTERNAL_CARD)), 0),
            reader_sales=Coalesce(Sum("amount", filter=Q(method=CounterMethod.STRIPE_CARD)), 0),
        )
        # One row of three sums over different tables: joined, sales and refunds would multiply each other.
        sales = (
            Shift.objects.filter(merchant_id=shift.merchant_id, pk=shift.pk)
            .annotate(
                cancelled=_per_shift(CounterSale.objects.filter(order__status=OrderStatus.CANCELLED), Count("pk")),
                lines_voided=_per_shift(CounterSale.objects.all(), Sum("lines_voided")),
                refunded_in_cash=_per_shift(Refund.objects.all(), Sum("amount")),
            )
            .values("cancelled", "lines_voided", "refunded_in_cash")
            .get()
        )
    refunded = sales.pop("refunded_in_cash")
    paid_out = -money.pop("paid_out")
    return ShiftTotals(
        **money,
        **sales,
        cash_refunds=refunded,
        cash_paid_out=paid_out,
        expected_cash=shift.opening_cash + money["cash_tendered"] - money["change_given"] - paid_out - refunded,
    )
