"""Stripe as the rest of Lingshou sees it: PaymentIntents (Connect direct charges), refunds,
signed webhook events and Express onboarding, through one configured ``stripe.StripeClient``.

Framework-light: Django settings are the only Django import, read on every call with
``getattr(settings, NAME, default)`` so that tests and the demo can switch them:

- ``STRIPE_SECRET_KEY``, ``STRIPE_PUBLISHABLE_KEY``, ``STRIPE_WEBHOOK_SECRET``
- ``STRIPE_CONNECT_WEBHOOK_SECRET`` (optional): the Connect endpoint's, for connected accounts' events
- ``STRIPE_API_BASE``: empty for api.stripe.com, ``http://127.0.0.1:8420`` for localstripe
- ``PLATFORM_FEE_BASIS_POINTS``: the platform's cut of a direct charge (150 = 1.5 %)
- ``STRIPE_TIMEOUT_SECONDS`` (optional, 6): waiting for an answer; ``STRIPE_CONNECT_TIMEOUT_SECONDS`` (3):
  for the connection, retried twice; a timed-out read is not retried, and Stripe is then not asked for
  30 s (checkout.stripe_http)

Every write carries the caller's idempotency key and the client reuses it on its own retries,
so a call that timed out after Stripe acted is answered with the first result, not done twice.

Errors: ``GatewayError`` (a human-readable ``message``; Stripe refused: do not retry),
``GatewayUnavailable`` (network, 429 or 5xx after the retries: retry later with the same key; ``retry_after``),
``WebhookSignatureError`` (answer 400). A declined card is not an exception: the returned
``Intent`` has a status other than "succeeded" and ``last_error`` set.

localstripe (https://github.com/adrienverge/localstripe) stands in for Stripe in the demo and
tests. It knows no Connect, no ``automatic_payment_methods`` and ignores ``Idempotency-Key``;
where the code differs for it, ``_uses_localstripe()`` says so. Registering localstripe's webhook
is the demo's business (``checkout.localstripe_run``); the test card tables are data
(``checkout.stripe_test_cards``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from stripe.params import (
    AccountCreateParams,
    AccountLinkCreateParams,
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentIntentUpdateParams,
    RefundCreateParams,
)

from checkout import stripe_http
from checkout.stripe_test_cards import (
    LOCALSTRIPE_CHARGE_DECLINE,
    LOCALSTRIPE_DECLINES_ONLY_ON_ATTACH,
    TEST_CARD_PAYMENT_METHODS,
)

MAX_NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300
STRIPE_JS_URL = "https://js.stripe.com/v3/"

# Confirming server-side with automatic payment methods needs a return URL in case a method
# redirects; test cards never do (3-D Secure ones stop at requires_action instead).
_TEST_CONFIRM_RETURN_URL = "https://example.com/lingshou/test-confirm-return"


class GatewayError(Exception):
    """Stripe refused or the gateway is misconfigured; ``message`` says why in plain words."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or failed (network, 429, 5xx) even after the retries."""

    retry_after = stripe_http.PAUSE_SECONDS


class WebhookSignatureError(GatewayError):
    """A webhook body that is not provably Stripe's, fresh and intact."""


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    status: str
    amount: int
    currency: str
    amount_received: int
    last_error: str | None


# --- settings and the client ---


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _uses_localstripe() -> bool:
    return bool(_setting("STRIPE_API_BASE", ""))


def _secret_key() -> str:
    key: str = _setting("STRIPE_SECRET_KEY", "")
    if not key:
        raise GatewayError("STRIPE_SECRET_KEY is not set.")
    return key


def _client() -> stripe.StripeClient:
    base = _setting("STRIPE_API_BASE", "")
    connect = float(_setting("STRIPE_CONNECT_TIMEOUT_SECONDS", stripe_http.CONNECT_TIMEOUT_SECONDS))
    read = float(_setting("STRIPE_TIMEOUT_SECONDS", stripe_http.READ_TIMEOUT_SECONDS))
    return stripe.StripeClient(
        _secret_key(),
        base_addresses={"api": base} if base else None,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe_http.http_client(connect, read, os.getpid()),
    )


