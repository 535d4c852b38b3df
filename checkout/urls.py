from django.urls import path

from checkout.views import connect, exit_checks, shopper, shopper_account, webhooks

urlpatterns = [
    path("shopper/", shopper_account.account, name="shopper_account"),
    path("shopper/sign-in/<str:token>/", shopper_account.sign_in, name="shopper_sign_in"),
    path("shopper/sign-out/", shopper_account.sign_out, name="shopper_sign_out"),
    path("shopper/settings/", shopper_account.preferences, name="shopper_preferences"),
    path("shopper/cards/forget/", shopper_account.card_forget, name="shopper_card_forget"),
    path("s/<str:code>/", shopper.store_landing, name="store_landing"),
    path("s/<str:code>/cart/", shopper.cart, name="cart"),
    path("s/<str:code>/cart/add/", shopper.cart_add, name="cart_add"),
    path("s/<str:code>/checkout/", shopper.checkout, name="checkout"),
    path("s/<str:code>/orders/<uuid:token>/", shopper.order_status, name="order_status"),
    path("s/<str:code>/orders/<uuid:token>/pay/", shopper.pay, name="pay"),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("m/<slug:slug>/exit/", exit_checks.exit_check, name="exit_check"),
    path("m/<slug:slug>/settings/payments/", connect.payments_settings, name="payments_settings"),
    path("m/<slug:slug>/settings/payments/connect/", connect.stripe_connect, name="stripe_connect"),
    path("m/<slug:slug>/settings/payments/reader/", connect.stripe_reader_set, name="stripe_reader_set"),
]
