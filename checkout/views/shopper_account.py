"""The optional shopper account: sign in by e-mail link, receipts from every shop, saved cards."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from checkout.models import ShopperCustomer
from checkout.services import shoppers
from merchants.tenancy import shopper_context


def account(request: HttpRequest) -> HttpResponse:
    """Signed out: ask for an e-mail address and send a link. Signed in: receipts, cards and settings."""
    shopper = shoppers.shopper_from_request(request)
    next_url = shoppers.next_url_clean(request.GET.get("next", "") or request.POST.get("next", ""))
    if shopper is None:
        status = 200
        sent_to = ""
        if request.method == "POST":
            email = request.POST.get("email", "")
            try:
                shoppers.shopper_sign_in_request(email=email, next_url=next_url)
            except shoppers.ShopperError as error:
                messages.error(request, error.messages[0])
                status = 429 if error.code == "too_many" else 400
            else:
                sent_to = email.strip().lower()
        return render(request, "shopper/account_sign_in.html", {"next": next_url, "sent_to": sent_to}, status=status)
    with shopper_context(shopper.pk):
        customers = list(
            ShopperCustomer.objects.filter(shopper=shopper).values("merchant_id", "stripe_account").order_by("pk")
        )
    shops = []
    for customer in customers:
        cards = shoppers.shopper_cards(
            shopper=shopper, merchant_id=customer["merchant_id"], stripe_account=customer["stripe_account"]
        )
        if cards:
            shops.append({**customer, "cards": cards})
    receipts = shoppers.shopper_receipts(shopper=shopper)
    names = {row["merchant_id"]: row["store"].merchant.name for row in receipts if row["store"] is not None}
    for shop in shops:
        shop["name"] = names.get(shop["merchant_id"], "A shop")
    return render(
        request,
        "shopper/account.html",
        {"shopper": shopper, "receipts": receipts, "shops": shops, "next": next_url},
    )


def sign_in(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link shows a button; only the POST uses it (mail scanners follow links, people press buttons)."""
    if request.method != "POST":
        return render(request, "shopper/account_sign_in_confirm.html", {"token": token})
    try:
        used = shoppers.shopper_sign_in_complete(raw=token)
    except shoppers.ShopperError as error:
        messages.error(request, error.messages[0])
        return render(request, "shopper/account_sign_in.html", {"next": "", "sent_to": ""}, status=400)
    shoppers.shopper_sign_in(request, used.shopper)
    messages.success(request, f"Signed in as {used.shopper.email}. Orders you place now are kept here.")
    return redirect(used.next_url or "checkout:shopper_account")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    shoppers.shopper_sign_out(request)
    messages.success(request, "Signed out. Receipts stay in your account for the next time.")
    return redirect("checkout:shopper_account")


@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    """Switch keeping cards on or off (cards already kept stay until forgotten one by one)."""
    shopper = shoppers.shopper_from_request(request)
    if shopper is None:
        return redirect("checkout:shopper_account")
    saves = request.POST.get("saves_cards") == "on"
    shoppers.shopper_preferences_set(shopper=shopper, saves_cards=saves)
    messages.success(
        request,
        "Stripe will keep the cards you pay with from now on." if saves else "New cards will not be kept.",
    )
    return redirect("checkout:shopper_account")


@require_POST
def card_forget(request: HttpRequest) -> HttpResponse:
    """Forget one saved card; only the shopper's own cards can be named."""
    shopper = shoppers.shopper_from_request(request)
    if shopper is None:
        return redirect("checkout:shopper_account")
    try:
        merchant_id = int(request.POST.get("merchant", ""))
    except ValueError:
        merchant_id = 0
    forgotten = shoppers.shopper_card_forget(
        shopper=shopper,
        merchant_id=merchant_id,
        stripe_account=request.POST.get("account", ""),
        payment_method=request.POST.get("card", ""),
    )
    if forgotten:
        messages.success(request, "The card is forgotten.")
        return redirect("checkout:shopper_account")
    messages.error(request, "No such card in your account.")
    return redirect("checkout:shopper_account")
