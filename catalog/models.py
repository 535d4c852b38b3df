"""Master catalog, store assortment and the stock ledger.

The master catalog (categories, products, barcodes) belongs to the wholesaler and is shared by
every merchant it supplies: those tables carry no merchant. Everything a shop owns (its
assortment, prices, stock, movements, counts, lookups) is tenant-owned and carries ``merchant``.

Money is an integer in the currency's minor unit (core.money); stock is an integer number of
units (grams for products sold by weight).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from catalog.querysets import ProductQuerySet, ShelfEmptyPeriodQuerySet, StoreProductQuerySet
from merchants.models import TAX_RETENTION_YEARS, Store, TenantModel, Wholesaler
from merchants.querysets import StoreScopedQuerySet

# A PLU has at most this many digits: never as long as a barcode (8 or more), so a typed number is one or the other.
PLU_MAX_LENGTH = 5


class TaxClass(models.TextChoices):
    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"


class ContentUnit(models.TextChoices):
    """What a unit price is quoted per."""

    PIECE = "piece", "piece"
    LITRE = "l", "litre"
    KILOGRAM = "kg", "kilogram"


class Category(models.Model):
    """A node of the wholesaler's category tree (Drinks > Soft drinks > Cola)."""

    wholesaler = models.ForeignKey(Wholesaler, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=100)
    # "drinks/soft-drinks/cola": unique per wholesaler, what CSV files name.
    path = models.CharField(max_length=300)

    class Meta:
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["wholesaler", "path"], name="category_unique_path")]
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path.replace("/", " › ")


def search_text(prefix: str = "") -> Concat:
    """A product's brand and name in one text, what typed words are matched against (``prefix``: the path to the
    product, "product__" from a store product). One trigram index covers it: matching brand and name apart is
    an OR of two indexes, which PostgreSQL plans as a scan of every product when the brands' index looks dear
    (few brands, long lists per trigram), 400 ms on 50,000 products."""
    return Concat(f"{prefix}brand", Value(" "), f"{prefix}name", output_field=TextField())


