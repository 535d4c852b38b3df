"""The benches' URL configuration: production's, plus the floor endpoints (bench/floor_views.py).

Only bench/floor_settings.py names this module; production's ROOT_URLCONF (config.urls) has no
floor route, and tests/config/test_urls.py holds that. The floor routes come after production's,
so every real path resolves exactly as in production (a floor path pays the few failed matches).
"""

from django.urls import path

from bench import floor_views
from config.urls import handler400, handler404, handler500
from config.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    *production_urlpatterns,
    path("floor/s/<str:store_code>/p/<str:code>/", floor_views.product_page, name="floor_product_page"),
    path("floor/s/<str:store_code>/cart/add/", floor_views.cart_add, name="floor_cart_add"),
    path("floor/webhooks/stripe/", floor_views.stripe_webhook, name="floor_stripe_webhook"),
    path("floor/sensing/frames", floor_views.frame_ingest, name="floor_frame_ingest"),
]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
