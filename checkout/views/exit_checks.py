"""The clerk's exit check: scan a shopper's exit pass, confirm an age check."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from checkout.models import Order
from checkout.services.exit_passes import exit_pass_use
from checkout.services.orders import age_check_confirm
from core.http import MerchantRequest
from merchants.access import merchant_view


@merchant_view("sell")
def exit_check(request: MerchantRequest) -> HttpResponse:
    """The clerk scans a shopper's exit pass: paid / not paid / already used / age check needed."""
    result = None
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "age_ok":
            order = Order.objects.filter(merchant=request.merchant, pk=request.POST.get("order") or 0).first()
            if order is None:
                raise Http404("No such order.")
            age_check_confirm(order=order, clerk=request.user)
            messages.success(request, f"Age checked for order {order.number}. Scan the pass again.")
            return redirect("checkout:exit_check", slug=request.merchant.slug)
        result = exit_pass_use(
            merchant_id=request.merchant.pk, token=request.POST.get("token", "").strip(), used_by=request.user
        )
        status = 200 if result.status == "ok" else 409
    return render(request, "dashboard/exit_check.html", {"result": result}, status=status)
