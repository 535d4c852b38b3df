"""The end-of-day report of one store and one day: takings by payment method, taxes by rate, refunds and voids,
and each shift's drawer."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.api.base import AnalyticsApi
from analytics.periods import EARLIEST
from analytics.selectors.day_report import day_report
from core.serializers import Serializer
from merchants.models import Store
from merchants.selectors import store_list


class DayStoreOutput(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    timezone = serializers.CharField(help_text="The day's hours and every time below are this zone's.")


class DayMethodOutput(Serializer):
    method = serializers.CharField(source="label", help_text="'Scan and pay (card, online)' or 'Counter: <method>'.")
    sales = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Paid, tax included.")


class DayTaxOutput(Serializer):
    rate = serializers.IntegerField(help_text="Basis points: 1900 is 19 %.")
    net = serializers.IntegerField()
    tax = serializers.IntegerField()
    gross = serializers.IntegerField()


class DayShiftOutput(Serializer):
    id = serializers.IntegerField(source="shift.pk")
    opened_at = serializers.DateTimeField(source="shift.opened_at")
    closed_at = serializers.DateTimeField(source="shift.closed_at", allow_null=True, help_text="Null: still open.")
    opened_by = serializers.SerializerMethodField()
    opening_cash = serializers.IntegerField(source="shift.opening_cash", help_text="The float.")
    cash_sales = serializers.IntegerField()
    expected_cash = serializers.IntegerField(help_text="The float + cash tendered − change given − cash refunded.")
    counted_cash = serializers.IntegerField(source="shift.counted_cash", allow_null=True, help_text="At the close.")
    difference = serializers.IntegerField(
        allow_null=True, help_text="Counted − expected once closed: negative is missing from the drawer."
    )

    def get_opened_by(self, row: Any) -> str:
        user = row.shift.opened_by
        return str(user.get_full_name() or user.username)


class DayReportOutput(Serializer):
    store = DayStoreOutput()
    currency = serializers.CharField(source="store.currency", help_text="Every amount is in its minor units.")
    day = serializers.DateField()
    methods = DayMethodOutput(many=True, help_text="Takings by how they were paid, of the orders paid that day.")
    sales = serializers.IntegerField(help_text="Orders paid that day.")
    taken = serializers.IntegerField(help_text="What they came to, tax included.")
    taxes = DayTaxOutput(many=True, help_text="By rate, lowest first.")
    tax = serializers.IntegerField()
    refunds = serializers.IntegerField(help_text="Refunds made that day (of any day's orders).")
    refunded = serializers.IntegerField(help_text="What they gave back.")
    lines_voided = serializers.IntegerField(help_text="Counter lines voided in the sales started that day.")
    sales_cancelled = serializers.IntegerField(help_text="Counter sales started that day and cancelled.")
    shifts = DayShiftOutput(many=True, help_text="The shifts opened that day, in order.")


class DayReportApi(AnalyticsApi):
    """The end-of-day report of one store's local day, as on the End of day page and its PDF."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "store", int, description="The store; required when the merchant has several, else its only one."
            ),
            OpenApiParameter(
                "day",
                dt.date,
                description="YYYY-MM-DD, not in the future; required when the merchant has several stores, else "
                "the store's today (the page's default).",
            ),
        ],
        responses=DayReportOutput,
    )
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - URL kwarg; MerchantApi resolves it
        store, day = self.store_and_day(request)
        report = day_report(merchant=self.merchant, store=store, day=day)
        with timezone.override(ZoneInfo(store.timezone)):
            return Response(DayReportOutput(report).data)

    def store_and_day(self, request: Request) -> tuple[Store, dt.date]:
        """The store and day asked for: 404 for a store not the merchant's, 400 for what is missing or wrong."""
        stores = list(store_list(merchant=self.merchant))
        if not stores:
            raise NotFound("This shop has no store yet.")
        wanted = request.query_params.get("store", "").strip()
        text = request.query_params.get("day", "").strip()
        errors: dict[str, list[str]] = {}
        store = next((store for store in stores if str(store.pk) == wanted), None) if wanted else None
        if wanted and store is None:
            raise NotFound("No such store.")
        if len(stores) > 1:
            # Several stores: a tool says which store and which day, so that no answer is about the wrong one.
            if store is None:
                ids = ", ".join(str(each.pk) for each in stores)
                errors["store"] = [f"This shop has {len(stores)} stores: choose one with ?store= (ids {ids})."]
            if not text:
                errors["day"] = ["Choose the day with ?day=YYYY-MM-DD when the shop has several stores."]
        store = store or stores[0]
        today = timezone.localtime(timezone=ZoneInfo(store.timezone)).date()
        day = today
        if text:
            try:
                day = dt.datetime.strptime(text, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar day, no time
            except ValueError:
                errors["day"] = [f"“{text[:20]}” is not a day: write it as YYYY-MM-DD, like {today:%Y-%m-%d}."]
            else:
                if day > today and "store" not in errors:
                    errors["day"] = [f"{day:%d %B %Y} has not come yet in {store.name}."]
                elif day < EARLIEST:
                    errors["day"] = [f"Lingshou has no figures before {EARLIEST:%d %B %Y}."]
        if errors:
            raise ValidationError(errors)
        return store, day
