"""Counter mode under /m/<slug>/counter/: the till page, shifts, and the actions on one sale."""

from django.urls import path

from checkout.views import counter as views

urlpatterns = [
    # Replaces the "not built yet" placeholder merchants.urls registers under the same name.
    path("m/<slug:slug>/counter/", views.counter_page, name="section_counter"),
    path("m/<slug:slug>/counter/shifts/open/", views.shift_open, name="counter_shift_open"),
    path("m/<slug:slug>/counter/shifts/<int:shift_id>/", views.shift_detail, name="counter_shift"),
    path("m/<slug:slug>/counter/shifts/<int:shift_id>/scan/", views.scan, name="counter_scan"),
    path(
        "m/<slug:slug>/counter/sales/<int:order_id>/lines/<int:line_id>/",
        views.line_quantity,
        name="counter_line_quantity",
    ),
    path(
        "m/<slug:slug>/counter/sales/<int:order_id>/lines/<int:line_id>/void/",
        views.line_void,
        name="counter_line_void",
    ),
    path("m/<slug:slug>/counter/sales/<int:order_id>/cancel/", views.sale_cancel, name="counter_sale_cancel"),
    path("m/<slug:slug>/counter/sales/<int:order_id>/age-checked/", views.sale_age_checked, name="counter_age_checked"),
    path("m/<slug:slug>/counter/sales/<int:order_id>/pay/cash/", views.pay_cash, name="counter_pay_cash"),
    path("m/<slug:slug>/counter/sales/<int:order_id>/pay/card/", views.pay_external_card, name="counter_pay_card"),
    path("m/<slug:slug>/counter/sales/<int:order_id>/pay/reader/", views.pay_stripe_card, name="counter_pay_reader"),
    path(
        "m/<slug:slug>/counter/sales/<int:order_id>/pay/reader/cancel/",
        views.stripe_card_cancel,
        name="counter_pay_reader_cancel",
    ),
    path("m/<slug:slug>/counter/sales/<int:order_id>/receipt/", views.receipt, name="counter_receipt"),
]
