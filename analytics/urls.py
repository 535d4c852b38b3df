"""Analytics' pages: the dashboard's home (Overview) and the end-of-day report."""

from django.urls import path

from analytics import api as apis
from analytics.views import baskets, day_report, forecasts, losses, overview, products, reports, sales, stores
from analytics.views.downloads import daily_figures
from core.urls import audiences

app_name = "analytics"

dashboard_pages = [
    path("", overview.overview, name="overview"),
    path("analytics/", reports.analytics_index, name="index"),
    path("analytics/sales/", sales.sales, name="sales"),
    path("analytics/products/", products.products, name="products"),
    path("analytics/stores/", stores.stores, name="stores"),
    path("analytics/forecasts/", forecasts.forecasts, name="forecasts"),
    path("analytics/baskets/", baskets.baskets, name="baskets"),
    path("analytics/losses/", losses.losses, name="losses"),
    path("analytics/day/", day_report.day_report_page, name="day_report"),
    path("analytics/day.pdf", day_report.day_report_download, name="day_report_pdf"),
    path("analytics/daily.csv", daily_figures, name="daily_figures"),
]

analytics = "merchants/<int:merchant_id>/analytics"

api = [
    path(f"{analytics}/sales/summary/", apis.SalesSummaryApi.as_view(), name="api_sales_summary"),
    path(f"{analytics}/sales/hours/", apis.SalesByHourApi.as_view(), name="api_sales_hours"),
    path(f"{analytics}/sales/products/", apis.SalesByProductApi.as_view(), name="api_sales_products"),
    path(f"{analytics}/sales/breakdown/", apis.SalesBreakdownApi.as_view(), name="api_sales_breakdown"),
    path(f"{analytics}/products/", apis.ProductReportApi.as_view(), name="api_products"),
    path(f"{analytics}/stores/", apis.StoreComparisonApi.as_view(), name="api_stores"),
    path(f"{analytics}/losses/", apis.LossReportApi.as_view(), name="api_losses"),
    path(f"{analytics}/baskets/", apis.BasketReportApi.as_view(), name="api_baskets"),
    path(f"{analytics}/forecasts/", apis.ForecastAccuracyApi.as_view(), name="api_forecasts"),
    path(f"{analytics}/day/", apis.DayReportApi.as_view(), name="api_day_report"),
]

urlpatterns = audiences(dashboard=dashboard_pages, api=api)
