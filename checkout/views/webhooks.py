"""Stripe's webhook: verified here, applied once by the payments service."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from checkout import gateway
from checkout.services.payments import webhook_event_process
from checkout.webhook_events import EventPayloadError

logger = logging.getLogger("lingshou.checkout")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: verified, applied once each, in any order; 400 for a bad signature."""
    try:
        event = gateway.webhook_event_parse(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature")
        )
    except gateway.WebhookSignatureError as error:
        return JsonResponse({"error": {"code": "bad_signature", "message": str(error)}}, status=400)
    try:
        applied = webhook_event_process(event=event)
    except EventPayloadError as error:
        # Signed by us but not applicable: refused, and not recorded, so nothing is marked processed.
        logger.warning("webhook_event_refused", extra={"event": str(event.get("id"))[:255], "reason": str(error)})
        return JsonResponse({"error": {"code": "bad_event", "message": str(error)}}, status=400)
    return JsonResponse({"received": True, "applied": applied})
