"""The Products report's figures: each product's period with its class, margin, sell-through and cover; the
stock that has not sold for a while; and what each price change did."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.base import PERIOD_PARAMETERS, AnalyticsApi, AnalyticsReportOutput, rate
from analytics.selectors.products import ProductRow, last_sold, price_effects, product_rows
from core.serializers import Serializer

DEAD_DAYS = (14, 30, 60, 90)  # the Products page's choices


class ProductRowOutput(Serializer):
    store_id = serializers.IntegerField()
    store_product_id = serializers.IntegerField()
    name = serializers.CharField()
    is_active = serializers.BooleanField(help_text="An inactive product is listed only when it sold in the period.")
    abc = serializers.CharField(
        allow_null=True,
        help_text="A: the products making the first 80 % of net sales, B the next 15 %, C the rest; "
        "null when it sold nothing.",
    )
    units = serializers.IntegerField()
    net_sales = serializers.IntegerField(help_text="Without tax.")
    cost = serializers.IntegerField(help_text="Cost of the units whose cost was known.")
    units_known_cost = serializers.IntegerField()
    net_sales_known_cost = serializers.IntegerField()
    gross_margin = serializers.IntegerField(allow_null=True, help_text="Over the units whose cost was known.")
    margin_rate = rate(3, "gross_margin / net_sales_known_cost; null when no cost was known.")
    refunds = serializers.IntegerField(help_text="Money given back, tax included.")
    refunded_units = serializers.IntegerField()
    minutes_out_of_stock = serializers.IntegerField(help_text="Minutes the stock ledger held none.")
    minutes_shelf_empty = serializers.IntegerField(help_text="Minutes a camera saw its shelf empty.")
    price_lookups = serializers.IntegerField(help_text="Times shoppers scanned it for its price.")
    price = serializers.IntegerField(help_text="Today's price.")
    on_hand = serializers.IntegerField(help_text="Now, not at the end of the period.")
    average_cost = serializers.IntegerField(allow_null=True, help_text="Moving average; null when unknown.")
    stock_value = serializers.IntegerField(allow_null=True, help_text="On hand at average cost; null when unknown.")
    sell_through = rate(3, "Units sold / (units sold + on hand); null with neither.")
    days_of_cover = rate(1, "Days the stock on hand lasts at the period's rate of sale; null when it did not sell.")
    last_sold = serializers.DateField(allow_null=True, help_text="The last local day it sold, ever; null: never.")


class DeadStockOutput(Serializer):
    store_id = serializers.IntegerField()
    store_product_id = serializers.IntegerField()
    name = serializers.CharField()
    on_hand = serializers.IntegerField()
    stock_value = serializers.IntegerField(allow_null=True, help_text="At average cost; null when unknown.")
    last_sold = serializers.DateField(allow_null=True, help_text="Null: never sold.")


class PriceEffectOutput(Serializer):
    store_id = serializers.IntegerField(source="change.store_product.store_id")
    store_product_id = serializers.IntegerField(source="change.store_product_id")
    name = serializers.CharField(source="change.store_product.name")
    changed_at = serializers.DateTimeField(source="change.changed_at", help_text="In the store's time zone.")
    day = serializers.DateField(help_text="The store's local day of the change.")
    old_price = serializers.IntegerField(source="change.old_price")
    new_price = serializers.IntegerField(source="change.new_price")
    units_a_day_before = rate(
        1, "Units a day in the `window_days` before the day of the change.", allow_null=False, source="before"
    )
    units_a_day_after = rate(
        1, "Units a day over the whole days since (at most `window_days`); null: none yet.", source="after"
    )
    window_days = serializers.IntegerField(source="window")
    days_after = serializers.IntegerField(help_text="The whole days after the change counted so far.")


class ProductReportOutput(AnalyticsReportOutput):
    rows = ProductRowOutput(many=True, help_text="Every active product of the stores (and any that sold), best first.")
    dead_days = serializers.IntegerField(help_text="?dead= as used.")
    dead = DeadStockOutput(
        many=True, help_text="Active, on hand, and unsold for `dead_days` days up to today; most value first."
    )
    dead_value = serializers.IntegerField(help_text="The dead stock at cost, over the products whose cost is known.")
    dead_unknown_cost = serializers.IntegerField(help_text="Dead products whose cost is unknown.")
    price_effects = PriceEffectOutput(many=True, help_text="Price changes in the period, newest first.")


def _row(row: ProductRow, last: dt.date | None) -> dict[str, Any]:
    sales, item = row.sales, row.item
    return {
        "store_id": item.store_id,
        "store_product_id": item.pk,
        "name": item.name,
        "is_active": item.is_active,
        "abc": row.abc or None,
        "units": row.units,
        "net_sales": row.net_sales,
        "cost": sales.cost if sales else 0,
        "units_known_cost": sales.units_known_cost if sales else 0,
        "net_sales_known_cost": sales.net_sales_known_cost if sales else 0,
        "gross_margin": sales.gross_margin if sales else None,
        "margin_rate": row.margin_rate,
        "refunds": sales.refunds if sales else 0,
        "refunded_units": sales.refunded_units if sales else 0,
        "minutes_out_of_stock": sales.minutes_out_of_stock if sales else 0,
        "minutes_shelf_empty": sales.minutes_shelf_empty if sales else 0,
        "price_lookups": sales.price_lookups if sales else 0,
        "price": item.price,
        "on_hand": item.on_hand,
        "average_cost": item.average_cost,
        "stock_value": row.stock_value,
        "sell_through": row.sell_through,
        "days_of_cover": row.days_of_cover,
        "last_sold": last,
    }


class ProductReportApi(AnalyticsApi):
    """The Products page as JSON: every product's period (class, units, net sales, margin, sell-through, days of
    cover, stock now), the dead stock of ?dead= days, and each price change's units a day before and after."""

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("dead", int, enum=list(DEAD_DAYS), description="Days unsold that make stock dead; 30."),
        ],
        responses=ProductReportOutput,
    )
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        dead_text = request.query_params.get("dead", "30")
        if dead_text not in {str(days) for days in DEAD_DAYS}:
            raise ValidationError({"dead": [f"Choose one of {', '.join(map(str, DEAD_DAYS))} days."]})
        dead_days = int(dead_text)
        merchant, stores, period = self.merchant, scope.stores, scope.choice.period
        rows = product_rows(merchant=merchant, stores=stores, first=period.start, last=period.end)
        last = last_sold(merchant=merchant, stores=stores)
        # What the page calls dead: active, on hand, and no unit sold since the cut-off (or ever).
        cutoff = scope.today - dt.timedelta(days=dead_days)
        dead = [
            row
            for row in rows
            if row.item.is_active and row.item.on_hand > 0 and (last.get(row.item.pk) or dt.date.min) <= cutoff
        ]
        dead.sort(key=lambda row: (-(row.stock_value or 0), row.item.name))
        effects = price_effects(
            merchant=merchant, stores=stores, first=period.start, last=period.end, today=scope.today
        )
        body = scope.report() | {
            "rows": [_row(row, last.get(row.item.pk)) for row in rows],
            "dead_days": dead_days,
            "dead": [_row(row, last.get(row.item.pk)) for row in dead],
            "dead_value": sum(row.stock_value or 0 for row in dead),
            "dead_unknown_cost": sum(1 for row in dead if row.stock_value is None),
            "price_effects": effects,
        }
        with timezone.override(scope.zone):
            return Response(ProductReportOutput(body).data)
