"""Stores side by side: each store's sales summary over the same period, against its own comparison."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.base import PERIOD_PARAMETERS, AnalyticsApi, AnalyticsComparedOutput, AnalyticsSummaryOutput
from analytics.selectors.stores import sales_by_store
from core.serializers import Serializer


class StoreRowOutput(Serializer):
    store_id = serializers.IntegerField(source="store.pk")
    name = serializers.CharField(source="store.name")
    code = serializers.CharField(source="store.code")
    current = AnalyticsSummaryOutput()
    previous = AnalyticsSummaryOutput(allow_null=True, help_text="Null with ?compare=none.")


class StoreComparisonOutput(AnalyticsComparedOutput):
    rows = StoreRowOutput(
        many=True,
        help_text="One per store, in the order of ?store= (by name without it); a store without sales has zeros.",
    )


class StoreComparisonApi(AnalyticsApi):
    """One row per store (those of ?store=, else all the merchant's): net sales, margin, transactions, basket,
    units and refunds over the period and its comparison: the Stores page's table."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=StoreComparisonOutput)
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        period, compared = scope.choice.period, scope.choice.comparison
        now = sales_by_store(merchant=self.merchant, stores=scope.stores, first=period.start, last=period.end)
        was = (
            sales_by_store(merchant=self.merchant, stores=scope.stores, first=compared.start, last=compared.end)
            if compared
            else {}
        )
        rows = [{"store": store, "current": now[store.pk], "previous": was.get(store.pk)} for store in scope.stores]
        return Response(StoreComparisonOutput(scope.report() | {"rows": rows}).data)
