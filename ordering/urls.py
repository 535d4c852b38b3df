"""Dashboard pages of restocking, under /m/<slug>/restock/ (included from config/urls.py)."""

from django.urls import path

from ordering import views

urlpatterns = [
    path("m/<slug:slug>/restock/", views.restock, name="section_restock"),
    path("m/<slug:slug>/restock/draft/", views.restock_draft, name="restock_draft"),
    path("m/<slug:slug>/restock/settings/", views.restock_settings, name="restock_settings"),
    path("m/<slug:slug>/restock/settings/save/", views.restock_settings_save, name="restock_settings_save"),
    path("m/<slug:slug>/restock/claims/", views.restock_claims, name="restock_claims"),
    path("m/<slug:slug>/restock/orders/<int:order_id>/", views.restock_order, name="restock_order"),
    path("m/<slug:slug>/restock/orders/<int:order_id>/lines/", views.restock_line_add, name="restock_line_add"),
    path("m/<slug:slug>/restock/orders/<int:order_id>/lines/<int:line_id>/", views.restock_line, name="restock_line"),
    path("m/<slug:slug>/restock/orders/<int:order_id>/submit/", views.restock_submit, name="restock_submit"),
    path("m/<slug:slug>/restock/orders/<int:order_id>/cancel/", views.restock_cancel, name="restock_cancel"),
    path("m/<slug:slug>/restock/orders/<int:order_id>/receive/", views.restock_receive, name="restock_receive"),
    path(
        "m/<slug:slug>/restock/orders/<int:order_id>/receive/scan/",
        views.restock_receive_scan,
        name="restock_receive_scan",
    ),
]
