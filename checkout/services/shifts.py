"""Shifts at the till: opened with a float, closed with a blind cash count that fixes the expected cash.

At most one shift per store is open (a partial unique index settles races); closing locks the
shift row first, the lock order paying takes too, and cancels the sales left unpaid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from checkout.choices import OrderStatus
from checkout.errors import CheckoutError
from checkout.models import CounterSale, Order, Shift
from checkout.selectors.counter import shift_totals
from merchants.models import Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# More than any till holds (100 000,00 € in cents): a typing slip, not a payment.
MAX_CASH = 10_000_000
CANCELLED_AT_CLOSE = "The shift was closed before this sale was paid."


def cash_validate(amount: int, what: str) -> None:
    """Refuse (CheckoutError) an amount of cash below zero, not whole minor units, or more than a till holds."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise CheckoutError(f"{what} must be an amount of 0 or more.", code="invalid_amount")
    if amount > MAX_CASH:
        raise CheckoutError(f"{what} is more than a till can hold; check the amount.", code="invalid_amount")


def shift_open(*, store: Store, opened_by: User, opening_cash: int) -> Shift:
    """Open the store's till with its float; atomic, scoped; refuses a second open shift."""
    cash_validate(opening_cash, "The opening cash")
    with merchant_context(store.merchant_id):
        if Shift.objects.open().filter(merchant_id=store.merchant_id, store=store).exists():
            raise CheckoutError("A shift is already open in this store.", code="shift_open")
        try:
            # A savepoint: the partial unique index settles a race the check above cannot.
            with transaction.atomic():
                return Shift.objects.create(
                    merchant_id=store.merchant_id, store=store, opened_by=opened_by, opening_cash=opening_cash
                )
        except IntegrityError as error:
            raise CheckoutError("A shift is already open in this store.", code="shift_open") from error


def shift_close(*, shift: Shift, closed_by: User, counted_cash: int, note: str = "") -> Shift:
    """Close the shift with the counted cash; fixes expected cash; atomic, scoped, closes once.

    Sales still unpaid are cancelled (no money was taken and nothing was booked for them).
    """
    cash_validate(counted_cash, "The counted cash")
    with merchant_context(shift.merchant_id):
        locked = Shift.objects.select_for_update().get(merchant_id=shift.merchant_id, pk=shift.pk)
        if not locked.is_open:
            raise CheckoutError("This shift is already closed.", code="shift_closed")
        unpaid = CounterSale.objects.of_shift(locked).values("order_id")
        Order.objects.filter(merchant_id=locked.merchant_id, pk__in=unpaid).pending().update(
            status=OrderStatus.CANCELLED, payment_error=CANCELLED_AT_CLOSE
        )
        locked.expected_cash = shift_totals(shift=locked).expected_cash
        locked.counted_cash = counted_cash
        locked.closed_at = timezone.now()
        locked.closed_by = closed_by
        locked.note = note.strip()[:300]
        locked.save(update_fields=["expected_cash", "counted_cash", "closed_at", "closed_by", "note"])
    return locked
