"""Restocking from the one wholesaler: depots, how each store is supplied, purchase orders.

Depots and their stock belong to the wholesaler (no merchant column); everything about one
store's supply and orders is tenant-owned and carries ``merchant``, also on child rows. Stock
quantities are units; order quantities are units that are whole cases of the product.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Product, StoreProduct
from merchants.models import TAX_RETENTION_YEARS, WEEKDAYS, Store, TenantModel, Wholesaler
from ordering.querysets import ClaimQuerySet, PurchaseOrderLineQuerySet, PurchaseOrderQuerySet, StoreSupplyQuerySet
from ordering.states import OPEN_STATES, ClaimStatus, OrderState


class Depot(models.Model):
    """A warehouse of the wholesaler that delivers to stores."""

    wholesaler = models.ForeignKey(Wholesaler, on_delete=models.CASCADE, related_name="depots")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["wholesaler", "name"], name="depot_unique_name")]

    def __str__(self) -> str:
        return self.name


class DepotStock(models.Model):
    """What a depot holds of one product; ``allocated`` is promised to confirmed orders not yet shipped."""

    depot = models.ForeignKey(Depot, on_delete=models.CASCADE, related_name="stock")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    on_hand = models.PositiveIntegerField(default=0)
    allocated = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "depot stock"
        constraints = [
            models.UniqueConstraint(fields=["depot", "product"], name="depotstock_unique_product"),
            models.CheckConstraint(condition=Q(allocated__lte=F("on_hand")), name="depotstock_allocated_le_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.product} at {self.depot}"

    @property
    def allocatable(self) -> int:
        return self.on_hand - self.allocated


def weekdays_validator(value: object) -> None:
    """A non-empty list of weekday keys: ["tue", "fri"]."""
    if not isinstance(value, list) or not value or not all(day in WEEKDAYS for day in value):
        raise ValidationError(
            f"Give the delivery days as a list of weekdays ({', '.join(WEEKDAYS)}).", code="invalid_weekdays"
        )


def service_levels_validator(value: object) -> None:
    """{"drinks": 0.97}: a category path (or its top level) to a service level between 50 % and 99.9 %."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and 0.5 <= v <= 0.999 for k, v in value.items()
    ):
        raise ValidationError(
            'Give service levels as {"category path": 0.95}, each between 0.5 and 0.999.', code="invalid_levels"
        )


def _default_weekdays() -> list[str]:
    return ["tue", "fri"]


class Promotion(models.Model):
    """A promotion the wholesaler plans for one of its products in every store it supplies.

    Drafted orders stock up for it before it starts instead of learning of it from the first
    day's empty shelves; once it runs, the sales across the stores say how well it does.
    """

    wholesaler = models.ForeignKey(Wholesaler, on_delete=models.CASCADE, related_name="promotions")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    expected_lift = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(1.1), MaxValueValidator(10)],
        help_text="Sales expected against the usual: 2 for twice as many.",
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="promotion_ends_after_start"),
            models.CheckConstraint(
                condition=Q(expected_lift__gte=1.1, expected_lift__lte=10), name="promotion_lift_range"
            ),
        ]
        indexes = [models.Index(fields=["wholesaler", "product", "ends_on"], name="promotion_product_end")]

    def __str__(self) -> str:
        return f"{self.product} {self.starts_on:%d %b}–{self.ends_on:%d %b}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The promotion cannot end before it starts."})
        if self.product_id and self.wholesaler_id and self.product.wholesaler_id != self.wholesaler_id:
            raise ValidationError({"product": "Choose one of your own products."})


