"""Dashboard pages of orders, under /m/<slug>/orders/ (included from config/urls.py)."""

from django.urls import path

from checkout.views import dashboard

urlpatterns = [
    path("m/<slug:slug>/orders/", dashboard.orders, name="section_orders"),
    path("m/<slug:slug>/orders/export.csv", dashboard.orders_export, name="orders_export"),
    path("m/<slug:slug>/orders/<int:order_id>/", dashboard.order_detail, name="order_detail"),
    path("m/<slug:slug>/orders/<int:order_id>/refund/", dashboard.order_refund, name="order_refund"),
]
