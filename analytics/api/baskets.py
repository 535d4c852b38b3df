"""The Baskets report's figures: basket sizes and values, the products bought together, and look-to-buy."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.base import PERIOD_PARAMETERS, AnalyticsApi, AnalyticsReportOutput, rate
from analytics.selectors.baskets import MIN_PAIR_BASKETS, SIZE_BUCKETS, baskets_of, look_to_buy, value_buckets
from core.serializers import Serializer


class BasketBucketOutput(Serializer):
    name = serializers.CharField(help_text="What the Baskets page calls it.")
    low = serializers.IntegerField(help_text="Included.")
    high = serializers.IntegerField(allow_null=True, help_text="Included; null: no upper bound.")
    baskets = serializers.IntegerField()


class PairOutput(Serializer):
    first = serializers.CharField(help_text="A product's name.")
    second = serializers.CharField()
    baskets = serializers.IntegerField(help_text="Baskets holding both.")
    support = rate(3, "Share of all baskets holding both.", allow_null=False)
    confidence = rate(3, "Of the baskets holding the first, the share that also hold the second.", allow_null=False)
    lift = rate(2, "How much likelier together than if bought independently (1 = no link).", allow_null=False)


class LookToBuyOutput(Serializer):
    name = serializers.CharField()
    lookups = serializers.IntegerField(help_text="Times shoppers scanned it for its price.")
    units = serializers.IntegerField(help_text="Units sold.")


class BasketReportOutput(AnalyticsReportOutput):
    baskets = serializers.IntegerField(help_text="Paid orders in the period.")
    sizes = BasketBucketOutput(many=True, help_text="Baskets by units in them (low, high: units).")
    values = BasketBucketOutput(
        many=True, help_text="Baskets by what the shopper paid, tax included (low, high: minor units)."
    )
    min_pair_baskets = serializers.IntegerField(help_text="A pair is listed only when this many baskets hold it.")
    pairs = PairOutput(many=True, help_text="The 20 pairs bought together most often.")
    look_to_buy = LookToBuyOutput(many=True, help_text="The 50 products looked up most.")


def _buckets(counts: list[tuple[str, int]], bounds: list[tuple[int, int | None, str]]) -> list[dict[str, Any]]:
    found = dict(counts)
    return [{"name": label, "low": low, "high": high, "baskets": found.get(label, 0)} for low, high, label in bounds]


class BasketReportApi(AnalyticsApi):
    """The Baskets page as JSON: the period's baskets by size and value, the pairs bought together with support,
    confidence and lift, and price lookups against units bought."""

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=BasketReportOutput)
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        scope = self.scope(request)
        merchant, stores, first, last = self.merchant, scope.stores, scope.choice.period.start, scope.choice.period.end
        found = baskets_of(merchant=merchant, stores=stores, first=first, last=last)
        body = scope.report() | {
            "baskets": found.count,
            "sizes": _buckets(found.sizes, SIZE_BUCKETS),
            "values": _buckets(found.values, value_buckets(scope.currency)),
            "min_pair_baskets": MIN_PAIR_BASKETS,
            "pairs": found.pairs,
            "look_to_buy": look_to_buy(merchant=merchant, stores=stores, first=first, last=last),
        }
        return Response(BasketReportOutput(body).data)
