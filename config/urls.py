"""URL map: each app once, under its namespace (its shopper, dashboard and API lists sit under the
prefixes that core.urls names); the admin, sign-in, the API schema and operations."""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import ops

admin.site.site_header = "Lingshou administration"
admin.site.site_title = "Lingshou admin"

# Django's sign-out and password pages, with our own sign-in page in place of its "login".
account_pages = [pattern for pattern in auth_urls.urlpatterns if getattr(pattern, "name", None) != "login"]

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
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
