"""Optional shopper accounts: sign in by an e-mail link, keep receipts, and let Stripe keep cards.

A shopper never needs an account to buy. One who signs in gets every later order listed among
their receipts (in any shop on the platform) and, if they switch it on, their cards kept by
Stripe on a customer per merchant (on the merchant's connected account, where direct charges
happen). Lingshou stores no card data: the list of cards is read from Stripe each time.

The sign-in link carries a random secret; only its SHA-256 is stored. It works once, for
SIGN_IN_VALID_FOR, and opening it shows a button rather than signing in on GET, so that mail
scanners that follow links do not use it up.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from checkout import gateway
from checkout.models import Order, Shopper, ShopperCustomer, ShopperSignIn
from merchants.models import Store
from merchants.tenancy import merchant_context, shopper_context

logger = logging.getLogger("lingshou.checkout")

SESSION_KEY = "shopper_id"
SIGN_IN_VALID_FOR = timedelta(minutes=20)
# Links per address per hour: enough for a lost e-mail or two, too few to flood an inbox.
SIGN_IN_LIMIT_PER_HOUR = 5


class ShopperError(ValidationError):
    """A shopper-account request that was refused; nothing changed; the message says why."""


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def next_url_clean(next_url: str) -> str:
    """A shopper page to return to after signing in; anything else becomes the account page."""
    if next_url.startswith("/s/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        return next_url[:200]
    return ""


def shopper_sign_in_request(*, email: str, next_url: str = "") -> str:
    """Create (or find) the shopper and e-mail a one-time sign-in link after commit; returns the raw secret.

    Atomic. Refuses an address that is not an e-mail address, and more than
    SIGN_IN_LIMIT_PER_HOUR links per address per hour (ShopperError, nothing sent).
    """
    from checkout.tasks import shopper_sign_in_send

    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ShopperError("Enter an e-mail address like name@example.com.", code="invalid_email") from error
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        try:
            with transaction.atomic():
                shopper, _ = Shopper.objects.get_or_create(email=email)
        except IntegrityError:
            shopper = Shopper.objects.get(email=email)  # created by a concurrent request a moment ago
        shopper = Shopper.objects.select_for_update().get(pk=shopper.pk)
        recent = ShopperSignIn.objects.filter(shopper=shopper, created_at__gte=timezone.now() - timedelta(hours=1))
        if recent.count() >= SIGN_IN_LIMIT_PER_HOUR:
            raise ShopperError(
                "We sent several sign-in links to this address in the last hour. Use the newest one, "
                "or try again later.",
                code="too_many",
            )
        sign_in = ShopperSignIn.objects.create(
            shopper=shopper,
            token_hash=_hash(raw),
            next_url=next_url_clean(next_url),
            expires_at=timezone.now() + SIGN_IN_VALID_FOR,
        )
        # Not through the outbox, on purpose: with the broker away the publish raises after the commit and the
        # request answers 503, which is right here: the shopper asks for a link again (the unsent one counts
        # towards the hourly limit, which is why it is a few). A relayed link would arrive late, and keeping
        # the raw token in a table until then would save nothing the shopper cannot redo.
        transaction.on_commit(lambda: shopper_sign_in_send.delay(sign_in.pk, raw))
    return raw


def shopper_sign_in_complete(*, raw: str) -> ShopperSignIn:
    """Use a sign-in link once (compare-and-swap on ``used_at``); ShopperError when unknown, used or expired."""
    now = timezone.now()
    sign_in = ShopperSignIn.objects.select_related("shopper").filter(token_hash=_hash(raw)).first()
    if sign_in is None:
        raise ShopperError("This sign-in link is not valid. Ask for a new one.", code="invalid_link")
    if sign_in.used_at is not None:
        raise ShopperError("This sign-in link was already used. Ask for a new one.", code="used_link")
    if sign_in.expires_at <= now:
        raise ShopperError("This sign-in link has expired. Ask for a new one.", code="expired_link")
    with transaction.atomic():
        used = ShopperSignIn.objects.filter(pk=sign_in.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
        if not used:
            raise ShopperError("This sign-in link was already used. Ask for a new one.", code="used_link")
        Shopper.objects.filter(pk=sign_in.shopper_id).update(last_signed_in_at=now)
    return sign_in


def shopper_sign_in(request: HttpRequest, shopper: Shopper) -> None:
    """Bind the session to the shopper; a new session key, so a planted session id is worthless."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = shopper.pk