class StoreSupply(TenantModel):
    """How one store is supplied: its single depot, delivery calendar, lead time and order rules."""

    # This model's read vocabulary in place of TenantModel's plain manager (mypy cannot see the narrowing).
    objects = StoreSupplyQuerySet.as_manager()  # type: ignore[misc]

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="supply")
    depot = models.ForeignKey(Depot, on_delete=models.PROTECT, related_name="stores")
    delivery_weekdays = models.JSONField(default=_default_weekdays, validators=[weekdays_validator])
    # Orders for a delivery must be in by this local time (store time zone), lead_time_days
    # before the delivery day.
    cutoff_time = models.TimeField(default=dt.time(18, 0))
    lead_time_days = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(14)])
    # The wholesaler's currency, minor units; 0 means no rule.
    minimum_order_value = models.PositiveIntegerField(default=0)
    free_delivery_threshold = models.PositiveIntegerField(default=0)
    # Charged on an order below free delivery; what a top-up towards free delivery saves.
    delivery_fee = models.PositiveIntegerField(
        default=0, help_text="Charged on an order below the free-delivery value; 0: none."
    )
    route = models.CharField(max_length=50, blank=True, help_text="Delivery route; pick lists are grouped by it.")
    is_auto_submit = models.BooleanField(default=False, help_text="Submit the suggested order without review.")
    default_service_level = models.FloatField(
        default=0.95, validators=[MinValueValidator(0.5), MaxValueValidator(0.999)]
    )
    service_levels = models.JSONField(default=dict, blank=True, validators=[service_levels_validator])

    class Meta:
        verbose_name_plural = "store supply"
        indexes = [models.Index(fields=["merchant", "depot"], name="storesupply_merchant_depot")]

    def __str__(self) -> str:
        return f"{self.store} from {self.depot}"

    def clean(self) -> None:
        # A store buys from its merchant's one wholesaler: a rival's depot cannot serve it.
        if self.store_id and self.depot_id and self.store.merchant.wholesaler_id != self.depot.wholesaler_id:
            raise ValidationError({"depot": "This depot belongs to another wholesaler than the store's."})

    def service_level_for(self, category_path: str) -> float:
        """The most specific configured level for a category path, else the default."""
        parts = category_path.split("/") if category_path else []
        for depth in range(len(parts), 0, -1):
            level = self.service_levels.get("/".join(parts[:depth]))
            if level is not None:
                return float(level)
        return float(self.default_service_level)


