"""Signing in, in one or two steps, and the signed-in person's own two-step page.

The password step is Django's ``LoginView``; for someone with an authenticator app it does not sign
in but remembers, for a few minutes, whose password was right, and asks for the code. Only a right
code signs in. A wrong code is a failed sign-in for django-axes (the same counter as wrong passwords,
per name and address), so five wrong answers of either kind lock the sign-in out. The admin's own
sign-in page sends here. ``TwoStepMiddleware`` keeps every other page from a session that owes a step.
"""

from __future__ import annotations

import time
from typing import Any

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address, get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from core.api import error_body
from core.http import AuthenticatedRequest, error_message
from merchants import two_step
from merchants.forms import TwoStepCodeForm

# The session's second step: which one it owes, and the password step waiting for its code.
SESSION_STEP = "two_step"
SESSION_PENDING = "two_step_pending"
STEP_DONE = "done"
STEP_ENROL = "enrol"
STEP_VERIFY = "verify"


def ip_address(request: HttpRequest) -> str | None:
    """The client's address as the lock-out reads it, for the audit log."""
    return get_client_ip_address(request) or None


def session_two_step_set(request: HttpRequest, user: Any) -> str:
    """Record in the session which second step it owes, and return it: none ("done") when it passed one
    or needs none, "verify" when the user has a second factor it did not pass, "enrol" when a rule requires one."""
    if getattr(user, "otp_device", None) is not None:
        step = STEP_DONE
    elif two_step.two_step_is_on(user=user):
        step = STEP_VERIFY
    elif two_step.two_step_requirements(user=user):
        step = STEP_ENROL
    else:
        step = STEP_DONE
    request.session[SESSION_STEP] = step
    return step


def session_two_step_receive(sender: object, request: HttpRequest | None, user: Any, **kwargs: object) -> None:  # noqa: ARG001 - a signal receiver
    """On ``user_logged_in``: the decision is taken once per session instead of on every page."""
    if request is not None and hasattr(request, "session"):
        session_two_step_set(request, user)


def step_owed_response(request: HttpRequest, step: str) -> HttpResponse:
    """The answer to a request of a session that owes its second step: set one up, or sign in again."""
    if step == STEP_ENROL:
        message = "Set up two-step sign-in first: your account requires it."
        if request.path.startswith("/api/"):
            return JsonResponse(error_body("two_step_required", message), status=403)
        return redirect("merchants:two_step_enrol")
    # A second factor the session never passed: nothing here is trusted, sign in again.
    logout(request)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_authenticated", "Sign in again, with your code."), status=401)
    return redirect_to_login(request.get_full_path())