def _options(*, idempotency_key: str | None = None, connected_account: str | None = None) -> stripe.RequestOptions:
    options: stripe.RequestOptions = {}
    if idempotency_key is not None:
        if not idempotency_key:
            raise GatewayError("An idempotency key must not be empty.")
        options["idempotency_key"] = idempotency_key
    if connected_account:
        if _uses_localstripe():
            raise GatewayError("localstripe has no connected accounts; use real Stripe test keys for Connect.")
        options["stripe_account"] = connected_account
    return options


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Turns the stripe library's exceptions into the gateway's two kinds; at once while Stripe is unreachable."""
    if stripe_http.breaker.opened:
        raise GatewayUnavailable("Payments are not answering; please try again in a minute.", code="unreachable")
    try:
        with stripe_http.breaker:
            yield
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
        raise GatewayUnavailable(f"Stripe is unavailable: {error.user_message or error}", code=error.code) from error
    except stripe.StripeError as error:
        raise GatewayError(error.user_message or str(error), code=error.code) from error


def _amount_received(data: dict[str, Any]) -> int:
    if "amount_received" in data:
        return int(data["amount_received"] or 0)
    # localstripe leaves amount_received out; it embeds the charge instead.
    charge = data.get("latest_charge")
    if isinstance(charge, dict) and charge.get("status") == "succeeded" and charge.get("captured"):
        return int(charge["amount"])
    return 0


def _intent_from(data: dict[str, Any]) -> Intent:
    error = data.get("last_payment_error") or {}
    return Intent(
        id=data["id"],
        client_secret=data.get("client_secret") or "",
        status=data["status"],
        amount=int(data["amount"]),
        currency=str(data["currency"]).lower(),
        amount_received=_amount_received(data),
        last_error=(error.get("message") or error.get("code") or error.get("type")) if error else None,
    )


# --- public API ---


def test_cards_enabled() -> bool:
    """Whether the pay page may offer Stripe's test cards: localstripe, or Stripe in test mode (sk_test_)."""
    return _uses_localstripe() or str(_setting("STRIPE_SECRET_KEY", "")).startswith("sk_test_")


def payment_element_enabled() -> bool:
    """Whether the pay page shows Stripe's Payment Element: real Stripe with a real publishable key.

    localstripe's stand-in Stripe.js has no Payment Element, and the demo's placeholder key is not a key.
    """
    key = publishable_key_get()
    return not _uses_localstripe() and key.startswith(("pk_test_", "pk_live_")) and not key.endswith("_lingshou_demo")


def publishable_key_get() -> str:
    """The publishable key for Stripe.js; empty when unset."""
    return str(_setting("STRIPE_PUBLISHABLE_KEY", ""))


def js_url_get() -> str:
    """Where the page loads Stripe.js from: localstripe's stand-in when it is configured."""
    base = _setting("STRIPE_API_BASE", "")
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else STRIPE_JS_URL


def platform_fee_get(*, amount: int) -> int:
    """The platform's application fee for a charge of ``amount`` minor units, rounded down."""
    return amount * int(_setting("PLATFORM_FEE_BASIS_POINTS", 0)) // 10000


