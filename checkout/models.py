"""Shopper visits and carts, orders, payments, Stripe webhook events and exit passes.

An order's prices are computed on the server from the store's prices when it is placed and kept
on its lines; the Stripe webhook, not the browser, marks it paid. While an order waits for its
payment it holds its units (``reserved_until``): other shoppers see them as taken.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Category, StoreProduct
from checkout.choices import Channel, OrderStatus
from checkout.querysets import (
    CartLineQuerySet,
    OrderLineQuerySet,
    OrderPartQuerySet,
    OrderQuerySet,
    ShiftPartQuerySet,
    ShiftQuerySet,
)
from merchants.models import Store, TenantModel


class Shopper(models.Model):
    """A shopper who chose to sign in (by an e-mail link): keeps their receipts and, if they wish, cards.

    Not a tenant's row and not a staff user: a shopper buys in any shop on the platform, and a
    shopper session never opens the dashboard.
    """

    email = models.EmailField(unique=True)
    # Cards are kept by Stripe on a customer per shop; Lingshou keeps only this choice.
    saves_cards = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_signed_in_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.email


class ShopperSignIn(models.Model):
    """A one-time sign-in link sent by e-mail; only the SHA-256 of its secret is kept."""

    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="sign_ins")
    token_hash = models.CharField(max_length=64, unique=True)
    next_url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shopper", "created_at"], name="shoppersignin_recent")]

    def __str__(self) -> str:
        return f"Sign-in link {self.pk} for shopper {self.shopper_id}"


class ShopperCustomer(TenantModel):
    """The Stripe customer that holds a shopper's saved cards at one merchant (on its connected account)."""

    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    stripe_customer = models.CharField(max_length=100)
    stripe_account = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    rls_shopper_column = "shopper_id"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "shopper", "stripe_account"], name="shoppercustomer_unique")
        ]

    def __str__(self) -> str:
        return self.stripe_customer


class Visit(TenantModel):
    """A shopper in a store (from the entrance QR): the server-side cart lives here. Anonymous."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    rls_lookup_column = "token::text"

    class Meta:
        indexes = [models.Index(fields=["merchant", "store", "started_at"], name="visit_store_time")]


class CartLine(TenantModel):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="lines")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar = CartLineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "visit", "store_product"], name="cartline_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartline_quantity_positive"),
        ]


class Order(TenantModel):
    """A sale: placed from a cart (or at the counter), paid through Stripe, then a receipt."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SHOPPER)
    # The shopper's link to the order and its receipt; unguessable, never an id.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    currency = models.CharField(max_length=3)
    prices_include_tax = models.BooleanField(default=True)
    subtotal = models.PositiveIntegerField(help_text="Sum of line totals, minor units.")
    tax_total = models.PositiveIntegerField()
    total = models.PositiveIntegerField(help_text="What the shopper pays, minor units.")
    amount_refunded = models.PositiveIntegerField(default=0)
    reserved_until = models.DateTimeField(null=True, blank=True)
    payment_intent = models.CharField(max_length=100, blank=True)
    stripe_account = models.CharField(max_length=100, blank=True, help_text="The connected account charged, if any.")
    payment_error = models.CharField(max_length=300, blank=True)
    requires_age_check = models.BooleanField(default=False)
    age_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    age_checked_at = models.DateTimeField(null=True, blank=True)
    # Paid after its reservation ran out and the stock was sold to someone else: flagged for the owner.
    is_oversold = models.BooleanField(default=False)
    email = models.EmailField(blank=True)
    # Set when a signed-in shopper placed the order: it is listed among their receipts.
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar = OrderQuerySet.as_manager()

    # The dashboard's status badge (templates/components/badge.html); cancelled and expired are neutral.
    BADGE_TONES: ClassVar[dict[str, dict[str, str]]] = {
        "status": {
            OrderStatus.PAID: "success",
            OrderStatus.PENDING: "info",
            OrderStatus.REFUNDED: "warning",
            OrderStatus.PARTIALLY_REFUNDED: "warning",
        }
    }

    rls_lookup_column = "token::text"
    rls_shopper_column = "shopper_id"

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_nonnegative"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="order_paid_has_paid_at"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "store", "status", "created_at"], name="order_store_status_time"),
            models.Index(fields=["merchant", "payment_intent"], name="order_payment_intent"),
            models.Index(fields=["shopper", "created_at"], name="order_shopper_time"),
            # Paid orders by when they were paid: a store's over a period (reports read from the orders), and
            # every merchant's of the last hours (the analytics sweep looks for facts not applied yet).
            models.Index(
                fields=["merchant", "store", "paid_at"], condition=Q(paid_at__isnull=False), name="order_store_paid"
            ),
            models.Index(fields=["paid_at"], condition=Q(paid_at__isnull=False), name="order_paid"),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    @property
    def number(self) -> str:
        return f"{self.pk:06d}" if self.pk else "new"


