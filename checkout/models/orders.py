"""Shopper visits and carts, orders, payments, Stripe webhook events and exit passes (the till's are in ``counter``).

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
from checkout.choices import DEPOSIT_KINDS, SALE_KINDS, Channel, LineKind, OrderStatus, RefundMethod
from checkout.querysets import (
    CartLineQuerySet,
    OrderLineQuerySet,
    OrderPartQuerySet,
    OrderQuerySet,
)
from merchants.models import TAX_RETENTION_YEARS, Store, TenantModel


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
    # A scale label (weighed cheese, a priced cake) is its own line, priced from the label; empty otherwise.
    code = models.CharField(max_length=14, blank=True, default="")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar = CartLineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "visit", "store_product", "code"], name="cartline_unique_product_label"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartline_quantity_positive"),
        ]


class Order(TenantModel):
    """A sale: placed from a cart (or at the counter), paid through Stripe, then a receipt."""

    retention_years = TAX_RETENTION_YEARS
    personal_columns = ("email", "shopper")

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SHOPPER)
    # The shopper's link to the order and its receipt; unguessable, never an id.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    currency = models.CharField(max_length=3)
    prices_include_tax = models.BooleanField(default=True)
    # Signed: an open counter sale may hold more returned deposit than goods for a while; a paid order never does.
    subtotal = models.IntegerField(help_text="Sum of line totals, minor units.")
    tax_total = models.IntegerField()
    total = models.IntegerField(help_text="What the shopper pays, minor units.")
    # Of the total: deposits charged less deposits returned (with their tax), and every discount given.
    deposit_total = models.IntegerField(default=0)
    discount_total = models.PositiveIntegerField(default=0)
    # A discount on the whole sale, given at the counter: its amount (shared out over the sale's lines), the
    # percentage it was given as (basis points; None when given as an amount), why, and by whom.
    sale_discount = models.PositiveIntegerField(default=0)
    sale_discount_percent = models.PositiveIntegerField(null=True, blank=True)
    sale_discount_reason = models.CharField(max_length=200, blank=True)
    sale_discount_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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
    # When the receipt mail went out: a task delivered twice (a redelivery, the outbox's relay) sends one.
    receipt_sent_at = models.DateTimeField(null=True, blank=True)

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
            # Only a counter sale may be paid below zero: its deposit returned exceeded its goods and the
            # drawer paid the difference out (a shopper's phone cannot be paid money).
            models.CheckConstraint(
                condition=Q(total__gte=0) | Q(paid_at__isnull=True) | Q(channel="counter"),
                name="order_paid_total_nonnegative",
            ),
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
    """What was sold at what price: the price of its time, whatever the store price is later.

    Besides products: items without a barcode sold at a price the clerk types (open price), the
    deposit on a product line's bottles, and deposit given back for a return slip (negative).
    ``line_total`` is what the line costs after its discounts: unit price × quantity, less the
    clerk's discount of this line and its share of a discount on the whole sale.
    """

    retention_years = TAX_RETENTION_YEARS

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=LineKind.choices, default=LineKind.PRODUCT)
    # Set on product lines only: the other kinds take nothing from stock.
    store_product = models.ForeignKey(StoreProduct, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The product line whose bottles a deposit line is for; the deposit goes when the product line goes.
    deposit_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="deposit_lines"
    )
    # The code the line was priced from, as scanned: a scale label (price or weight in it) or a return slip.
    code = models.CharField(max_length=14, blank=True)
    # What one item weighs, for products sold by weight (their stock is in grams): from the scale label.
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    name = models.CharField(max_length=200)
    # The product's category when it was sold (the wholesaler's, None for a store's own products), kept
    # like its name: sales by category stay where they were when the catalog is reorganised later. No
    # constraint, so that removing a category leaves the lines sold under it as they are.
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    # Negative on a deposit return only (checked below).
    unit_price = models.IntegerField()
    tax_class = models.CharField(max_length=10)
    tax_rate = models.PositiveIntegerField(help_text="Basis points: 1900 = 19 %.")
    line_total = models.IntegerField()
    tax_amount = models.IntegerField()
    # The clerk's discount of this line (minor units off unit price × quantity), the percentage it was
    # given as (basis points; None for an amount), why and by whom; and the line's share of a sale discount.
    discount = models.PositiveIntegerField(default=0)
    discount_percent = models.PositiveIntegerField(null=True, blank=True)
    discount_reason = models.CharField(max_length=200, blank=True)
    discount_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sale_discount = models.PositiveIntegerField(default=0)
    # What one unit cost the shop when it was sold (the store product's average cost then), so margin
    # never changes when a cost changes later; None when the cost was not known.
    unit_cost = models.PositiveIntegerField(null=True, blank=True)
    is_age_restricted = models.BooleanField(default=False)

    objects: ClassVar = OrderLineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(kind=LineKind.PRODUCT, store_product__isnull=False)
                | (~Q(kind=LineKind.PRODUCT) & Q(store_product__isnull=True)),
                name="orderline_product_has_store_product",
            ),
            models.CheckConstraint(
                condition=~Q(kind=LineKind.DEPOSIT) | Q(deposit_for__isnull=False), name="orderline_deposit_for_line"
            ),
            models.CheckConstraint(
                condition=Q(kind=LineKind.DEPOSIT_RETURN, unit_price__lt=0, line_total__lt=0)
                | (~Q(kind=LineKind.DEPOSIT_RETURN) & Q(unit_price__gte=0, line_total__gte=0)),
                name="orderline_only_returns_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SALE_KINDS) | Q(discount=0, sale_discount=0), name="orderline_discount_on_sales"
            ),
        ]

    @property
    def is_sale(self) -> bool:
        return self.kind in SALE_KINDS

    @property
    def is_deposit(self) -> bool:
        return self.kind in DEPOSIT_KINDS

    @property
    def gross_total(self) -> int:
        """Unit price × quantity, before any discount."""
        return self.unit_price * self.quantity

    @property
    def stock_units(self) -> int:
        """What the line takes from stock: grams for a product sold by weight, else its quantity; 0 without a product."""
        if self.store_product_id is None:
            return 0
        return self.quantity * (self.weight_grams or 1)


class Refund(TenantModel):
    """Money given back on an order: how much, when, by whom (empty: done in Stripe's own dashboard)."""

    retention_years = TAX_RETENTION_YEARS

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = models.PositiveIntegerField(help_text="Minor units.")
    method = models.CharField(max_length=20, choices=RefundMethod.choices, default=RefundMethod.STRIPE)
    # Cash handed back comes out of the drawer of the shift open at the time: its expected cash counts it.
    shift = models.ForeignKey(
        "Shift", null=True, blank=True, on_delete=models.PROTECT, related_name="cash_refunds", db_index=False
    )
    # Stripe's refund id, or the id of the event that reported a refund made elsewhere; empty for cash and terminals.
    stripe_reference = models.CharField(max_length=100, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(method=RefundMethod.CASH, shift__isnull=False)
                | (~Q(method=RefundMethod.CASH) & Q(shift__isnull=True)),
                name="refund_cash_has_shift",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "order"], name="refund_order"),
            models.Index(fields=["merchant", "shift"], condition=Q(shift__isnull=False), name="refund_shift"),
            models.Index(fields=["created_at"], name="refund_time"),  # the analytics sweep's recent refunds
        ]

    def __str__(self) -> str:
        return f"Refund of {self.amount} on order {self.order_id}"


class Dispute(TenantModel):
    """A chargeback the shopper's bank opened on an order (Stripe's charge.dispute.* events)."""

    retention_years = TAX_RETENTION_YEARS

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
