"""Forecast against actual: the suggested orders' kept forecasts held against what sold, per category."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.base import PERIOD_PARAMETERS, AnalyticsApi, AnalyticsPeriodOutput, rate
from analytics.selectors.forecasts import forecast_accuracy
from core.serializers import Serializer


class ForecastRowOutput(Serializer):
    category = serializers.CharField(help_text="A top-level category; the last row, 'All', sums every category.")
    product_days = serializers.IntegerField(help_text="Product-days that had a forecast.")
    forecast = rate(1, "Units forecast.", allow_null=False)
    actual = serializers.IntegerField(help_text="Units sold those product-days.")
    absolute_error = rate(3, "The sum of |forecast − actual| a product-day.", allow_null=False)
    wape = rate(3, "absolute_error / actual (lower is better); null when nothing sold.")
    bias = rate(3, "forecast / actual − 1: above zero the forecast expected more than sold; null when nothing sold.")


class ForecastAccuracyOutput(Serializer):
    stores = serializers.ListField(child=serializers.IntegerField(), help_text="The store ids the figures cover.")
    period = AnalyticsPeriodOutput(help_text="Local days of the first store's time zone.")
    through = serializers.DateField(
        allow_null=True, help_text="The last day counted: today is left out until it ends; null when none is."
    )
    rows = ForecastRowOutput(many=True, help_text="Largest sales first, then 'All'; none before any order was drafted.")


class ForecastAccuracyApi(AnalyticsApi):
    """The Forecast against actual page as JSON: per category, forecast and actual units, WAPE and bias over the
    days of the period that have ended."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=ForecastAccuracyOutput)
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        period = scope.choice.period
        last = min(period.end, scope.today - dt.timedelta(days=1))
        rows = (
            forecast_accuracy(merchant=self.merchant, stores=scope.stores, first=period.start, last=last)
            if last >= period.start
            else []
        )
        body = scope.report() | {"through": last if last >= period.start else None, "rows": rows}
        return Response(ForecastAccuracyOutput(body).data)
