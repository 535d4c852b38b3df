"""Ordering's pages: restocking in the dashboard (suggested orders, settings, claims, receiving)."""

from django.urls import path

from core.urls import audiences
from ordering.views import orders, receiving

app_name = "ordering"

dashboard_pages = [
    path("restock/", orders.restock, name="section_restock"),
    path("restock/draft/", orders.restock_draft, name="restock_draft"),
    path("restock/settings/", orders.restock_settings, name="restock_settings"),
    path("restock/settings/save/", orders.restock_settings_save, name="restock_settings_save"),
    path("restock/claims/", orders.restock_claims, name="restock_claims"),
    path("restock/orders/<int:order_id>/", orders.restock_order, name="restock_order"),
    path("restock/orders/<int:order_id>/lines/", orders.restock_line_add, name="restock_line_add"),
    path("restock/orders/<int:order_id>/lines/<int:line_id>/", orders.restock_line, name="restock_line"),
    path("restock/orders/<int:order_id>/submit/", orders.restock_submit, name="restock_submit"),
    path("restock/orders/<int:order_id>/cancel/", orders.restock_cancel, name="restock_cancel"),
    path("restock/orders/<int:order_id>/receive/", receiving.restock_receive, name="restock_receive"),
    path("restock/orders/<int:order_id>/receive/scan/", receiving.restock_receive_scan, name="restock_receive_scan"),
]

urlpatterns = audiences(dashboard=dashboard_pages)