class PurchaseOrder(TenantModel):
    """A store's order to its depot for one delivery date."""

    retention_years = TAX_RETENTION_YEARS

    # This model's read vocabulary in place of TenantModel's plain manager (mypy cannot see the narrowing).
    objects = PurchaseOrderQuerySet.as_manager()  # type: ignore[misc]

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="purchase_orders")
    depot = models.ForeignKey(Depot, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(max_length=40)
    state = models.CharField(max_length=10, choices=OrderState.choices, default=OrderState.DRAFT)
    # How {% status_badge order "state" %} colours each state; the rest are "info".
    BADGE_TONES = {
        "state": {
            **dict.fromkeys(OrderState.values, "info"),
            OrderState.DRAFT: "warning",
            OrderState.RECEIVED: "success",
            OrderState.CANCELLED: "neutral",
        }
    }
    delivery_date = models.DateField()
    currency = models.CharField(max_length=3, default="EUR")
    # Notes of the suggestion (no history, minimum order value, free-delivery top-up), shown to the owner.
    notes = models.JSONField(default=list, blank=True)
    # Set once a person changed the draft; the nightly job never replaces an edited draft.
    is_edited = models.BooleanField(default=False)
    is_auto = models.BooleanField(default=False, help_text="Drafted by Lingshou (not added by hand).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    # E-mails already sent, so a redelivered task sends nothing twice.
    ready_mailed_at = models.DateTimeField(null=True, blank=True)
    submitted_mailed_at = models.DateTimeField(null=True, blank=True)
    shipped_mailed_at = models.DateTimeField(null=True, blank=True)
    # Set on the order that brings another order's backordered units with a later delivery.
    backorder_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="backorders")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "number"], name="purchaseorder_unique_number"),
            # One suggested draft per store and delivery date: the nightly job and the button race safely.
            models.UniqueConstraint(
                fields=["merchant", "store", "delivery_date"],
                condition=Q(state="draft"),
                name="purchaseorder_one_draft_per_delivery",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "store", "state"], name="purchaseorder_store_state"),
            models.Index(fields=["merchant", "delivery_date"], name="purchaseorder_delivery"),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class PurchaseOrderLine(TenantModel):
    """One product of an order and what became of it at each step (units; ordered in whole cases)."""

    retention_years = TAX_RETENTION_YEARS

    # This model's read vocabulary in place of TenantModel's plain manager (mypy cannot see the narrowing).
    objects = PurchaseOrderLineQuerySet.as_manager()  # type: ignore[misc]

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    case_pack = models.PositiveIntegerField(default=1)
    unit_cost = models.PositiveIntegerField(default=0, help_text="Wholesale cost per unit when ordered, minor units.")
    suggested_quantity = models.PositiveIntegerField(null=True, blank=True)
    quantity = models.PositiveIntegerField(help_text="Ordered units, whole cases.")
    explanation = models.CharField(max_length=300, blank=True)
    # Set by the wholesaler: what is allocated from depot stock, what waits for stock, what left.
    allocated_quantity = models.PositiveIntegerField(null=True, blank=True)
    backordered_quantity = models.PositiveIntegerField(default=0)
    shipped_quantity = models.PositiveIntegerField(null=True, blank=True)
    # Set by the store when the goods come in.
    received_quantity = models.PositiveIntegerField(null=True, blank=True)
    damaged_quantity = models.PositiveIntegerField(default=0)
    is_over_received = models.BooleanField(default=False)
    # The wholesaler sends this product instead (same quantity); receiving books it.
    substitute = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "order", "product"], name="purchaseorderline_unique_product"),
            models.CheckConstraint(condition=Q(case_pack__gte=1), name="purchaseorderline_case_pack_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"

    @property
    def cases(self) -> int:
        return self.quantity // self.case_pack

    @property
    def shipped_product(self) -> Product:
        return self.substitute or self.product

    @property
    def value(self) -> int:
        return self.quantity * self.unit_cost


class PurchaseOrderTransition(TenantModel):
    """Every change of an order's state: who (a person, or Lingshou), when, from, to, and why."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=10, choices=OrderState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=OrderState.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "order", "at"], name="potransition_order_time")]
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or 'new'} → {self.to_state}"


class Claim(TenantModel):
    """What was missing, extra or damaged on receiving; the wholesaler sees it in the admin."""

    retention_years = TAX_RETENTION_YEARS

    # This model's read vocabulary in place of TenantModel's plain manager (mypy cannot see the narrowing).
    objects = ClaimQuerySet.as_manager()  # type: ignore[misc]

    order = models.OneToOneField(PurchaseOrder, on_delete=models.CASCADE, related_name="claim")
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.OPEN)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolution = models.CharField(max_length=300, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "status"], name="claim_merchant_status")]

    def __str__(self) -> str:
        return f"Claim on {self.order}"


class ClaimLine(TenantModel):
    """One product's difference: shipped vs counted, and units that arrived damaged."""

    retention_years = TAX_RETENTION_YEARS

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(PurchaseOrderLine, on_delete=models.CASCADE, related_name="+")
    shipped = models.PositiveIntegerField()
    received = models.PositiveIntegerField()
    damaged = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "claim", "line"], name="claimline_unique_line")]

    @property
    def missing(self) -> int:
        return max(self.shipped - self.received, 0)

    @property
    def extra(self) -> int:
        return max(self.received - self.shipped, 0)


class DemandForecast(TenantModel):
    """One store product's expected units for one store-local day, as last forecast before that day.

    Drafting a suggested order forecasts every product's demand from today to the delivery after
    next; each of those days keeps the newest forecast made for it, so once a day has passed its row
    is the forecast the orders were placed on, ready to be held against what sold.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    units = models.FloatField(help_text="Expected units sold that day (the forecast's mean).")
    sigma = models.FloatField(help_text="Standard deviation of the one-day-ahead error.")
    made_on = models.DateField(help_text="The store-local day the forecast was made.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "store_product", "day"], name="demandforecast_one_per_day"),
            models.CheckConstraint(condition=Q(made_on__lte=F("day")), name="demandforecast_made_before"),
        ]
        indexes = [models.Index(fields=["merchant", "store", "day"], name="demandforecast_store_day")]

    def __str__(self) -> str:
        return f"{self.store_product_id} on {self.day}: {self.units:.1f}"
