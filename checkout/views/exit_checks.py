"""The clerk's exit check: scan a shopper's exit pass (USB scanner or the phone's camera), confirm an age check."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from checkout.models import Order, OrderLine
from checkout.services.exit_passes import exit_pass_use
from checkout.services.orders import age_check_confirm
from core.csp import scanner_csp
from core.http import MerchantRequest
from merchants.access import merchant_view

# A pass token is a JWT of a few hundred characters; anything far longer is not one.
PASS_MAX_LENGTH = 2000


@scanner_csp
@merchant_view("sell")
def exit_check(request: MerchantRequest) -> HttpResponse:
    """The clerk scans a shopper's exit pass: paid (with the items to compare with the bag) / already used /
    not valid / not paid / age check needed."""
    result = None
    lines: list[OrderLine] = []
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "age_ok":
            order_id = request.POST.get("order", "")
            order = (
                Order.objects.filter(merchant=request.merchant, pk=int(order_id)).first()
                if order_id.isascii() and order_id.isdigit() and len(order_id) <= 18
                else None
            )
            if order is None:
                raise Http404("No such order.")
            age_check_confirm(order=order, clerk=request.user)
            messages.success(request, f"Age checked for order {order.number}. Scan the pass again.")
            return redirect("checkout:exit_check", slug=request.merchant.slug)
        result = exit_pass_use(
            merchant_id=request.merchant.pk,
            token=request.POST.get("token", "").strip()[:PASS_MAX_LENGTH],
            used_by=request.user,
        )
        if result.status == "ok" and result.order is not None:
            # What the pass paid for, so the clerk can compare it with the bag.
            lines = list(OrderLine.objects.of_order(result.order).order_by("pk"))
        status = 200 if result.status == "ok" else 409
    context = {"result": result, "lines": lines, "units": sum(line.quantity for line in lines)}
    return render(request, "dashboard/exit_check.html", context, status=status)
