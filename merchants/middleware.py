"""The Django admin runs through the audited platform bypass; nothing else does."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse

from merchants.tenancy import platform_access


class PlatformAdminMiddleware:
    """Admin pages show every merchant's rows to platform staff, and each such request is audited.

    Which rows a wholesaler's staff may see inside the admin is decided by the ModelAdmins
    (merchants/admin.py); the bypass only lifts row-level security for the admin site.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if not request.path.startswith("/admin/") or user is None or not (user.is_active and user.is_staff):
            return self.get_response(request)
        with platform_access(reason=f"admin {request.method} {request.path}"[:300], actor=f"user:{user.pk}"):
            response = self.get_response(request)
            # Admin pages are TemplateResponses: render them while the bypass still holds.
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            return response
