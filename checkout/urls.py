"""Checkout's pages: the shopper's cart, payment and receipt; counter mode, orders, exit checks and
payment settings in the dashboard; the exit-pass API for door readers; Stripe's webhook."""

from django.urls import path

from checkout import api as apis
from checkout.views import (
    connect,
    counter,
    counter_offline,
    counter_payments,
    dashboard,
    exit_checks,
    shopper,
    shopper_account,
    webhooks,
)
from core.urls import audiences

app_name = "checkout"

shopper_pages = [
    path("", shopper.store_landing, name="store_landing"),
    path("cart/", shopper.cart, name="cart"),
    path("cart/add/", shopper.cart_add, name="cart_add"),
    path("checkout/", shopper.checkout, name="checkout"),
    path("orders/<uuid:token>/", shopper.order_status, name="order_status"),
    path("orders/<uuid:token>/pay/", shopper.pay, name="pay"),
]

# The shopper's own account spans every shop, so it lives outside any one store's pages.
shopper_account_pages = [
    path("shopper/", shopper_account.account, name="shopper_account"),
    path("shopper/sign-in/<str:token>/", shopper_account.sign_in, name="shopper_sign_in"),
    path("shopper/sign-out/", shopper_account.sign_out, name="shopper_sign_out"),
    path("shopper/settings/", shopper_account.preferences, name="shopper_preferences"),
    path("shopper/cards/forget/", shopper_account.card_forget, name="shopper_card_forget"),
]

dashboard_pages = [
    path("counter/", counter.counter_page, name="section_counter"),
    path("counter/shifts/open/", counter.shift_open, name="counter_shift_open"),
    path("counter/shifts/<int:shift_id>/", counter.shift_detail, name="counter_shift"),
    path("counter/shifts/<int:shift_id>/scan/", counter.scan, name="counter_scan"),
    path("counter/shifts/<int:shift_id>/pick/", counter.pick, name="counter_pick"),
    path("counter/shifts/<int:shift_id>/open-price/", counter.open_price, name="counter_open_price"),
    path("counter/shifts/<int:shift_id>/bottles/", counter.bottles_return, name="counter_bottles_return"),
    path("counter/sales/<int:order_id>/lines/<int:line_id>/", counter.line_quantity, name="counter_line_quantity"),
    path("counter/sales/<int:order_id>/lines/<int:line_id>/void/", counter.line_void, name="counter_line_void"),
    path(
        "counter/sales/<int:order_id>/lines/<int:line_id>/discount/",
        counter.line_discount,
        name="counter_line_discount",
    ),
    path("counter/sales/<int:order_id>/discount/", counter.sale_discount, name="counter_sale_discount"),
    path("counter/sales/<int:order_id>/cancel/", counter.sale_cancel, name="counter_sale_cancel"),
    path("counter/sales/<int:order_id>/age-checked/", counter.sale_age_checked, name="counter_age_checked"),
    path("counter/sales/<int:order_id>/pay/cash/", counter_payments.pay_cash, name="counter_pay_cash"),
    path("counter/sales/<int:order_id>/pay/card/", counter_payments.pay_external_card, name="counter_pay_card"),
    path("counter/sales/<int:order_id>/pay/out/", counter_payments.pay_out, name="counter_pay_out"),
    path("counter/sales/<int:order_id>/pay/reader/", counter_payments.pay_stripe_card, name="counter_pay_reader"),
    path(
        "counter/sales/<int:order_id>/pay/reader/cancel/",
        counter_payments.stripe_card_cancel,
        name="counter_pay_reader_cancel",
    ),
    path("counter/sales/<int:order_id>/receipt/", counter_payments.receipt, name="counter_receipt"),
    path("counter/prices/", counter_offline.price_list, name="counter_prices"),
    path("counter/shifts/<int:shift_id>/offline-sales/", counter_offline.offline_sale, name="counter_offline_sale"),
    path("orders/", dashboard.orders, name="section_orders"),
    path("orders/export.csv", dashboard.orders_export, name="orders_export"),
    path("orders/<int:order_id>/", dashboard.order_detail, name="order_detail"),
    path("orders/<int:order_id>/refund/", dashboard.order_refund, name="order_refund"),
    path("exit/", exit_checks.exit_check, name="exit_check"),
    path("settings/payments/", connect.payments_settings, name="payments_settings"),
    path("settings/payments/connect/", connect.stripe_connect, name="stripe_connect"),
    path("settings/payments/reader/", connect.stripe_reader_set, name="stripe_reader_set"),
    path("settings/payments/till/", connect.till_settings_set, name="till_settings_set"),
]

api = [
    path("devices/exit-passes/check/", apis.ExitPassCheckApi.as_view(), name="api_exit_pass_check"),
    path("devices/exit-passes/used/", apis.ExitPassUsedApi.as_view(), name="api_exit_pass_used"),
    path("exit-passes/public-key/", apis.ExitPassKeyApi.as_view(), name="api_exit_pass_key"),
]

urlpatterns = audiences(
    shopper=shopper_pages,
    dashboard=dashboard_pages,
    api=api,
    site=[*shopper_account_pages, path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook")],
)
