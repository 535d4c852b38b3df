"""The counter's two JSON endpoints for selling while Lingshou cannot be reached (static/js/counter_offline.js).

- the price list the page keeps in the browser, with a version the page sends back
  (If-None-Match) to hear 304 while nothing changed;
- booking one sale the till rang up offline: the dashboard session, its CSRF token and the
  counter's own permission, as for a cash sale at the till. Answers 200 with the order (also
  for a sale sent again: it was booked once), 400 for a body that is not a sale, 404 for a
  shift that is not the merchant's, and 409 with the reason (and the refused lines) for a sale
  that cannot be booked as it was rung up. Every error is ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from checkout.selectors import counter as counter_selectors
from checkout.selectors.counter_offline import counter_price_list
from checkout.services.counter import MAX_LINE_QUANTITY
from checkout.services.counter_offline import (
    OfflineBooking,
    OfflineLine,
    OfflineSaleIn,
    OfflineSaleRefused,
    offline_problem_json,
    offline_sale_book,
)
from core.api import error_body
from core.http import MerchantRequest, error_message
from merchants.access import merchant_view
from merchants.selectors import store_pick

# A sale at a kiosk till is a handful of lines; a body far beyond that is not a till's.
MAX_LINES = 200
MAX_CODE_LENGTH = 64
# Larger than any sale a kiosk rings up (a million in minor units): a bigger figure is a typo or worse.
MAX_AMOUNT = 100_000_000


class _Invalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _whole(value: Any, field: str, *, low: int, high: int) -> int:
    # bool is an int to Python; true is no quantity.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _Invalid(field, f"{field} must be a whole number from {low} to {high}.")
    return value


def _sale_parse(body: bytes) -> OfflineSaleIn:
    """The sale in a till's JSON body, or _Invalid naming the first field that is wrong."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise _Invalid("body", "The body is not JSON.") from error
    if not isinstance(data, dict):
        raise _Invalid("body", "The body must be a JSON object with the sale.")
    try:
        client_id = uuid.UUID(str(data.get("client_id", "")))
    except ValueError as error:
        raise _Invalid("client_id", "client_id must be the sale's UUID.") from error
    lines = data.get("lines")
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise _Invalid("lines", f"lines must be a list of 1 to {MAX_LINES} lines.")
    parsed = []
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        if not isinstance(line, dict):
            raise _Invalid(where, f"{where} must be an object with code, quantity and unit_price.")
        code = line.get("code")
        if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE_LENGTH:
            raise _Invalid(
                f"{where}.code", f"{where}.code must be the code scanned (1 to {MAX_CODE_LENGTH} characters)."
            )
        parsed.append(
            OfflineLine(
                code=code.strip(),
                quantity=_whole(line.get("quantity"), f"{where}.quantity", low=1, high=MAX_LINE_QUANTITY),
                unit_price=_whole(line.get("unit_price"), f"{where}.unit_price", low=0, high=MAX_AMOUNT),
                deposit=None
                if line.get("deposit") is None
                else _whole(line.get("deposit"), f"{where}.deposit", low=0, high=MAX_AMOUNT),
            )
        )
    made_at = parse_datetime(data["made_at"]) if isinstance(data.get("made_at"), str) else None
    if made_at is None or made_at.tzinfo is None:
        raise _Invalid("made_at", "made_at must be the time of the sale in ISO 8601 with its offset (…Z).")
    age_checked = data.get("age_checked", False)
    if not isinstance(age_checked, bool):
        raise _Invalid("age_checked", "age_checked must be true or false.")
    replaces = data.get("replaces")
    return OfflineSaleIn(
        client_id=client_id,
        lines=parsed,
        total=_whole(data.get("total"), "total", low=0, high=MAX_AMOUNT),
        tendered=_whole(data.get("tendered"), "tendered", low=0, high=MAX_AMOUNT),
        made_at=made_at,
        age_checked=age_checked,
        replaces=None if replaces is None else _whole(replaces, "replaces", low=1, high=2**63 - 1),
    )


def _booking_json(request: MerchantRequest, booking: OfflineBooking) -> dict[str, Any]:
    order, payment = booking.order, booking.payment
    message = (
        f"Sale {order.number} was booked when this till first sent it; nothing was changed."
        if booking.replayed
        else f"Booked as sale {order.number}."
    )
    return {
        "replayed": booking.replayed,
        "message": message,
        "order": {
            "id": order.pk,
            "number": order.number,
            "total": order.total,
            "tendered": payment.amount_tendered,
            "change_given": payment.change_given,
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "receipt_url": reverse("checkout:counter_receipt", args=[request.merchant.slug, order.pk]),
            "lines": [
                {"name": line.name, "quantity": line.quantity, "unit_price": line.unit_price, "total": line.line_total}
                for line in booking.lines
            ],
        },
    }


@require_GET
@merchant_view("sell")
def price_list(request: MerchantRequest) -> HttpResponse:
    """The store's price list for the till to keep; 304 when the version the till holds is still current."""
    store = store_pick(merchant=request.merchant, wanted=request.GET.get("store"))
    prices = counter_price_list(merchant=request.merchant, store=store)
    if request.headers.get("If-None-Match") == prices.version:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(prices.body, content_type="application/json")
    response["ETag"] = prices.version
    # The browser's own cache must not answer for the server: the till asks to learn it is online.
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
@merchant_view("sell")
def offline_sale(request: MerchantRequest, shift_id: int) -> JsonResponse:
    """Book one sale the till rang up while offline: whole or not at all, once per till id."""
    shift = counter_selectors.shift_get(merchant=request.merchant, shift_id=shift_id)
    if shift is None:
        return JsonResponse(error_body("not_found", "No such shift."), status=404)
    try:
        sale = _sale_parse(request.body)
    except _Invalid as error:
        return JsonResponse(error_body("invalid", str(error), {error.field: [str(error)]}), status=400)
    try:
        booking = offline_sale_book(shift=shift, clerk=request.user, sale=sale)
    except OfflineSaleRefused as refused:
        body = error_body(refused.code or "refused", error_message(refused))
        body["error"]["lines"] = [offline_problem_json(problem) for problem in refused.lines]
        return JsonResponse(body, status=409)
    except ValidationError as error:
        body = error_body(getattr(error, "code", None) or "refused", error_message(error))
        body["error"]["lines"] = []
        return JsonResponse(body, status=409)
    return JsonResponse(_booking_json(request, booking))
