"""Analytics API under /api/v1/merchants/<merchant_id>/analytics/: the pages' figures as JSON for owners' own
tools, read from the rollups. Periods use the pages' parameters (?period=7d|30d|…|custom&start&end&compare),
stores ?store=<id> (repeatable; all of the merchant's when none). Money in minor units of the stores' currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.periods import PeriodChoice, PeriodForm, store_today
from analytics.selectors.sales import SalesSummary, sales_by_hour, sales_by_product, sales_summary
from merchants.access import MerchantApi
from merchants.models import Store
from merchants.selectors import store_list

PERIOD_PARAMETERS = [
    OpenApiParameter("store", int, many=True, description="A store id; repeat for several. All stores when none."),
    OpenApiParameter("period", str, enum=["today", "yesterday", "7d", "30d", "90d", "month", "custom"]),
    OpenApiParameter("start", dt.date, description="First day of a custom period (the store's local days)."),
    OpenApiParameter("end", dt.date, description="Last day of a custom period."),
    OpenApiParameter("compare", str, enum=["previous", "last_year", "none"]),
]


class PeriodOutput(serializers.Serializer[Any]):
    start = serializers.DateField()
    end = serializers.DateField()


class SummaryOutput(serializers.Serializer[Any]):
    net_sales = serializers.IntegerField(help_text="Without tax.")
    tax = serializers.IntegerField()
    refunds = serializers.IntegerField(help_text="Money given back, tax included, on the day it was given.")
    cost = serializers.IntegerField(help_text="Cost of the units sold whose cost was known.")
    net_sales_known_cost = serializers.IntegerField()
    gross_margin = serializers.IntegerField()
    transactions = serializers.IntegerField()
    units = serializers.IntegerField()
    average_basket = serializers.IntegerField(allow_null=True)


class SalesSummaryOutput(serializers.Serializer[Any]):
    stores = serializers.ListField(child=serializers.IntegerField())
    currency = serializers.CharField()
    period = PeriodOutput()
    comparison = PeriodOutput(allow_null=True)
    current = SummaryOutput()
    previous = SummaryOutput(allow_null=True)


def _summary(summary: SalesSummary) -> dict[str, Any]:
    return asdict(summary) | {"gross_margin": summary.gross_margin, "average_basket": summary.average_basket}


class _AnalyticsApi(MerchantApi):
    permission = "view_analytics"

    def stores(self, request: Request) -> list[Store]:
        every = {str(store.pk): store for store in store_list(merchant=self.merchant)}
        wanted = request.query_params.getlist("store")
        if not every or any(value not in every for value in wanted):
            raise NotFound("No such store.")
        return [every[value] for value in dict.fromkeys(wanted)] or list(every.values())

    def choice(self, request: Request, stores: Sequence[Store]) -> PeriodChoice:
        today = store_today(ZoneInfo(stores[0].timezone), now=timezone.now())
        form = PeriodForm(request.query_params, today=today)
        if not form.is_valid() or form.choice is None:
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        return form.choice


class SalesSummaryApi(_AnalyticsApi):
    """Net sales, tax, refunds, margin, transactions and units of a period, and of the one it is compared with."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=SalesSummaryOutput)
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        stores = self.stores(request)
        choice = self.choice(request, stores)
        period, compared = choice.period, choice.comparison
        current = sales_summary(merchant=self.merchant, stores=stores, first=period.start, last=period.end)
        previous = (
            sales_summary(merchant=self.merchant, stores=stores, first=compared.start, last=compared.end)
            if compared
            else None
        )
        return Response(
            {
                "stores": [store.pk for store in stores],
                "currency": stores[0].currency,
                "period": {"start": period.start, "end": period.end},
                "comparison": {"start": compared.start, "end": compared.end} if compared else None,
                "current": _summary(current),
                "previous": _summary(previous) if previous else None,
            }
        )


class HourOutput(serializers.Serializer[Any]):
    local_date = serializers.DateField()
    hour = serializers.IntegerField(min_value=0, max_value=23)
    net_sales = serializers.IntegerField()
    tax = serializers.IntegerField()
    refunds = serializers.IntegerField()
    transactions = serializers.IntegerField()
    units = serializers.IntegerField()


class SalesByHourApi(_AnalyticsApi):
    """Each local hour of the period with sales or refunds, stores and channels together, in time order."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=HourOutput(many=True))
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        stores = self.stores(request)
        period = self.choice(request, stores).period
        rows = sales_by_hour(merchant=self.merchant, stores=stores, first=period.start, last=period.end)
        return Response(HourOutput([asdict(row) for row in rows], many=True).data)


class ProductOutput(serializers.Serializer[Any]):
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


class SalesByProductApi(_AnalyticsApi):
    """Each store product with any figure in the period, best net sales first."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=ProductOutput(many=True))
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        stores = self.stores(request)
        period = self.choice(request, stores).period
        rows = sales_by_product(merchant=self.merchant, stores=stores, first=period.start, last=period.end)
        return Response(ProductOutput([asdict(row) for row in rows], many=True).data)