def intent_create(
    *,
    amount: int,
    currency: str,
    idempotency_key: str,
    metadata: dict[str, str],
    connected_account: str | None,
    customer: str | None = None,
    save_card: bool = False,
) -> Intent:
    """Creates one PaymentIntent per idempotency key (a repeat returns the first), on the connected account if given.

    With ``customer`` the payment belongs to a signed-in shopper; ``save_card`` asks Stripe to keep
    the card on that customer for their next visit (Stripe stores it, Lingshou never sees it).
    """
    params: PaymentIntentCreateParams = {"amount": amount, "currency": currency.lower(), "metadata": metadata}
    if customer:
        params["customer"] = customer
        if save_card and not _uses_localstripe():
            # localstripe refuses this parameter; there the card is attached when it is confirmed.
            params["setup_future_usage"] = "on_session"
    if _uses_localstripe():
        # Stripe's current API calls this allowed_payment_method_types; localstripe knows the old name.
        params["payment_method_types"] = ["card"]  # type: ignore[typeddict-unknown-key]
    else:
        # The Payment Element offers what the account enabled: cards, Apple Pay, Google Pay, ...
        params["automatic_payment_methods"] = {"enabled": True}
    return _intent_post(params, idempotency_key=idempotency_key, connected_account=connected_account)


def _intent_post(params: PaymentIntentCreateParams, *, idempotency_key: str, connected_account: str | None) -> Intent:
    """Create the PaymentIntent; on a connected account (a direct charge) with the platform's fee."""
    if connected_account:
        params["application_fee_amount"] = platform_fee_get(amount=int(params["amount"]))
    options = _options(idempotency_key=idempotency_key, connected_account=connected_account)
    with _stripe_errors():
        intent = _client().v1.payment_intents.create(params=params, options=options)
    return _intent_from(intent.to_dict())


def intent_retrieve(*, intent_id: str, connected_account: str | None) -> Intent:
    """The PaymentIntent as Stripe has it now (read-only)."""
    with _stripe_errors():
        intent = _client().v1.payment_intents.retrieve(intent_id, options=_options(connected_account=connected_account))
    return _intent_from(intent.to_dict())


def intent_confirm_with_test_card(
    *,
    intent_id: str,
    card_number: str,
    connected_account: str | None,
    customer: str | None = None,
    save_card: bool = False,
) -> Intent:
    """Confirms server-side with a Stripe test card, in test mode only; a decline comes back as an Intent, not raised.

    With ``customer`` and ``save_card`` the card is kept on the customer for later payments.
    """
    key = _secret_key()
    if key.startswith(("sk_live_", "rk_live_")) or not (_uses_localstripe() or key.startswith("sk_test_")):
        raise GatewayError("Test cards are only for localstripe or Stripe test mode (sk_test_ keys).")
    number = card_number.replace(" ", "")
    # Retried declines must reach Stripe again, so no fixed idempotency key here: the client's
    # own per-call key still covers its network retries.
    options = _options(connected_account=connected_account)
    client = _client()
    with _stripe_errors():
        try:
            if _uses_localstripe():
                # localstripe answers 500 "Not implemented" to confirm(payment_method=...).
                if number in LOCALSTRIPE_DECLINES_ONLY_ON_ATTACH:
                    number = LOCALSTRIPE_CHARGE_DECLINE
                expires = dt.datetime.now(tz=dt.UTC).year + 3
                method = client.v1.payment_methods.create(
                    params={
                        "type": "card",
                        "card": {"number": number, "exp_month": 12, "exp_year": expires, "cvc": "123"},
                    },
                    options=options,
                )
                update: PaymentIntentUpdateParams = {"payment_method": method.id}
                if customer:
                    update["customer"] = customer
                    if save_card:
                        client.v1.payment_methods.attach(method.id, params={"customer": customer}, options=options)
                client.v1.payment_intents.update(intent_id, params=update, options=options)
                client.v1.payment_intents.confirm(intent_id, options=options)
            else:
                if number not in TEST_CARD_PAYMENT_METHODS:
                    raise GatewayError(f"No Stripe test payment method is known for card number {number}.")
                params: PaymentIntentConfirmParams = {
                    "payment_method": TEST_CARD_PAYMENT_METHODS[number],
                    "return_url": _TEST_CONFIRM_RETURN_URL,
                }
                if customer and save_card:
                    params["setup_future_usage"] = "on_session"
                client.v1.payment_intents.confirm(intent_id, params=params, options=options)
        except stripe.CardError:
            pass  # a decline (402) is recorded on the intent as last_payment_error: read back below
    return intent_retrieve(intent_id=intent_id, connected_account=connected_account)