def shopper_sign_out(request: HttpRequest) -> None:
    """Unbind the session from the shopper, under a new session key; receipts and cards stay in the account."""
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def shopper_from_request(request: HttpRequest) -> Shopper | None:
    """The signed-in shopper of this session, if any."""
    shopper_id = request.session.get(SESSION_KEY)
    if not shopper_id:
        return None
    return Shopper.objects.filter(pk=shopper_id).first()


def shopper_preferences_set(*, shopper: Shopper, saves_cards: bool) -> None:
    """Switch keeping cards on or off for the shopper's next payments; one statement, the shopper's own row."""
    Shopper.objects.filter(pk=shopper.pk).update(saves_cards=saves_cards)


def shopper_receipts(*, shopper: Shopper, limit: int = 100) -> list[dict[str, Any]]:
    """The shopper's paid (and refunded) orders in every shop, newest first; scoped to the shopper's own rows."""
    with shopper_context(shopper.pk):
        orders = list(
            Order.objects.sold()
            .filter(shopper=shopper)
            .order_by("-paid_at")
            .values("pk", "token", "merchant_id", "store_id", "total", "currency", "status", "paid_at")[:limit]
        )
    stores: dict[int, Store] = {}
    for merchant_id in {row["merchant_id"] for row in orders}:
        with merchant_context(merchant_id):
            ids = {row["store_id"] for row in orders if row["merchant_id"] == merchant_id}
            stores.update({store.pk: store for store in Store.objects.select_related("merchant").filter(pk__in=ids)})
    return [{**row, "store": stores.get(row["store_id"])} for row in orders]


def shopper_customer_get(*, shopper: Shopper, merchant_id: int, stripe_account: str, create: bool) -> str | None:
    """The Stripe customer holding the shopper's cards at this merchant; created once (idempotency key) when asked."""
    with merchant_context(merchant_id):
        found = (
            ShopperCustomer.objects.filter(merchant_id=merchant_id, shopper=shopper, stripe_account=stripe_account)
            .values_list("stripe_customer", flat=True)
            .first()
        )
    if found or not create:
        return found
    customer = gateway.customer_create(
        email=shopper.email,
        idempotency_key=f"lingshou-shopper-{shopper.pk}-{merchant_id}-{stripe_account or 'platform'}",
        connected_account=stripe_account or None,
    )
    with merchant_context(merchant_id):
        row, _ = ShopperCustomer.objects.get_or_create(
            merchant_id=merchant_id,
            shopper=shopper,
            stripe_account=stripe_account,
            defaults={"stripe_customer": customer},
        )
    return row.stripe_customer


def shopper_cards(*, shopper: Shopper, merchant_id: int, stripe_account: str) -> list[gateway.SavedCard]:
    """The cards Stripe keeps for the shopper at this merchant; empty when none or when Stripe does not answer."""
    customer = shopper_customer_get(
        shopper=shopper, merchant_id=merchant_id, stripe_account=stripe_account, create=False
    )
    if not customer:
        return []
    try:
        return gateway.cards_list(customer=customer, connected_account=stripe_account or None)
    except gateway.GatewayError as error:
        logger.warning("cards_list_failed", extra={"shopper": shopper.pk, "error": error.message})
        return []


def shopper_card_forget(*, shopper: Shopper, merchant_id: int, stripe_account: str, payment_method: str) -> bool:
    """Detach one of the shopper's own saved cards at this merchant; False when it is not theirs."""
    cards = shopper_cards(shopper=shopper, merchant_id=merchant_id, stripe_account=stripe_account)
    if payment_method not in {card.id for card in cards}:
        return False
    gateway.card_forget(payment_method=payment_method, connected_account=stripe_account or None)
    return True
