"""Analytics' pages: the dashboard's home (Overview)."""

from django.urls import path

from analytics.views import overview
from core.urls import audiences

app_name = "analytics"

dashboard_pages = [
    path("", overview.overview, name="overview"),
]

urlpatterns = audiences(dashboard=dashboard_pages)
