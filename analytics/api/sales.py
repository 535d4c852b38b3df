"""The Sales report's figures: the summary against its comparison, hours, products, and the breakdowns by channel,
payment method, category and clerk."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.base import (
    PERIOD_PARAMETERS,
    AnalyticsApi,
    AnalyticsComparedOutput,
    AnalyticsScope,
    AnalyticsSummaryOutput,
    summary_fields,
)
from analytics.models import PaymentMethod
from analytics.periods import Period
from analytics.selectors.categories import category_ranges
from analytics.selectors.clerks import sales_by_clerk
from analytics.selectors.sales import SalesCells, sales_by_hour, sales_by_product, sales_ranges, sales_summaries
from checkout.models import Channel
from core.serializers import Serializer


class SalesSummaryOutput(AnalyticsComparedOutput):
    current = AnalyticsSummaryOutput()
    previous = AnalyticsSummaryOutput(
        allow_null=True,
        help_text="The comparison period; when the period ends today, only up to the current hour of its last day "
        "(as the Sales page compares a running day).",
    )


class SalesSummaryApi(AnalyticsApi):
    """Net sales, tax, refunds, margin, transactions and units of a period, and of the one it is compared with."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=SalesSummaryOutput)
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        period, compared = scope.choice.period, scope.choice.comparison
        # A period still running (it ends today) is compared with the same hours of the other, as on the page.
        cut = scope.now.astimezone(scope.zone).hour if period.end == scope.today else None
        windows = [(period.start, period.end, None)] + ([(compared.start, compared.end, cut)] if compared else [])
        summaries = sales_summaries(merchant=self.merchant, stores=scope.stores, windows=windows)
        current, previous = summaries[0], (summaries[1] if compared else None)
        return Response(SalesSummaryOutput(scope.report() | {"current": current, "previous": previous}).data)


class AnalyticsHourOutput(Serializer):
    local_date = serializers.DateField()
    hour = serializers.IntegerField(min_value=0, max_value=23)
    net_sales = serializers.IntegerField()
    tax = serializers.IntegerField()
    refunds = serializers.IntegerField()
    transactions = serializers.IntegerField()
    units = serializers.IntegerField()


class SalesByHourApi(AnalyticsApi):
    """Each local hour of the period with sales or refunds, stores and channels together, in time order."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=AnalyticsHourOutput(many=True))
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        period = scope.choice.period
        rows = sales_by_hour(merchant=self.merchant, stores=scope.stores, first=period.start, last=period.end)
        return Response(AnalyticsHourOutput([asdict(row) for row in rows], many=True).data)


class AnalyticsProductOutput(Serializer):
    store_id = serializers.IntegerField()
    store_product_id = serializers.IntegerField()
    name = serializers.CharField()
    units = serializers.IntegerField()
    net_sales = serializers.IntegerField()
    cost = serializers.IntegerField()
    units_known_cost = serializers.IntegerField()
    refunds = serializers.IntegerField()
    refunded_units = serializers.IntegerField()
    minutes_out_of_stock = serializers.IntegerField()
    price_lookups = serializers.IntegerField()


class SalesByProductApi(AnalyticsApi):
    """Each store product with any figure in the period, best net sales first."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=AnalyticsProductOutput(many=True))
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        period = scope.choice.period
        rows = sales_by_product(merchant=self.merchant, stores=scope.stores, first=period.start, last=period.end)
        return Response(AnalyticsProductOutput([asdict(row) for row in rows], many=True).data)


class BreakdownRowOutput(AnalyticsSummaryOutput):
    key = serializers.CharField(
        help_text=f"The channel ({', '.join(Channel.values)}) or payment method ({', '.join(PaymentMethod.values)})."
    )
    name = serializers.CharField(help_text="What the Sales page calls it.")


class CategorySalesOutput(Serializer):
    category = serializers.CharField(
        help_text="The wholesaler's top-level category; 'Own and uncategorised products' for the rest."
    )
    net_sales = serializers.IntegerField(help_text="Without tax.")


class ClerkSalesOutput(Serializer):
    clerk = serializers.CharField(help_text="The name of the clerk who started the sales (their e-mail without one).")
    sales = serializers.IntegerField(help_text="Counter sales paid in the period.")
    net_sales = serializers.IntegerField(help_text="Without tax.")
    lines_voided = serializers.IntegerField()


class BreakdownOutput(Serializer):
    channels = BreakdownRowOutput(many=True, help_text="Largest net sales first.")
    payment_methods = BreakdownRowOutput(many=True, help_text="Largest net sales first.")
    categories = CategorySalesOutput(many=True, help_text="Largest net sales first.")
    clerks = ClerkSalesOutput(many=True, help_text="Counter sales only; most net sales first.")


class SalesBreakdownOutput(AnalyticsComparedOutput):
    current = BreakdownOutput()
    previous = BreakdownOutput(allow_null=True, help_text="The comparison period's; null with ?compare=none.")


class SalesBreakdownApi(AnalyticsApi):
    """The period's sales by channel, by payment method, by top-level category and by clerk, and the comparison
    period's the same way: the Sales page's tables."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=SalesBreakdownOutput)
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        period, compared = scope.choice.period, scope.choice.comparison
        # Both periods read at once, as the Sales page reads them.
        ranges = scope.choice.day_ranges()
        cells = sales_ranges(merchant=self.merchant, stores=scope.stores, ranges=ranges)
        categories = category_ranges(merchant=self.merchant, stores=scope.stores, ranges=ranges)
        body = scope.report() | {
            "current": self.breakdown(scope, period, cells[0], categories[0]),
            "previous": self.breakdown(scope, compared, cells[1], categories[1]) if compared else None,
        }
        return Response(SalesBreakdownOutput(body).data)

    def breakdown(
        self, scope: AnalyticsScope, period: Period, cells: SalesCells, categories: dict[str, int]
    ) -> dict[str, Any]:
        labels = {"channel": dict(Channel.choices), "payment_method": dict(PaymentMethod.choices)}

        def by(key: Literal["channel", "payment_method"]) -> list[dict[str, Any]]:
            return [
                summary_fields(row) | {"key": name, "name": labels[key].get(name, name)}
                for name, row in cells.breakdown(key).items()
            ]

        return {
            "channels": by("channel"),
            "payment_methods": by("payment_method"),
            "categories": [{"category": name, "net_sales": amount} for name, amount in categories.items()],
            "clerks": sales_by_clerk(merchant=self.merchant, stores=scope.stores, first=period.start, last=period.end),
        }