def intent_confirm_with_saved_card(
    *, intent_id: str, payment_method: str, customer: str, connected_account: str | None
) -> Intent:
    """Pays the intent with a card the shopper saved earlier, at their tap; a decline comes back as an Intent."""
    options = _options(connected_account=connected_account)
    client = _client()
    with _stripe_errors():
        # The card must be this customer's: Stripe refuses another customer's payment method.
        client.v1.payment_intents.update(
            intent_id, params={"customer": customer, "payment_method": payment_method}, options=options
        )
        try:
            params: PaymentIntentConfirmParams = {} if _uses_localstripe() else {"return_url": _TEST_CONFIRM_RETURN_URL}
            client.v1.payment_intents.confirm(intent_id, params=params, options=options)
        except stripe.CardError:
            pass
    return intent_retrieve(intent_id=intent_id, connected_account=connected_account)


def terminal_intent_create(
    *, amount: int, currency: str, idempotency_key: str, metadata: dict[str, str], connected_account: str | None
) -> Intent:
    """A PaymentIntent for a card presented at a Stripe Terminal reader; once per idempotency key."""
    params: PaymentIntentCreateParams = {
        "amount": amount,
        "currency": currency.lower(),
        "metadata": metadata,
        # This API version's name for payment_method_types; the reader takes card_present only.
        "allowed_payment_method_types": ["card_present"],
        "capture_method": "automatic",
    }
    return _intent_post(params, idempotency_key=idempotency_key, connected_account=connected_account)


def reader_process_intent(*, reader: str, intent_id: str, connected_account: str | None) -> str:
    """Hand the PaymentIntent to the reader, which asks for the card; returns the reader's action status."""
    with _stripe_errors():
        answer = _client().v1.terminal.readers.process_payment_intent(
            reader, params={"payment_intent": intent_id}, options=_options(connected_account=connected_account)
        )
    action = answer.to_dict().get("action") or {}
    return str(action.get("status") or "in_progress")


def reader_cancel(*, reader: str, connected_account: str | None) -> None:
    """Stop whatever the reader is asking the shopper for."""
    with _stripe_errors():
        _client().v1.terminal.readers.cancel_action(reader, options=_options(connected_account=connected_account))


def intent_cancel(*, intent_id: str, connected_account: str | None) -> str:
    """Cancel a PaymentIntent that has not succeeded; returns its status afterwards (``succeeded`` if too late)."""
    client = _client()
    options = _options(connected_account=connected_account)
    with _stripe_errors():
        try:
            intent = client.v1.payment_intents.cancel(intent_id, options=options)
        except stripe.InvalidRequestError:
            # Already succeeded (or cancelled): Stripe refuses; what it is now decides.
            intent = client.v1.payment_intents.retrieve(intent_id, options=options)
    return str(intent.status)


@dataclass(frozen=True)
class SavedCard:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


def customer_create(*, email: str, idempotency_key: str, connected_account: str | None) -> str:
    """Creates the Stripe customer that keeps a shopper's cards at one merchant; once per idempotency key."""
    options = _options(idempotency_key=idempotency_key, connected_account=connected_account)
    with _stripe_errors():
        customer = _client().v1.customers.create(params={"email": email}, options=options)
    return str(customer.id)


def cards_list(*, customer: str, connected_account: str | None) -> list[SavedCard]:
    """The cards Stripe keeps for the customer, newest first (read-only)."""
    options = _options(connected_account=connected_account)
    with _stripe_errors():
        methods = _client().v1.payment_methods.list(params={"customer": customer, "type": "card"}, options=options)
    cards = []
    for method in methods.data:
        card = method.to_dict().get("card") or {}
        cards.append(
            SavedCard(
                id=str(method.id),
                brand=str(card.get("brand") or "card").title(),
                last4=str(card.get("last4") or ""),
                exp_month=int(card.get("exp_month") or 0),
                exp_year=int(card.get("exp_year") or 0),
            )
        )
    return cards