class Product(models.Model):
    """A master product of the wholesaler's catalog."""

    wholesaler = models.ForeignKey(Wholesaler, on_delete=models.CASCADE, related_name="products")
    gtin = models.CharField(max_length=14, help_text="14 digits, check digit validated; any GTIN form finds it.")
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=100, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    unit_size = models.CharField(max_length=50, blank=True, help_text="As printed, e.g. '0.5 l' or '6 x 0.33 l'.")
    content_amount = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    content_unit = models.CharField(max_length=5, choices=ContentUnit.choices, default=ContentUnit.PIECE)
    case_pack = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    # In the wholesaler's currency, minor units.
    wholesale_cost = models.PositiveIntegerField(default=0)
    suggested_retail_price = models.PositiveIntegerField(default=0)
    image = models.ImageField(upload_to="products/", blank=True)
    is_age_restricted = models.BooleanField(default=False)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    tax_class = models.CharField(max_length=10, choices=TaxClass.choices, default=TaxClass.STANDARD)
    is_sold_by_weight = models.BooleanField(default=False, help_text="Stock in grams; scales print the weight.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wholesaler", "gtin"], name="product_unique_gtin"),
            models.CheckConstraint(condition=Q(case_pack__gte=1), name="product_case_pack_positive"),
            models.CheckConstraint(
                condition=Q(is_age_restricted=False) | Q(minimum_age__isnull=False),
                name="product_age_restricted_has_age",
            ),
        ]
        indexes = [
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="product_name_trgm"),
            # Typed words are matched against brand and name at once (search_text), through this one index.
            GinIndex(OpClass(search_text(), name="gin_trgm_ops"), name="product_search_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.unit_size}".strip()


class BarcodeKind(models.TextChoices):
    UNIT = "unit", "Unit"
    MULTIPACK = "multipack", "Multipack"
    CASE = "case", "Case"
    VARIABLE = "variable", "Variable measure (price or weight)"


class Barcode(models.Model):
    """One of a master product's barcodes, with how many units it stands for."""

    wholesaler = models.ForeignKey(Wholesaler, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="barcodes")
    # 14-digit GTIN, or for variable measure the 7-digit prefix + item reference.
    code = models.CharField(max_length=14)
    kind = models.CharField(max_length=10, choices=BarcodeKind.choices, default=BarcodeKind.UNIT)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wholesaler", "code"],
                name="barcode_unique_code",
                violation_error_message="Another product already has this barcode.",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="barcode_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_kind_display()} × {self.quantity})"


class StoreProduct(TenantModel):
    """A product a store sells: its price, shelf and stock. Either a master product or store-local."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="assortment")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Store-local products (a neighbour's bread) have these instead of a master product.
    local_name = models.CharField(max_length=200, blank=True)
    local_brand = models.CharField(max_length=100, blank=True)
    local_tax_class = models.CharField(max_length=10, choices=TaxClass.choices, blank=True)
    local_is_age_restricted = models.BooleanField(default=False)
    price = models.PositiveIntegerField(help_text="Retail price in the store's currency, minor units.")
    shelf_location = models.CharField(max_length=50, blank=True)
    is_active = models.BooleanField(default=True)
    low_stock_threshold = models.PositiveIntegerField(null=True, blank=True)
    # Units the shelf holds, set from a camera's slot calibration (sensing); restocking caps its
    # order-up-to level at it. Null where no camera watches the product.
    shelf_capacity = models.PositiveIntegerField(null=True, blank=True)
    # Equals the sum of this row's movements: only catalog.services.stock.stock_move changes it.
    on_hand = models.IntegerField(default=0)
    # Moving-average cost of one unit in the store's currency, minor units; None while unknown (a local
    # product whose owner has not said, or a delivery whose cost could not be converted).
    average_cost = models.PositiveIntegerField(null=True, blank=True)
    # A short code the clerk types at the counter for goods without a barcode (bread rolls, fruit).
    plu = models.CharField("PLU", max_length=PLU_MAX_LENGTH, blank=True)
    # The deposit (Pfand) on one unit, minor units: charged on a line of its own, at the product's VAT rate.
    deposit = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = StoreProductQuerySet.as_manager()  # type: ignore[misc]  # a subclass of TenantModel's queryset; mypy reads it as an override

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "store", "product"],
                name="storeproduct_unique_product",
                condition=Q(product__isnull=False),
                violation_error_message="This store already sells that product.",
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=False) | ~Q(local_name=""),
                name="storeproduct_master_or_local",
            ),
            models.UniqueConstraint(
                fields=["merchant", "store", "plu"],
                name="storeproduct_unique_plu",
                condition=~Q(plu=""),
                violation_error_message="Another product of this store already has this PLU.",
            ),
            models.CheckConstraint(
                condition=Q(plu="") | Q(plu__regex=rf"^[0-9]{{1,{PLU_MAX_LENGTH}}}$"), name="storeproduct_plu_digits"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "store", "is_active"], name="storeproduct_store_active"),
            GinIndex(fields=["local_name"], opclasses=["gin_trgm_ops"], name="storeproduct_local_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.product.name if self.product_id else self.local_name  # type: ignore[union-attr]

    @property
    def brand(self) -> str:
        return self.product.brand if self.product_id else self.local_brand  # type: ignore[union-attr]

    @property
    def tax_class(self) -> str:
        return self.product.tax_class if self.product_id else (self.local_tax_class or TaxClass.STANDARD)  # type: ignore[union-attr]

    @property
    def is_age_restricted(self) -> bool:
        return self.product.is_age_restricted if self.product_id else self.local_is_age_restricted  # type: ignore[union-attr]

    @property
    def is_sold_by_weight(self) -> bool:
        """Stock in grams and the price per kilogram (a master product's setting; local products sell by the piece)."""
        return bool(self.product_id and self.product.is_sold_by_weight)  # type: ignore[union-attr]

    @property
    def lookup_code(self) -> str:
        """What the shelf-label QR carries: the GTIN, or L<id> for a store-local product."""
        return self.product.gtin if self.product_id else f"L{self.pk}"  # type: ignore[union-attr]

    @property
    def is_low(self) -> bool:
        return self.low_stock_threshold is not None and self.on_hand <= self.low_stock_threshold


class LocalBarcode(TenantModel):
    """A barcode of a store-local product (or a store's own extra code for a master product)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.CASCADE, related_name="local_barcodes")
    code = models.CharField(max_length=14)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])

    objects = StoreScopedQuerySet.as_manager()  # type: ignore[misc]  # a subclass of TenantModel's queryset; mypy reads it as an override

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "store", "code"],
                name="localbarcode_unique_code",
                violation_error_message="Another product of this store already has this barcode.",
            )
        ]


class PriceChange(TenantModel):
    """Every change of a store price: who, when, old, new. Receipts and analytics read prices of their time."""

    store_product = models.ForeignKey(StoreProduct, on_delete=models.CASCADE, related_name="price_changes")
    old_price = models.PositiveIntegerField(null=True, blank=True)
    new_price = models.PositiveIntegerField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["merchant", "store_product", "changed_at"], name="pricechange_product_time")]


class MovementKind(models.TextChoices):
    SALE = "sale", "Sale"
    REFUND = "refund", "Refund"
    RECEIPT = "receipt", "Goods received"
    ADJUSTMENT = "adjustment", "Adjustment"
    COUNT = "count", "Stock count"
    SHELF_CORRECTION = "shelf_correction", "Shelf correction"
    WRITE_OFF = "write_off", "Write-off"


class AdjustmentReason(models.TextChoices):
    DAMAGED = "damaged", "Damaged"
    EXPIRED = "expired", "Expired"
    THEFT = "theft", "Theft or loss"
    FOUND = "found", "Found"
    OWN_USE = "own_use", "Own use"
    CORRECTION = "correction", "Correction of an error"
    OTHER = "other", "Other"


class StockMovement(TenantModel):
    """One append-only line of the stock ledger. on_hand of its StoreProduct is the sum of these."""

    retention_years = TAX_RETENTION_YEARS

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    quantity = models.IntegerField(help_text="Signed: negative leaves the store.")
    reason = models.CharField(max_length=20, choices=AdjustmentReason.choices, blank=True)
    note = models.CharField(max_length=200, blank=True)
    # What caused it (an order line, a count, a delivery): "<app>.<model>:<id>".
    reference = models.CharField(max_length=100, blank=True)
    # A movement that left on_hand below zero (allowed for sales, flagged for review).
    is_flagged_negative = models.BooleanField(default=False)
    on_hand_after = models.IntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = StoreScopedQuerySet.as_manager()  # type: ignore[misc]  # a subclass of TenantModel's queryset; mypy reads it as an override

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_nonzero"),
            models.CheckConstraint(
                condition=~Q(kind__in=["adjustment", "write_off"]) | ~Q(reason=""),
                name="movement_adjustment_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "store_product", "created_at"], name="movement_product_time"),
            models.Index(fields=["merchant", "store", "kind", "created_at"], name="movement_store_kind_time"),
            # The movements that end a stock-out (on hand from zero or below to above zero), by time: few, and
            # what the analytics sweep looks for across merchants (its condition is written the same way).
            models.Index(
                fields=["created_at"],
                condition=Q(on_hand_after__gt=0, on_hand_after__lte=F("quantity")),
                name="movement_restock_time",
            ),
        ]


class ShelfEmptyPeriod(TenantModel):
    """A time a shelf camera saw a product's slot empty: demand then is unknown, not zero.

    Sensing opens and closes these from its stock-out alerts; restocking reads them as censored
    days even where the ledger still shows units (in the back room, say).
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ShelfEmptyPeriodQuerySet.as_manager()  # type: ignore[misc]  # a subclass of TenantModel's queryset; mypy reads it as an override

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "store", "started_at"], name="shelfempty_store_time"),
            models.Index(fields=["ended_at"], condition=Q(ended_at__isnull=False), name="shelfempty_ended"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "store_product"],
                condition=Q(ended_at__isnull=True),
                name="shelfempty_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_product_id} empty from {self.started_at:%Y-%m-%d %H:%M}"


