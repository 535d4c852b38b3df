"""Ordering's pages: restocking in the dashboard (suggested orders, settings, claims, receiving)."""

from django.urls import path

from core.urls import audiences
from ordering import views

app_name = "ordering"

dashboard_pages = [
    path("restock/", views.restock, name="section_restock"),
    path("restock/draft/", views.restock_draft, name="restock_draft"),
    path("restock/settings/", views.restock_settings, name="restock_settings"),
    path("restock/settings/save/", views.restock_settings_save, name="restock_settings_save"),
    path("restock/claims/", views.restock_claims, name="restock_claims"),
    path("restock/orders/<int:order_id>/", views.restock_order, name="restock_order"),
    path("restock/orders/<int:order_id>/lines/", views.restock_line_add, name="restock_line_add"),
    path("restock/orders/<int:order_id>/lines/<int:line_id>/", views.restock_line, name="restock_line"),
    path("restock/orders/<int:order_id>/submit/", views.restock_submit, name="restock_submit"),
    path("restock/orders/<int:order_id>/cancel/", views.restock_cancel, name="restock_cancel"),
    path("restock/orders/<int:order_id>/receive/", views.restock_receive, name="restock_receive"),
    path("restock/orders/<int:order_id>/receive/scan/", views.restock_receive_scan, name="restock_receive_scan"),
]

urlpatterns = audiences(dashboard=dashboard_pages)
