"""The Django admin runs through the audited platform bypass; nothing else does. A session that owes its
second sign-in step reaches nothing but the pages that settle it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse

from merchants import sign_in
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


class TwoStepMiddleware:
    """A signed-in session that owes its second step reaches only the pages that settle it.

    Which step a session owes is decided once, when it signs in (``merchants.sign_in.session_two_step_set``,
    on Django's ``user_logged_in``), and kept in the session, so that a page costs no query for it:
    "enrol" for someone a rule requires a second factor of who has none yet (sent to set one up, and
    nothing else, until they have), "verify" for someone with a second factor whose session never passed
    it (signed out), "done" otherwise. The platform operator's admin, the dashboard and the API (with a
    session) are all behind this one check; API tokens are made by a session that passed it.
    """

    # The pages that settle the step, sign out or reset a password; and what every page needs.
    exempt_prefixes = ("/accounts/", "/account/two-step/", "/static/", "/healthz", "/readyz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(self.exempt_prefixes):
            return self.get_response(request)
        step = request.session.get(sign_in.SESSION_STEP)
        if step is None:  # a session from before two-step sign-in: decide now, once
            step = sign_in.session_two_step_set(request, user)
        if step == sign_in.STEP_DONE:
            return self.get_response(request)
        return sign_in.step_owed_response(request, step)
