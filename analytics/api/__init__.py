"""Analytics API under /api/v1/merchants/<merchant_id>/analytics/: every report's figures as JSON for owners' own
tools, from the same selectors as the pages. Periods use the pages' parameters (?period=7d|30d|…|custom&start&end
&compare), stores ?store=<id> (repeatable; all of the merchant's when none). Money is in minor units of the
stores' currency, given once per response; rates and fractional counts are decimal strings, as DRF writes
decimals ("0.667"), rounded as the pages round them.
"""

from analytics.api.baskets import BasketReportApi
from analytics.api.day_report import DayReportApi
from analytics.api.forecasts import ForecastAccuracyApi
from analytics.api.losses import LossReportApi
from analytics.api.products import ProductReportApi
from analytics.api.sales import SalesBreakdownApi, SalesByHourApi, SalesByProductApi, SalesSummaryApi
from analytics.api.stores import StoreComparisonApi

__all__ = [
    "BasketReportApi",
    "DayReportApi",
    "ForecastAccuracyApi",
    "LossReportApi",
    "ProductReportApi",
    "SalesBreakdownApi",
    "SalesByHourApi",
    "SalesByProductApi",
    "SalesSummaryApi",
    "StoreComparisonApi",
]
