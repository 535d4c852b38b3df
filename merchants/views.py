"""Dashboard pages for the merchant's own setup (stores, devices, staff) and the account pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.http import AuthenticatedRequest, MerchantRequest, error_message
from merchants import selectors, services, sign_in, two_step
from merchants.access import merchant_view
from merchants.forms import (
    ApiTokenForm,
    DeviceForm,
    InvitationForm,
    RoleForm,
    SignUpForm,
    StoreCreateForm,
    StoreForm,
)
from merchants.models import Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    """After login: straight to the only shop, or a choice between several; the admin for wholesaler and
    platform staff who work for no shop."""
    merchants = selectors.merchant_list_for_user(user=request.user)
    if len(merchants) == 1:
        return redirect("analytics:overview", slug=merchants[0].slug)
    if not merchants and request.user.is_staff:
        # A wholesaler's staff and the platform's operators work in the admin; no shop will invite them.
        return redirect("admin:index")
    return render(request, "dashboard/home.html", {"merchants": merchants})


@merchant_view()
def stores(request: MerchantRequest) -> HttpResponse:
    return render(request, "dashboard/stores.html", {"stores": selectors.store_list(merchant=request.merchant)})


def _section_stores(request: MerchantRequest) -> None:
    request.dashboard_section = "stores"


@merchant_view("manage_settings")
def store_edit(request: MerchantRequest, store_id: int) -> HttpResponse:
    """A store's settings: name, address, time zone, opening hours, tax ids, receipt footer, sharing (owner only)."""
    _section_stores(request)
    merchant = request.merchant
    store = selectors.store_get(merchant=merchant, store_id=store_id)
    form = StoreForm(request.POST or None, store=store)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = services.store_update(merchant=merchant, store_id=store.pk, settings=form.settings())
            except ValidationError as error:
                _form_errors_add(form, error)
            else:
                note = (
                    " Its analytics are being recounted in the new time zone; reports show the new days in a few minutes."
                    if outcome.is_timezone_changed
                    else ""
                )
                messages.success(request, f"{outcome.store.name} saved.{note}")
                return redirect("merchants:stores", slug=merchant.slug)
        status = 400
        messages.error(request, "Nothing was saved: correct the fields marked below.")
    return render(request, "dashboard/store_form.html", {"form": form, "store": store}, status=status)


@merchant_view("manage_settings")
def store_new(request: MerchantRequest) -> HttpResponse:
    """Add a store (owner only): its settings and currency; it gets its own shopper code."""
    _section_stores(request)
    merchant = request.merchant
    form = StoreCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            settings = form.settings()
            try:
                store = services.store_create(
                    merchant=merchant,
                    name=settings.name,
                    timezone_name=settings.timezone,
                    currency=data["currency"],
                    street=settings.street,
                    postal_code=settings.postal_code,
                    city=settings.city,
                    country=settings.country,
                    opening_hours=settings.opening_hours,
                    vat_id=settings.vat_id,
                    tax_number=settings.tax_number,
                    receipt_footer=settings.receipt_footer,
                    share_with_wholesaler=settings.share_with_wholesaler,
                )
            except ValidationError as error:
                _form_errors_add(form, error)
            else:
                messages.success(request, f"{store.name} added. Its shopper code is {store.code}.")
                return redirect("merchants:stores", slug=merchant.slug)
        status = 400
        messages.error(request, "Nothing was saved: correct the fields marked below.")
    return render(request, "dashboard/store_form.html", {"form": form, "store": None}, status=status)


