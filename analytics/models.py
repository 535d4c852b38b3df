"""The shop in numbers: rollup cells kept up to date as facts happen, and the facts already applied.

A cell is a sum over facts (a paid order, a refund, a price lookup, a closed stock-out period).
Each fact is applied once: its ``AppliedFact`` row and its increments are written in one
transaction (``analytics.services.facts``), so a fact applied twice counts once and a worker
killed half-way leaves nothing behind. Days and hours are the store's own, in its time zone at
the time of the fact: ``local_date`` and ``hour`` (0-23) are kept, never a UTC timestamp, so a
daylight-saving day has 23 or 25 hours of cells and each lands where the clock on the wall said.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone

from analytics.querysets import CellQuerySet
from catalog.models import StoreProduct
from merchants.models import Store, TenantModel


class FactKind(models.TextChoices):
    ORDER = "order", "Order paid"
    REFUND = "refund", "Refund"
    LOOKUP = "lookup", "Price lookup"
    SHELF_EMPTY = "shelf_empty", "Shelf-empty period (cameras)"
    STOCKOUT = "stockout", "Stock at zero (ledger)"


class PaymentMethod(models.TextChoices):
    """How a sale was paid: the counter's own methods, and the shopper's card through Stripe on the phone."""

    ONLINE_CARD = "online_card", "Card (phone)"
    CASH = "cash", "Cash"
    EXTERNAL_CARD = "external_card", "Card (external terminal)"
    STRIPE_CARD = "stripe_card", "Card (Stripe reader)"


class AppliedFact(TenantModel):
    """A fact whose increments are in the rollups. Its key is the id of the raw row it stands for."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=FactKind.choices)
    key = models.BigIntegerField(help_text="The raw row's id: order, refund, lookup, period or ending movement.")
    # When the fact happened (paid, refunded, looked up, period ended): what a rebuild's range selects on.
    occurred_at = models.DateTimeField()
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "kind", "key"], name="appliedfact_unique")]
        indexes = [models.Index(fields=["merchant", "store", "occurred_at"], name="appliedfact_store_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class PendingFact(TenantModel):
    """A fact whose task has run but whose increments wait for the merchant's next batch (``facts_drain``).

    Written and consumed in PostgreSQL, so a batch rolled back (a worker killed, a deadlock) leaves its
    facts pending; the ``AppliedFact`` row, not this one, is what makes a fact count once.
    """

    kind = models.CharField(max_length=20, choices=FactKind.choices)
    key = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "kind", "key"], name="pendingfact_unique")]

    def __str__(self) -> str:
        return f"pending {self.kind} {self.key}"


class FactsDue(TenantModel):
    """The merchant's mark that a ``facts_drain`` task is queued: inserted once (the enqueue), deleted by the drain
    before it reads the pending facts, so a fact made meanwhile either is read or marks (and enqueues) anew."""

    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant"], name="factsdue_once")]

    def __str__(self) -> str:
        return f"facts due {self.merchant_id}"


class SalesHour(TenantModel):
    """Store x local hour x channel x payment method. Money in minor units of the store's currency.

    ``net_sales`` excludes tax (with tax-inclusive prices, the line total less its tax); refunds are
    the money given back (tax included), booked in the hour of the refund, not of the sale.
    ``net_sales_known_cost`` is the net sales of lines whose cost was known, so that a margin is
    taken only over them and an unknown cost never reads as 100 % margin.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    hour = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    net_sales = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    # Given off the price at the counter, net of tax like net_sales (which is already after them).
    discounts = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    cost = models.BigIntegerField(default=0)
    net_sales_known_cost = models.BigIntegerField(default=0)
    transactions = models.BigIntegerField(default=0)
    units = models.BigIntegerField(default=0)

    objects: ClassVar = CellQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "store", "local_date", "hour", "channel", "payment_method"],
                name="saleshour_cell",
            ),
            models.CheckConstraint(condition=Q(hour__gte=0, hour__lte=23), name="saleshour_hour_range"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.local_date} {self.hour:02d}h {self.channel}/{self.payment_method}"


class ProductDay(TenantModel):
    """Store x product x local day.

    Refunds are attributed to the lines they refund (``analytics.contributions``); units come back
    only with the refund that completes a full refund, as the stock ledger has it. Minutes out of
    stock are the ledger's (on hand at zero or below), minutes shelf-empty the cameras'; the two
    are kept apart because they overlap and mean different things (the back room may hold units).
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    units = models.BigIntegerField(default=0)
    net_sales = models.BigIntegerField(default=0)
    cost = models.BigIntegerField(default=0)
    units_known_cost = models.BigIntegerField(default=0)
    net_sales_known_cost = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    refunded_units = models.BigIntegerField(default=0)
    minutes_out_of_stock = models.BigIntegerField(default=0)
    minutes_shelf_empty = models.BigIntegerField(default=0)
    price_lookups = models.BigIntegerField(default=0)

    objects: ClassVar = CellQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "store", "store_product", "local_date"], name="productday_cell")
        ]
        indexes = [models.Index(fields=["merchant", "store", "local_date"], name="productday_store_date")]

    def __str__(self) -> str:
        return f"{self.store_product_id} {self.local_date}"


class CategoryDay(TenantModel):
    """Store x the category a line was sold under x local day: what the Sales page's categories read.

    The category is the one each order line kept when it was sold (``OrderLine.category``), so these
    cells never move when the catalog is reorganised; refunds follow the lines they refund, as in
    ``ProductDay``. Lines of a store's own products, which have no category, are under 0.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    # A category's id, not a foreign key: 0 stands for "no category", and a removed category keeps its sales.
    category = models.BigIntegerField()
    local_date = models.DateField()
    units = models.BigIntegerField(default=0)
    net_sales = models.BigIntegerField(default=0)
    cost = models.BigIntegerField(default=0)
    net_sales_known_cost = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)

    objects: ClassVar = CellQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "store", "local_date", "category"], name="categoryday_cell")
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.local_date} category {self.category}"


class DayReportMail(TenantModel):
    """The end-of-day report of one store's local day, mailed to its owners once after the store closed."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "store", "day"], name="dayreportmail_once")]

    def __str__(self) -> str:
        return f"end of day {self.store_id} {self.day}"
