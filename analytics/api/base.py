"""What every analytics endpoint shares: the stores and period it is about, read from the pages' parameters, and
the output fields of a report's scope and of a sales summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

from analytics.periods import PeriodChoice, PeriodForm, store_today
from analytics.selectors.sales import SalesSummary
from analytics.views.scope import currency_problem
from core.serializers import Serializer
from merchants.access import MerchantApi
from merchants.models import Store
from merchants.selectors import store_list

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "store", int, many=True, description="A store id; repeat for several. All the merchant's stores when none."
    ),
    OpenApiParameter(
        "period",
        str,
        enum=["today", "yesterday", "7d", "30d", "90d", "month", "custom"],
        description="The last 7 days when none; the last N days end today (the figures are live).",
    ),
    OpenApiParameter("start", dt.date, description="First day of a custom period (the store's local days)."),
    OpenApiParameter("end", dt.date, description="Last day of a custom period; at most 400 days, none in the future."),
    OpenApiParameter("compare", str, enum=["previous", "last_year", "none"], description="'previous' when none."),
]
# DRF writes decimals as strings ("0.667"), exactly as the selectors rounded them; wide enough for any figure.
RATE_DIGITS = 16


def rate(places: int, help_text: str, *, allow_null: bool = True, **kwargs: Any) -> serializers.DecimalField:
    """A ratio or a fractional count as the selectors round it, written as a decimal string."""
    return serializers.DecimalField(
        max_digits=RATE_DIGITS,
        decimal_places=places,
        rounding=ROUND_HALF_UP,
        allow_null=allow_null,
        help_text=help_text,
        **kwargs,
    )


@dataclass(frozen=True)
class AnalyticsScope:
    """The chosen stores, their time zone and today there, and the period asked for."""

    stores: list[Store]
    zone: ZoneInfo  # the first chosen store's; a merchant's stores share one in practice
    now: dt.datetime
    today: dt.date
    choice: PeriodChoice

    @property
    def currency(self) -> str:
        return self.stores[0].currency

    def report(self) -> dict[str, Any]:
        """The scope as every report gives it: stores, currency, period and comparison."""
        period, compared = self.choice.period, self.choice.comparison
        return {
            "stores": [store.pk for store in self.stores],
            "currency": self.currency,
            "period": {"start": period.start, "end": period.end},
            "comparison": {"start": compared.start, "end": compared.end} if compared else None,
        }


class AnalyticsApi(MerchantApi):
    """An analytics endpoint: owners, and managers when the owner lets them (403 otherwise); 404 for a store of
    another merchant or none; 400 with the fields' errors for a period the pages would refuse."""

    permission = "view_analytics"

    def stores(self, request: Request) -> list[Store]:
        every = {str(store.pk): store for store in store_list(merchant=self.merchant)}
        wanted = request.query_params.getlist("store")
        if not every or any(value not in every for value in wanted):
            raise NotFound("No such store.")
        return [every[value] for value in dict.fromkeys(wanted)] or list(every.values())

    def scope(self, request: Request) -> AnalyticsScope:
        stores = self.stores(request)
        problem = currency_problem(stores)
        if problem:
            # Never a sum of euros and pounds: the caller asks for the stores of one currency at a time.
            raise ValidationError({"store": [problem]})
        zone, now = ZoneInfo(stores[0].timezone), timezone.now()
        today = store_today(zone, now=now)
        form = PeriodForm(request.query_params, today=today)
        if not form.is_valid() or form.choice is None:
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        return AnalyticsScope(stores=stores, zone=zone, now=now, today=today, choice=form.choice)


class AnalyticsPeriodOutput(Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Included.")


class AnalyticsReportOutput(Serializer):
    stores = serializers.ListField(child=serializers.IntegerField(), help_text="The store ids the figures cover.")
    currency = serializers.CharField(help_text="ISO 4217; every amount is in its minor units (cents).")
    period = AnalyticsPeriodOutput(help_text="Local days of the first store's time zone.")


class AnalyticsComparedOutput(AnalyticsReportOutput):
    comparison = AnalyticsPeriodOutput(allow_null=True, help_text="Null with ?compare=none.")


class AnalyticsSummaryOutput(Serializer):
    net_sales = serializers.IntegerField(help_text="Without tax.")
    tax = serializers.IntegerField()
    refunds = serializers.IntegerField(help_text="Money given back, tax included, on the day it was given.")
    cost = serializers.IntegerField(help_text="Cost of the units sold whose cost was known.")
    net_sales_known_cost = serializers.IntegerField(help_text="Net sales of the units whose cost was known.")
    gross_margin = serializers.IntegerField(help_text="net_sales_known_cost − cost.")
    margin_rate = rate(4, "gross_margin / net_sales_known_cost; null when no cost was known.")
    known_cost_share = rate(4, "net_sales_known_cost / net_sales (1 = every sale's cost known); null without sales.")
    transactions = serializers.IntegerField()
    units = serializers.IntegerField()
    average_basket = serializers.IntegerField(allow_null=True, help_text="Net sales a transaction; null without any.")


def summary_fields(summary: SalesSummary) -> dict[str, Any]:
    """A summary's figures with those it derives, for AnalyticsSummaryOutput beside other keys."""
    return asdict(summary) | {
        "gross_margin": summary.gross_margin,
        "margin_rate": summary.margin_rate,
        "known_cost_share": summary.known_cost_share,
        "average_basket": summary.average_basket,
    }
