from django.urls import path

from checkout import connect, shopper_views, views

urlpatterns = [
    path("shopper/", shopper_views.account, name="shopper_account"),
    path("shopper/sign-in/<str:token>/", shopper_views.sign_in, name="shopper_sign_in"),
    path("shopper/sign-out/", shopper_views.sign_out, name="shopper_sign_out"),
    path("shopper/settings/", shopper_views.preferences, name="shopper_preferences"),
    path("shopper/cards/forget/", shopper_views.card_forget, name="shopper_card_forget"),
    path("s/<str:code>/", views.store_landing, name="store_landing"),
    path("s/<str:code>/cart/", views.cart, name="cart"),
    path("s/<str:code>/cart/add/", views.cart_add, name="cart_add"),
    path("s/<str:code>/checkout/", views.checkout, name="checkout"),
    path("s/<str:code>/orders/<uuid:token>/", views.order_status, name="order_status"),
    path("s/<str:code>/orders/<uuid:token>/pay/", views.pay, name="pay"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
    path("m/<slug:slug>/exit/", views.exit_check, name="exit_check"),
    path("m/<slug:slug>/settings/payments/", connect.payments_settings, name="payments_settings"),
    path("m/<slug:slug>/settings/payments/connect/", connect.stripe_connect, name="stripe_connect"),
    path("m/<slug:slug>/settings/payments/reader/", connect.stripe_reader_set, name="stripe_reader_set"),
]
