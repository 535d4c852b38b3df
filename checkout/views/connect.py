"""The owner connects the shop to Stripe (Connect Express) so that shoppers pay the shop directly; card readers;
the rules at the till (how much discount a clerk may give, the bottle machine's return slips)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from checkout import gateway
from checkout.services.connect import merchant_stripe_account_ensure
from core import inputs
from core.http import MerchantRequest, error_message
from merchants.access import merchant_view
from merchants.selectors import store_list
from merchants.services import till_settings_set as merchant_till_set


@merchant_view("manage_settings")
def payments_settings(request: MerchantRequest) -> HttpResponse:
    """Where the shop's card payments go, and the button that connects it to Stripe."""
    merchant = request.merchant
    ready = None
    problem = ""
    if merchant.stripe_account and not settings.STRIPE_API_BASE:
        try:
            ready = gateway.account_is_ready(account=merchant.stripe_account)
        except gateway.GatewayError as error:
            problem = str(error)
    return render(
        request,
        "dashboard/payments.html",
        {
            "localstripe": bool(settings.STRIPE_API_BASE),
            "ready": ready,
            "problem": problem,
            "fee_percent": settings.PLATFORM_FEE_BASIS_POINTS / 100,
            "stores": list(store_list(merchant=merchant)),
        },
    )


@require_POST
@merchant_view("manage_settings")
def stripe_reader_set(request: MerchantRequest) -> HttpResponse:
    """Set (or clear) the Stripe Terminal reader of one of the merchant's stores; validated, scoped."""
    back = reverse("checkout:payments_settings", kwargs={"slug": request.merchant.slug})
    store = store_list(merchant=request.merchant).filter(pk=inputs.id_or_none(request.POST.get("store")) or 0).first()
    if store is None:
        raise Http404("No such store.")
    store.stripe_reader = request.POST.get("reader", "").strip()
    try:
        store.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        messages.error(request, error_message(error))
        return redirect(back)
    store.save(update_fields=["stripe_reader"])
    messages.success(
        request,
        f"{store.name}: card reader {store.stripe_reader} saved."
        if store.stripe_reader
        else f"{store.name}: no card reader.",
    )
    return redirect(back)


@require_POST
@merchant_view("manage_settings")
def till_settings_set(request: MerchantRequest) -> HttpResponse:
    """Set the clerks' discount limit and the return slip prefix; owners only."""
    back = reverse("checkout:payments_settings", kwargs={"slug": request.merchant.slug})
    limit_text = request.POST.get("clerk_discount_limit", "").strip().rstrip("%").strip()
    if not (limit_text.isascii() and limit_text.isdigit() and len(limit_text) <= 3):
        messages.error(request, "The discount limit is a whole number of per cent, from 0 to 100.")
        return redirect(back)
    try:
        merchant_till_set(
            merchant=request.merchant,
            clerk_discount_limit=int(limit_text),
            deposit_slip_prefix=request.POST.get("deposit_slip_prefix", "")[:10],
        )
    except ValidationError as error:
        messages.error(request, error_message(error))
        return redirect(back)
    messages.success(request, "Saved: the rules at the till.")
    return redirect(back)


@require_POST
@merchant_view("manage_settings")
def stripe_connect(request: MerchantRequest) -> HttpResponse:
    """Create (once) the shop's Stripe account and send the owner to Stripe's onboarding."""
    back = reverse("checkout:payments_settings", kwargs={"slug": request.merchant.slug})
    if settings.STRIPE_API_BASE:
        messages.error(request, "Stripe Connect needs real Stripe keys; the demo's payments go to localstripe.")
        return redirect(back)
    first_store = store_list(merchant=request.merchant).first()
    country = first_store.country if first_store else "DE"
    try:
        account = merchant_stripe_account_ensure(merchant=request.merchant, email=request.user.email, country=country)
        url = gateway.account_link_create(
            account=account, refresh_url=request.build_absolute_uri(back), return_url=request.build_absolute_uri(back)
        )
    except gateway.GatewayError as error:
        messages.error(request, f"Stripe did not answer as expected: {error}")
        return redirect(back)
    return HttpResponseRedirect(url)
