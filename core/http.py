"""Web plumbing every view shares: typed requests, page-or-partial rendering, one-line error messages.

The shape of a mutation view, used everywhere: bind a form, call one service, and turn its
``ValidationError`` into a message with status 400 (or, for an htmx swap of a row, the row's
partial with status 409 when the object changed state under the user); on success redirect, or
swap the partial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from merchants.models import Membership, Merchant


class AuthenticatedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


class MerchantRequest(AuthenticatedRequest):
    """A request that merchant_view let through: the merchant and the member's role are resolved."""

    merchant: Merchant
    membership: Membership
    # Which navigation entry to mark current, when the URL name does not say.
    dashboard_section: str


def is_partial(request: HttpRequest) -> bool:
    """htmx asked for a fragment: a swap of part of the page, not a boosted whole-page navigation."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted  # type: ignore[union-attr]


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, partial: str, status: int = 200
) -> HttpResponse:
    """The whole page, or only its ``{% partialdef partial %}`` when htmx asks for a fragment."""
    name = f"{template}#{partial}" if is_partial(request) else template
    return render(request, name, context, status=status)


def content_length(request: HttpRequest) -> int:
    """The body's declared length; 0 when the header is missing or no number, as Django itself reads it."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def error_message(error: ValidationError) -> str:
    """A validation error as one line for a flash message or a form."""
    if hasattr(error, "error_dict"):
        return "; ".join(str(m) for messages in error.message_dict.values() for m in messages)
    return error.messages[0] if error.messages else "That did not work."
