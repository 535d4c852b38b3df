"""The owner's "Your data" page: download everything of the shop, and ask the platform to close it."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.http import MerchantRequest, error_message
from merchants import closure
from merchants.access import merchant_view
from merchants.data_export import merchant_export
from merchants.forms import CloseRequestForm

logger = logging.getLogger("lingshou.merchants")


def _page(request: MerchantRequest, form: CloseRequestForm, *, status: int = 200) -> HttpResponse:
    return render(
        request,
        "dashboard/data.html",
        {"form": form, "open_closure": closure.merchant_closure_open(merchant=request.merchant)},
        status=status,
    )


@merchant_view("manage_settings")
def data(request: MerchantRequest) -> HttpResponse:
    """Your data (owner only): the download, and the request to close the shop."""
    return _page(request, CloseRequestForm(slug=request.merchant.slug))


@merchant_view("manage_settings")
def data_export(request: MerchantRequest) -> StreamingHttpResponse:
    """Every row and file of the shop as one zip, streamed (owner only)."""
    merchant = request.merchant
    logger.info("merchant_export", extra={"merchant_id": merchant.pk, "user_id": request.user.pk})
    response = StreamingHttpResponse(merchant_export(merchant=merchant), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{merchant.slug}-{timezone.now():%Y-%m-%d}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@merchant_view("manage_settings")
def data_close_request(request: MerchantRequest) -> HttpResponse:
    """The owner asks the platform to close the shop; nothing is deleted until an operator executes it."""
    form = CloseRequestForm(request.POST, slug=request.merchant.slug)
    if form.is_valid():
        try:
            closure.merchant_close_request(
                merchant=request.merchant, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, error_message(error))
            return _page(request, form, status=400)
        messages.success(request, "Your request to close the shop is with the platform. Nothing is deleted yet.")
        return redirect("merchants:data", slug=request.merchant.slug)
    messages.error(request, "Nothing was requested: correct the fields marked below.")
    return _page(request, form, status=400)


@require_POST
@merchant_view("manage_settings")
def data_close_withdraw(request: MerchantRequest, closure_id: int) -> HttpResponse:
    """The owner withdraws the open request to close the shop."""
    if closure.merchant_close_withdraw(merchant=request.merchant, closure_id=closure_id):
        messages.success(request, "Your request to close the shop is withdrawn.")
        return redirect("merchants:data", slug=request.merchant.slug)
    messages.error(request, "There is no open request to close this shop.")
    return _page(request, CloseRequestForm(slug=request.merchant.slug), status=404)