class OrderLine(TenantModel):
    """What was sold at what price: the price of its time, whatever the store price is later."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    # The product's category when it was sold (the wholesaler's, None for a store's own products), kept
    # like its name: sales by category stay where they were when the catalog is reorganised later. No
    # constraint, so that removing a category leaves the lines sold under it as they are.
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    unit_price = models.PositiveIntegerField()
    tax_class = models.CharField(max_length=10)
    tax_rate = models.PositiveIntegerField(help_text="Basis points: 1900 = 19 %.")
    line_total = models.PositiveIntegerField()
    tax_amount = models.PositiveIntegerField()
    # What one unit cost the shop when it was sold (the store product's average cost then), so margin
    # never changes when a cost changes later; None when the cost was not known.
    unit_cost = models.PositiveIntegerField(null=True, blank=True)
    is_age_restricted = models.BooleanField(default=False)

    objects: ClassVar = OrderLineQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive")]


class Refund(TenantModel):
    """Money given back on an order: how much, when, by whom (empty: done in Stripe's own dashboard)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = models.PositiveIntegerField(help_text="Minor units.")
    # Stripe's refund id, or the id of the event that reported a refund made elsewhere.
    stripe_reference = models.CharField(max_length=100)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gte=1), name="refund_amount_positive")]
        indexes = [
            models.Index(fields=["merchant", "order"], name="refund_order"),
            models.Index(fields=["created_at"], name="refund_time"),  # the analytics sweep's recent refunds
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount} on order {self.order_id}"


class Dispute(TenantModel):
    """A chargeback the shopper's bank opened on an order (Stripe's charge.dispute.* events)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="disputes")
    stripe_dispute = models.CharField(max_length=100)
    amount = models.PositiveIntegerField(help_text="Minor units.")
    reason = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=30, help_text="Stripe's status: needs_response, won, lost, ...")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "stripe_dispute"], name="dispute_unique")]

    def __str__(self) -> str:
        return f"Dispute {self.stripe_dispute} ({self.status})"


class WebhookEvent(models.Model):
    """Every Stripe event received, once: the primary key makes a replay a no-op.

    Platform-wide (Stripe speaks for every merchant); processed inside the order's merchant.
    """

    event_id = models.CharField(max_length=100, primary_key=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class ExitPass(TenantModel):
    """The single-use pass a paid order shows at the door (signed token in a QR code)."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="exit_pass")
    jti = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects: ClassVar = OrderPartQuerySet.as_manager()

    rls_lookup_column = "jti::text"


# Counter mode -------------------------------------------------------------------------------------


class Shift(TenantModel):
    """A clerk's time at a store's till, from the opening float to the cash count at the close.

    At most one shift per store is open at a time: every counter sale and every cash payment of
    the store belongs to it, so its expected cash is exact.
    """

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
        null=True, blank=True, help_text="Opening cash + cash sales − change given, fixed at the close."
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
    """How a counter sale was paid: cash with the change given, or a card on an external terminal."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="counter_payment")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=20, choices=CounterMethod.choices)
    amount = models.PositiveIntegerField(help_text="The sale's total, minor units.")
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
