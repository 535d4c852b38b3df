"""URL map: each app once, under its namespace (its shopper, dashboard and API lists sit under the
prefixes that core.urls names); the admin, sign-in, the API schema and operations."""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.metrics import metrics_view
from core import ops
from merchants import sign_in

admin.site.site_header = "Lingshou administration"
admin.site.site_title = "Lingshou admin"

# Django's sign-out and password pages, with our own sign-in pages (password, then code) in place of its "login".
account_pages = [pattern for pattern in auth_urls.urlpatterns if getattr(pattern, "name", None) != "login"]

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    # The admin signs in through the site's own two steps; its own form would skip the second.
    path("admin/login/", sign_in.admin_sign_in, name="admin_sign_in"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", sign_in.SignInView.as_view(), name="login"),
    path("accounts/login/code/", sign_in.sign_in_code, name="login_code"),
    path("accounts/", include(account_pages)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # Swagger UI injects <style> elements at run time: this one page may apply inline styles
    # (never inline scripts; its script is served from this origin by the split view).
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api_schema")),
        name="api_docs",
    ),
    path("", include("merchants.urls")),
    path("", include("catalog.urls")),
    path("", include("checkout.urls")),
    path("", include("sensing.urls")),
    path("", include("ordering.urls")),
    path("", include("analytics.urls")),
]

if settings.SERVE_MEDIA:
    # Product images in the demo and tests; production serves media from its storage (S3, a CDN).
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]

handler400 = "core.errors.bad_request"
handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