class CountSession(TenantModel):
    """A clerk counting shelves; on closing, each difference becomes a count movement."""

    retention_years = TAX_RETENTION_YEARS

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    note = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = StoreScopedQuerySet.as_manager()  # type: ignore[misc]  # a subclass of TenantModel's queryset; mypy reads it as an override

    class Meta:
        indexes = [models.Index(fields=["merchant", "store", "status"], name="countsession_store_status")]


class CountLine(TenantModel):
    """What was counted of one product in a session; ``expected`` is fixed when the session closes."""

    retention_years = TAX_RETENTION_YEARS

    session = models.ForeignKey(CountSession, on_delete=models.CASCADE, related_name="lines")
    store_product = models.ForeignKey(StoreProduct, on_delete=models.PROTECT, related_name="+")
    counted = models.PositiveIntegerField()
    expected = models.IntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "session", "store_product"], name="countline_unique_product")
        ]

    @property
    def difference(self) -> int | None:
        return None if self.expected is None else self.counted - self.expected


class ProductLookup(TenantModel):
    """A shopper looked a product up in a store: a demand signal. No personal data."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    store_product = models.ForeignKey(StoreProduct, null=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField(max_length=32)
    looked_up_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "store", "looked_up_at"], name="lookup_store_time"),
            # The analytics sweep's recent lookups across merchants.
            models.Index(fields=["looked_up_at"], condition=Q(store_product__isnull=False), name="lookup_time"),
        ]