def card_forget(*, payment_method: str, connected_account: str | None) -> None:
    """Detaches a saved card from its customer: Stripe no longer offers it."""
    with _stripe_errors():
        _client().v1.payment_methods.detach(payment_method, options=_options(connected_account=connected_account))


def refund_create(*, intent_id: str, amount: int | None, idempotency_key: str, connected_account: str | None) -> str:
    """Refunds ``amount`` (None: what is left) of a PaymentIntent, once per idempotency key; returns the refund id."""
    params: RefundCreateParams = {"payment_intent": intent_id}
    if amount is not None:
        params["amount"] = amount
    options = _options(idempotency_key=idempotency_key, connected_account=connected_account)
    with _stripe_errors():
        refund = _client().v1.refunds.create(params=params, options=options)
    return str(refund.id)


def webhook_event_parse(*, payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """The event as a plain dict, only if signed by one of our endpoints' secrets within 300 s over these exact bytes."""
    # Direct charges happen on the connected accounts: their events reach us through a second,
    # "Connect" endpoint with a secret of its own, possibly at the same URL.
    secrets = [s for s in (_setting("STRIPE_WEBHOOK_SECRET", ""), _setting("STRIPE_CONNECT_WEBHOOK_SECRET", "")) if s]
    if not secrets:
        # Misconfiguration is the server's fault (5xx, Stripe retries), not the sender's (400).
        raise GatewayError("STRIPE_WEBHOOK_SECRET is not set.")
    if not signature_header:
        raise WebhookSignatureError("The Stripe-Signature header is missing.")
    refusals: list[stripe.SignatureVerificationError] = []
    for secret in secrets:
        try:
            event = stripe.Webhook.construct_event(
                payload, signature_header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as error:
            refusals.append(error)
            continue
        except (UnicodeDecodeError, ValueError, TypeError, AttributeError) as error:
            # json.JSONDecodeError is a ValueError; a JSON value that is no object ends up as the others.
            raise WebhookSignatureError(f"The webhook body is not a Stripe event: {error}") from error
        return event.to_dict()
    raise WebhookSignatureError(f"Bad webhook signature: {refusals[0].user_message}") from refusals[0]


def account_create(*, email: str, country: str, idempotency_key: str | None = None) -> str:
    """Creates an Express account (once per ``idempotency_key``, if given) and returns its id.

    Pass a key scoped to the merchant, e.g. ``f"merchant-{merchant.id}-stripe-account"``, so a
    double-submitted onboarding form leaves no orphan account. Never derive it from the email:
    another merchant giving the same address would be handed this account.
    """
    params: AccountCreateParams = {
        "type": "express",
        "email": email,
        "country": country.upper(),
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
    }
    # Without a key the client still sends one of its own, the same on each of its retries.
    options = _options(idempotency_key=idempotency_key) if idempotency_key is not None else None
    with _stripe_errors():
        account = _client().v1.accounts.create(params=params, options=options)
    return str(account.id)


def account_link_create(*, account: str, refresh_url: str, return_url: str) -> str:
    """A fresh, single-use onboarding URL for an Express account."""
    # No fixed idempotency key: a replayed link would be one already used or expired.
    params: AccountLinkCreateParams = {
        "account": account,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "type": "account_onboarding",
    }
    with _stripe_errors():
        link = _client().v1.account_links.create(params=params)
    return str(link.url)


def account_is_ready(*, account: str) -> bool:
    """True once Stripe lets the connected account take charges (charges_enabled)."""
    with _stripe_errors():
        data = _client().v1.accounts.retrieve(account).to_dict()
    return bool(data.get("charges_enabled"))