def _form_errors_add(form: StoreForm, error: ValidationError) -> None:
    """A service's refusal on the form: per field where it names one the form has, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@merchant_view()
def staff(request: MerchantRequest) -> HttpResponse:
    can_manage = request.membership.has_permission("manage_staff")
    form = InvitationForm(request.POST or None) if can_manage else None
    return render(request, "dashboard/staff.html", _staff_context(request, form=form, can_manage=can_manage))


def _staff_context(request: MerchantRequest, *, form: InvitationForm | None, can_manage: bool) -> dict[str, object]:
    members = list(selectors.membership_list_with_two_step(merchant=request.merchant))
    return {
        "members": members,
        # The only owner can be neither removed nor demoted; the page says so instead of offering it.
        "owner_count": sum(1 for member in members if member.role == Role.OWNER),
        "invitations": selectors.invitation_list_pending(merchant=request.merchant),
        "form": form,
        "can_manage": can_manage,
        "roles": Role.choices,
    }


@require_POST
@merchant_view("manage_staff")
def staff_analytics(request: MerchantRequest) -> HttpResponse:
    """The owner lets managers see analytics, or not (a checkbox: absent means no)."""
    allowed = request.POST.get("managers_see_analytics") == "on"
    services.managers_analytics_set(merchant=request.merchant, allowed=allowed)
    messages.success(
        request, "Managers now see analytics." if allowed else "Managers no longer see analytics; owners still do."
    )
    return redirect("merchants:staff", slug=request.merchant.slug)


@require_POST
@merchant_view("manage_staff")
def staff_two_step(request: MerchantRequest) -> HttpResponse:
    """The owner requires two-step sign-in of every member, or leaves it to each (a checkbox: absent means no)."""
    required = request.POST.get("staff_two_step_required") == "on"
    try:
        changed = two_step.staff_two_step_require(
            merchant=request.merchant, required=required, by=request.user, ip_address=sign_in.ip_address(request)
        )
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        if not changed:
            messages.info(request, "Nothing changed.")
        elif required:
            messages.success(
                request,
                "Two-step sign-in is now required: staff without it are asked to set it up when they next sign in.",
            )
        else:
            messages.success(request, "Two-step sign-in is now each member's own choice.")
    return redirect("merchants:staff", slug=request.merchant.slug)


@require_POST
@merchant_view("manage_staff")
def staff_invite(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_create(
                merchant=merchant,
                invited_by=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            messages.error(request, error_message(error))
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("merchants:staff", slug=merchant.slug)
    else:
        messages.error(request, "Enter a valid e-mail address and a role.")
    return render(request, "dashboard/staff.html", _staff_context(request, form=form, can_manage=True), status=400)


@require_POST
@merchant_view("manage_staff")
def staff_invitation_revoke(request: MerchantRequest, invitation_id: int) -> HttpResponse:
    merchant = request.merchant
    try:
        services.invitation_revoke(merchant=merchant, invitation_id=invitation_id)
    except services.Invitation.DoesNotExist as error:
        raise Http404("No such invitation.") from error
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, "Invitation withdrawn.")
    return redirect("merchants:staff", slug=merchant.slug)


@require_POST
@merchant_view("manage_staff")
def staff_member_update(request: MerchantRequest, membership_id: int) -> HttpResponse:
    merchant = request.merchant
    form = RoleForm(request.POST)
    try:
        if request.POST.get("action") == "remove":
            services.membership_remove(merchant=merchant, membership_id=membership_id)
            messages.success(request, "Removed from the staff.")
        elif form.is_valid():
            services.membership_role_change(
                merchant=merchant, membership_id=membership_id, role=form.cleaned_data["role"]
            )
            messages.success(request, "Role changed.")
        else:
            messages.error(request, "Choose a role.")
    except Membership.DoesNotExist as error:
        raise Http404("No such member.") from error
    except ValidationError as error:
        messages.error(request, error_message(error))
    return redirect("merchants:staff", slug=merchant.slug)


@merchant_view("manage_devices")
def devices(request: MerchantRequest) -> HttpResponse:
    merchant = request.merchant
    store_qs = selectors.store_list(merchant=merchant)
    form = DeviceForm(request.POST or None, stores=store_qs)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, new_token = services.device_create(
                    merchant=merchant,
                    store_id=form.cleaned_data["store"].pk,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    created_by=request.user,
                )
            except ValidationError as error:
                messages.error(request, error_message(error))
                status = 400
            else:
                messages.success(request, f"{device.name} registered. Copy its token now: it is shown only once.")
                form = DeviceForm(stores=store_qs)
        else:
            status = 400
    return render(
        request,
        "dashboard/devices.html",
        {"devices": selectors.device_list(merchant=merchant), "form": form, "new_token": new_token},
        status=status,
    )


@require_POST
@merchant_view("manage_devices")
def device_revoke(request: MerchantRequest, device_id: int) -> HttpResponse:
    merchant = request.merchant
    device = selectors.device_get(merchant=merchant, device_id=device_id)
    services.device_revoke(merchant=merchant, device_id=device.pk)
    messages.success(request, f"{device.name}'s token is revoked; it can no longer send anything.")
    return redirect("merchants:devices", slug=merchant.slug)


@login_required
def api_tokens(request: AuthenticatedRequest) -> HttpResponse:
    """The user's personal API tokens: create (shown once), list, revoke."""
    form = ApiTokenForm(request.POST or None)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _token, new_token = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
            messages.success(request, "Token created. Copy it now: it is shown only once.")
            form = ApiTokenForm()
        else:
            status = 400
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": selectors.api_token_list(user=request.user), "form": form, "new_token": new_token},
        status=status,
    )


@require_POST
@login_required
def api_token_revoke(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    try:
        services.api_token_revoke(user=request.user, token_id=token_id)
    except services.ApiToken.DoesNotExist as error:
        raise Http404("No such token.") from error
    messages.success(request, "Token revoked.")
    return redirect("merchants:api_tokens")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation e-mail: sign up (or sign in) and join the shop's staff."""
    try:
        invitation = services.invitation_get_by_token(raw=token)
        services.invitation_check_usable(invitation=invitation)
    except services.InvitationError as error:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"message": error_message(error)},
            status=410 if error.code != "unknown" else 404,
        )
    existing = get_user_model().objects.filter(email__iexact=invitation.email).first()
    form = None
    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email:
            return render(
                request,
                "accounts/invitation_invalid.html",
                {"message": f"This invitation is for {invitation.email}. Sign out and open the link again."},
                status=403,
            )
    elif existing is None:
        form = SignUpForm(request.POST or None, email=invitation.email)
    if request.method == "POST":
        user = cast("User", request.user)  # replaced by the new account below when signed out
        if not request.user.is_authenticated:
            if existing is not None:
                return redirect(f"/accounts/login/?next={request.path}")
            assert form is not None
            if not form.is_valid():
                return render(
                    request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form}, status=400
                )
        try:
            # The new account and the membership land together or not at all.
            with transaction.atomic():
                if not request.user.is_authenticated:
                    assert form is not None
                    user = get_user_model().objects.create_user(
                        username=invitation.email,
                        email=invitation.email,
                        password=form.cleaned_data["password2"],
                        first_name=form.cleaned_data["first_name"],
                    )
                services.invitation_accept(raw=token, user=user)
        except services.InvitationError as error:
            return render(request, "accounts/invitation_invalid.html", {"message": error_message(error)}, status=410)
        if not request.user.is_authenticated:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {invitation.merchant.name}.")
        return redirect("analytics:overview", slug=invitation.merchant.slug)
    return render(
        request,
        "accounts/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "needs_login": existing is not None and not request.user.is_authenticated,
        },
    )