class SignInView(LoginView):
    """The password step; for someone with two-step sign-in on, it leads to the code instead of signing in."""

    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not two_step.two_step_is_on(user=user):
            return super().form_valid(form)
        self.request.session[SESSION_PENDING] = {
            "user_id": user.pk,
            "backend": user.backend,
            # As typed: the lock-out counts wrong codes under the same name as wrong passwords.
            "username": form.cleaned_data["username"],
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("login_code")


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(SESSION_PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > settings.TWO_STEP_PENDING_SECONDS:
        request.session.pop(SESSION_PENDING, None)
        return None
    return pending


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def sign_in_code(request: HttpRequest) -> HttpResponseBase:
    """The second step: the code from the app, or a recovery code. Wrong ones count towards the lock-out."""
    pending = _pending(request)
    user = None
    if pending is not None:
        user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    if pending is None or user is None:
        request.session.pop(SESSION_PENDING, None)
        messages.info(request, "Sign in with your password first; the code is asked for after it.")
        return redirect("login")
    credentials = {"username": pending["username"]}
    if AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(SESSION_PENDING, None)
        return get_lockout_response(request, None, credentials)
    form = TwoStepCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        device = None
        if form.is_valid():
            device = two_step.two_step_verify(user=user, code=form.cleaned_data["code"], ip_address=ip_address(request))
        if device is not None:
            request.session.pop(SESSION_PENDING, None)
            # django-otp marks the session verified by this device when it sees it on the user at login.
            user.otp_device = device  # type: ignore[attr-defined]
            login(request, user, backend=pending["backend"])
            if isinstance(device, StaticDevice):
                left = two_step.recovery_codes_remaining(user=user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Each works once: renew them under Two-step sign-in.",
                )
            return redirect(pending["next"])
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            # AxesMiddleware answers with the lock-out page; the password step must be passed again after it.
            request.session.pop(SESSION_PENDING, None)
        if form.is_valid():
            form.add_error("code", two_step.two_step_refusal(user=user))
        status = 400
    return render(request, "registration/login_code.html", {"form": form}, status=status)


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin's sign-in page: the site's own, so that the platform operator passes the same two steps."""
    target = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(target)


def _account_context(request: AuthenticatedRequest, **extra: object) -> dict[str, object]:
    user = request.user
    return {
        "is_on": two_step.two_step_is_on(user=user),
        "requirements": two_step.two_step_requirements(user=user),
        "recovery_left": two_step.recovery_codes_remaining(user=user),
        "form": TwoStepCodeForm(),
        # The same field in a second form on the page: ids of its own.
        "off_form": TwoStepCodeForm(auto_id="off_%s"),
        **extra,
    }


@login_required
def two_step_page(request: AuthenticatedRequest) -> HttpResponse:
    """The person's two-step sign-in: whether it is on, why it is required, turning it off, new recovery codes."""
    return render(request, "accounts/two_step.html", _account_context(request))


def _codes_shown(request: AuthenticatedRequest, codes: list[str], *, status: int = 200) -> HttpResponse:
    # Rendered, not redirected to: the codes are in no page that can be loaded again.
    return render(request, "accounts/two_step_codes.html", {"codes": " ".join(codes)}, status=status)


@sensitive_post_parameters("code")
@login_required
def two_step_enrol(request: AuthenticatedRequest) -> HttpResponse:
    """Set up the authenticator app: scan the QR code (or type the key), confirm with a code, keep the recovery codes."""
    user = request.user
    if two_step.two_step_is_on(user=user):
        return redirect("merchants:two_step")
    form = TwoStepCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, codes = two_step.enrolment_confirm(
                    user=user, code=form.cleaned_data["code"], ip_address=ip_address(request)
                )
            except ValidationError as error:
                form.add_error("code", error_message(error))
            else:
                django_otp.login(request, device)
                request.session[SESSION_STEP] = STEP_DONE
                messages.success(request, "Two-step sign-in is on. From now on you sign in with a code from your app.")
                return _codes_shown(request, codes)
        status = 400
    device = two_step.enrolment_start(user=user)
    context = {
        "form": form,
        "qr": two_step.otpauth_qr_svg(device),
        "secret": two_step.otpauth_secret(device),
        "requirements": two_step.two_step_requirements(user=user),
        "is_owed": request.session.get(SESSION_STEP) == STEP_ENROL,
    }
    return render(request, "accounts/two_step_enrol.html", context, status=status)


@sensitive_post_parameters("code")
@require_POST
@login_required
def two_step_disable(request: AuthenticatedRequest) -> HttpResponse:
    """Turn two-step sign-in off, with a code; refused while a rule requires it."""
    form = TwoStepCodeForm(request.POST)
    if form.is_valid():
        try:
            two_step.two_step_disable(user=request.user, code=form.cleaned_data["code"], ip_address=ip_address(request))
        except ValidationError as error:
            messages.error(request, error_message(error))
        else:
            messages.success(request, "Two-step sign-in is off: you sign in with your password alone.")
            return redirect("merchants:two_step")
    else:
        messages.error(request, " ".join(str(message) for message in form.errors["code"]))
    return render(request, "accounts/two_step.html", _account_context(request), status=400)


@sensitive_post_parameters("code")
@require_POST
@login_required
def recovery_codes_renew(request: AuthenticatedRequest) -> HttpResponse:
    """A new set of recovery codes, with a code; the old ones stop working."""
    form = TwoStepCodeForm(request.POST)
    if form.is_valid():
        try:
            codes = two_step.recovery_codes_renew(
                user=request.user, code=form.cleaned_data["code"], ip_address=ip_address(request)
            )
        except ValidationError as error:
            messages.error(request, error_message(error))
        else:
            messages.success(request, "New recovery codes made; the old ones no longer work.")
            return _codes_shown(request, codes)
    else:
        messages.error(request, " ".join(str(message) for message in form.errors["code"]))
    return render(request, "accounts/two_step.html", _account_context(request), status=400)
