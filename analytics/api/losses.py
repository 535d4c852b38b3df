"""The Stock and losses report's figures: stock value at cost now; over the period, the hours out of stock and the
sales they lost, shrinkage by reason, and shelf takes no sale explains."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.base import PERIOD_PARAMETERS, AnalyticsApi, AnalyticsReportOutput, rate
from analytics.selectors.losses import out_of_stock, shrinkage, stock_value, unexplained_takes
from core.serializers import Serializer


class StockValueOutput(Serializer):
    value = serializers.IntegerField(help_text="On hand now at moving-average cost, over the products with a cost.")
    products = serializers.IntegerField(help_text="Products on hand.")
    unknown_cost = serializers.IntegerField(source="unknown", help_text="Products on hand whose cost is unknown.")


class OutOfStockOutput(Serializer):
    store_id = serializers.IntegerField(source="item.store_id")
    store_product_id = serializers.IntegerField(source="item.pk")
    name = serializers.CharField(source="item.name")
    hours = rate(
        1,
        "Hours the ledger held none, or a camera saw the shelf empty (the longer of the two a day).",
        allow_null=False,
    )
    lost_units = rate(
        1, "The demand those hours held: the day's kept forecast, else the period's rate.", allow_null=False
    )
    lost_sales = serializers.IntegerField(help_text="The lost units at today's price.")


class ShrinkageOutput(Serializer):
    reason = serializers.CharField(help_text="The reason given, or 'Stock count difference' for counts.")
    movements = serializers.IntegerField()
    units = serializers.IntegerField(help_text="Signed: negative left the books, positive was found.")
    value = serializers.IntegerField(help_text="The units at today's average cost, over products whose cost is known.")


class UnexplainedTakesOutput(Serializer):
    store_id = serializers.IntegerField(source="item.store_id")
    store_product_id = serializers.IntegerField(source="item.pk")
    name = serializers.CharField(source="item.name")
    taken = serializers.IntegerField(help_text="Units the cameras saw taken, less those put back (rejected left out).")
    sold = serializers.IntegerField(help_text="Units sold those days.")
    unexplained = serializers.IntegerField(help_text="Taken beyond what sold, a day at a time, never below zero.")


class LossReportOutput(AnalyticsReportOutput):
    stock_value = StockValueOutput(help_text="Now, whatever the period.")
    out_of_stock = OutOfStockOutput(many=True, help_text="All of them (the page shows 25), longest first.")
    shrinkage = ShrinkageOutput(many=True, help_text="Counts, write-offs and adjustments; biggest loss first.")
    unexplained_takes = UnexplainedTakesOutput(many=True, help_text="Most unexplained first.")


class LossReportApi(AnalyticsApi):
    """The Stock and losses page as JSON: stock value at cost now; over the period, products out of stock with the
    sales they lost, shrinkage by reason, and shelf takes that no sale explains."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=LossReportOutput)
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        merchant, stores, first, last = self.merchant, scope.stores, scope.choice.period.start, scope.choice.period.end
        body = scope.report() | {
            "stock_value": stock_value(merchant=merchant, stores=stores),
            "out_of_stock": out_of_stock(merchant=merchant, stores=stores, first=first, last=last),
            "shrinkage": shrinkage(merchant=merchant, stores=stores, first=first, last=last),
            "unexplained_takes": unexplained_takes(merchant=merchant, stores=stores, first=first, last=last),
        }
        return Response(LossReportOutput(body).data)
