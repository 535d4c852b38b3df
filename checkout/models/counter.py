"""The till: shifts, counter sales and their payments, and sales booked after the till was offline."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from checkout.models.orders import Order
from checkout.querysets import OrderPartQuerySet, ShiftPartQuerySet, ShiftQuerySet
from merchants.models import TAX_RETENTION_YEARS, Store, TenantModel


class Shift(TenantModel):
    """A clerk's time at a store's till, from the opening float to the cash count at the close.

    At most one shift per store is open at a time: every counter sale and every cash payment of
    the store belongs to it, so its expected cash is exact.
    """

    retention_years = TAX_RETENTION_YEARS

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    opening_cash = models.PositiveIntegerField(help_text="The float in the drawer at the start, minor units.")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    counted_cash = models.PositiveIntegerField(null=True, blank=True, help_text="Counted at the close, minor units.")
    expected_cash = models.PositiveIntegerField(
        null=True, blank=True, help_text="Opening cash + cash taken − change given − cash refunded, fixed at the close."
    )
    note = models.CharField(max_length=300, blank=True)

    objects: ClassVar = ShiftQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "store"],
                condition=Q(closed_at__isnull=True),
                name="shift_one_open_per_store",
                violation_error_message="A shift is already open in this store.",
            ),
            # A closed shift always has its count and what was expected; an open one has neither.
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, counted_cash__isnull=True, expected_cash__isnull=True)
                | Q(closed_at__isnull=False, counted_cash__isnull=False, expected_cash__isnull=False),
                name="shift_closed_has_count",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "store", "opened_at"], name="shift_store_time")]

    def __str__(self) -> str:
        return f"Shift {self.pk} ({'open' if self.is_open else 'closed'})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def difference(self) -> int | None:
        """Counted minus expected: negative when cash is missing; None while the shift is open."""
        if self.counted_cash is None or self.expected_cash is None:
            return None
        return self.counted_cash - self.expected_cash


class CounterSale(TenantModel):
    """Binds a counter order to the shift it was rung up in and the clerk who rang it up."""

    retention_years = TAX_RETENTION_YEARS

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="counter_sale")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="sales")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    # Lines taken off the sale before payment: owners watch this figure for mistakes and misuse.
    lines_voided = models.PositiveIntegerField(default=0)

    objects: ClassVar = ShiftPartQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["merchant", "shift", "started_by"], name="countersale_shift_clerk")]

    def __str__(self) -> str:
        return f"Counter sale {self.order_id}"


class CounterMethod(models.TextChoices):
    CASH = "cash", "Cash"
    EXTERNAL_CARD = "external_card", "Card (external terminal)"
    STRIPE_CARD = "stripe_card", "Card (Stripe reader)"


class CounterPayment(TenantModel):
    """How a counter sale was paid: cash with the change given, or a card on an external terminal.

    A sale whose deposits returned exceed its goods has a negative total, settled only in cash:
    nothing is tendered and the drawer pays the amount out as ``change_given`` (amount −150,
    tendered 0, change 150), so the drawer's sum of tendered less change stays exact.
    """

    retention_years = TAX_RETENTION_YEARS

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="counter_payment")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=20, choices=CounterMethod.choices)
    amount = models.IntegerField(help_text="The sale's total, minor units; below zero for a deposit paid out.")
    amount_tendered = models.PositiveIntegerField(help_text="What the shopper handed over, minor units.")
    change_given = models.PositiveIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    objects: ClassVar = ShiftPartQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_tendered__gte=models.F("amount"))
                & Q(change_given=models.F("amount_tendered") - models.F("amount")),
                name="counterpayment_change_exact",
            ),
            models.CheckConstraint(
                condition=Q(method="cash") | Q(change_given=0), name="counterpayment_change_only_cash"
            ),
            # A card cannot pay money out: only the drawer settles a negative total.
            models.CheckConstraint(
                condition=Q(method="cash") | Q(amount__gte=0), name="counterpayment_payout_only_cash"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "shift", "method"], name="counterpayment_shift_method")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} for order {self.order_id}"


class OfflineSale(TenantModel):
    """A counter sale the till rang up while Lingshou could not be reached, booked once it was sent.

    The till names each sale with an id of its own (``client_id``, a UUID made in the browser),
    unique per merchant: a sale sent again (a retry after a lost answer, a second tab) finds the
    order its first send booked and books nothing. ``digest`` is what the till sent, so the same
    id with other lines is refused instead of answered as if it were the sale booked.
    """

    retention_years = TAX_RETENTION_YEARS

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="offline_sale")
    client_id = models.UUIDField()
    # When the clerk took the cash, by the till's clock, as sent; the order's times are this,
    # kept within its shift.
    made_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    digest = models.CharField(max_length=64)

    objects: ClassVar = OrderPartQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "client_id"], name="offlinesale_unique_client_id")]

    def __str__(self) -> str:
        return f"Offline sale {self.client_id} (order {self.order_id})"
