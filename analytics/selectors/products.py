"""The Products report's reads: each product's sales over a period from the rollups, beside its stock now, and
what each price change did; pure arithmetic (ABC classes, sell-through, cover) is done here once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Max, Q, Sum

from analytics.models import ProductDay
from analytics.selectors.sales import ProductSales, sales_by_product
from catalog.models import PriceChange, StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

# The Pareto split most back offices use: A sells the first 80 % of net sales, B the next 15 %, C the rest.
A_SHARE, B_SHARE = Decimal("0.80"), Decimal("0.95")


@dataclass(frozen=True)
class ProductRow:
    """One store product over the period, with its stock now."""

    item: StoreProduct
    sales: ProductSales | None  # None: nothing sold or refunded in the period
    abc: str  # "A", "B", "C", or "" when it sold nothing
    days: int  # the period's length in days

    @property
    def units(self) -> int:
        return self.sales.units if self.sales else 0

    @property
    def net_sales(self) -> int:
        return self.sales.net_sales if self.sales else 0

    @property
    def margin_rate(self) -> Decimal | None:
        """Gross margin over net sales of the units whose cost was known; None when none was."""
        if self.sales is None or not self.sales.units_known_cost or not self.sales.net_sales_known_cost:
            return None
        margin = self.sales.net_sales_known_cost - self.sales.cost
        return (Decimal(margin) / self.sales.net_sales_known_cost).quantize(Decimal("0.001"), ROUND_HALF_UP)

    @property
    def sell_through(self) -> Decimal | None:
        """Units sold over units sold plus those still on hand; None when there were none of either."""
        have = self.units + max(self.item.on_hand, 0)
        return (Decimal(self.units) / have).quantize(Decimal("0.001"), ROUND_HALF_UP) if have else None

    @property
    def days_of_cover(self) -> Decimal | None:
        """Days the stock on hand lasts at the period's rate of sale; None when it did not sell."""
        if not self.units:
            return None
        return (Decimal(max(self.item.on_hand, 0)) * self.days / self.units).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def stock_value(self) -> int | None:
        """On hand at its average cost; None when the cost is unknown."""
        if self.item.average_cost is None:
            return None
        return max(self.item.on_hand, 0) * self.item.average_cost


def abc_classes(net_sales: dict[int, int]) -> dict[int, str]:
    """A, B or C per key by its place in the cumulative share of positive net sales (largest first, ties by key)."""
    ranked = sorted(
        ((value, key) for key, value in net_sales.items() if value > 0), key=lambda pair: (-pair[0], pair[1])
    )
    total = sum(value for value, _key in ranked)
    classes, running = {}, 0
    for value, key in ranked:
        # A product's class is where its sales start: the one that crosses 80 % is still A.
        start = Decimal(running) / total
        classes[key] = "A" if start < A_SHARE else "B" if start < B_SHARE else "C"
        running += value
    return classes


def product_rows(*, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date) -> list[ProductRow]:
    """Every active product of the stores with its period's sales and class, best sellers first; scoped."""
    sold = {
        row.store_product_id: row for row in sales_by_product(merchant=merchant, stores=stores, first=first, last=last)
    }
    with merchant_context(merchant.pk):
        items = list(
            StoreProduct.objects.for_merchant(merchant)
            .filter(store__in=[store.pk for store in stores])
            .filter(Q(is_active=True) | Q(pk__in=list(sold)))
            .select_related("product", "store")
        )
    classes = abc_classes({pk: row.net_sales for pk, row in sold.items()})
    days = (last - first).days + 1
    rows = [ProductRow(item=item, sales=sold.get(item.pk), abc=classes.get(item.pk, ""), days=days) for item in items]
    return sorted(rows, key=lambda row: (-row.net_sales, -row.units, row.item.name))


def last_sold(*, merchant: Merchant, stores: Sequence[Store]) -> dict[int, dt.date]:
    """Per store product, the last local day it sold a unit (from the rollups, all time); scoped, one query."""
    with merchant_context(merchant.pk):
        return dict(
            ProductDay.objects.for_stores(merchant, stores)
            .filter(units__gt=0)
            .values("store_product_id")
            .annotate(last=Max("local_date"))
            .values_list("store_product_id", "last")
        )


@dataclass(frozen=True)
class PriceEffect:
    change: PriceChange
    day: dt.date  # the store-local day of the change
    before: Decimal  # units a day in the window before the change (the day of the change left out)
    after: Decimal | None  # units a day after it, over the days that have passed (None: none has yet)
    window: int
    days_after: int


def price_effects(
    *, merchant: Merchant, stores: Sequence[Store], first: dt.date, last: dt.date, today: dt.date, window: int = 14
) -> list[PriceEffect]:
    """Each price change in the period (not a product's first price) with its units a day in the ``window`` days
    before and after (after: only the whole days that have passed), from the rollups; newest first; scoped."""
    zones = {store.pk: ZoneInfo(store.timezone) for store in stores}
    with merchant_context(merchant.pk):
        changes = [
            change
            for change in PriceChange.objects.for_merchant(merchant)
            .filter(store_product__store__in=list(zones), old_price__isnull=False)
            .select_related("store_product__product", "store_product__store")
            .order_by("-changed_at", "-pk")
            if first <= change.changed_at.astimezone(zones[change.store_product.store_id]).date() <= last
        ]
        if not changes:
            return []
        days = {
            (row["store_product_id"], row["local_date"]): row["units"]
            for row in ProductDay.objects.for_stores(merchant, stores)
            .filter(store_product__in=[change.store_product_id for change in changes])
            .filter(local_date__gte=first - dt.timedelta(days=window), local_date__lte=last + dt.timedelta(days=window))
            .values("store_product_id", "local_date")
            .annotate(units=Sum("units"))
        }
    effects = []
    for change in changes:
        day = change.changed_at.astimezone(zones[change.store_product.store_id]).date()

        def rate(offsets: range, pk: int = change.store_product_id, at: dt.date = day) -> Decimal:
            total = sum(days.get((pk, at + dt.timedelta(days=offset)), 0) for offset in offsets)
            return (Decimal(total) / len(offsets)).quantize(Decimal("0.1"), ROUND_HALF_UP)

        passed = max(min(window, (today - day).days - 1), 0)
        effects.append(
            PriceEffect(
                change=change,
                day=day,
                before=rate(range(-window, 0)),
                after=rate(range(1, passed + 1)) if passed else None,
                window=window,
                days_after=passed,
            )
        )
    return effects
