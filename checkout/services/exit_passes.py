"""Exit passes: issued with the payment, shown as a QR code, used up once at the door or by the clerk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from checkout import exit_pass
from checkout.choices import OrderStatus
from checkout.models import ExitPass, Order
from merchants import zones
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

EXIT_PASS_VALID_FOR = timedelta(minutes=30)


def exit_pass_issue(*, order: Order) -> ExitPass:
    """The paid order's exit pass, valid for EXIT_PASS_VALID_FOR; written in the caller's transaction."""
    return ExitPass.objects.create(
        merchant_id=order.merchant_id, order=order, expires_at=timezone.now() + EXIT_PASS_VALID_FOR
    )


@dataclass(frozen=True)
class PassCheck:
    """What the door or the clerk is told about a pass: ok, not_paid, used, age_check, invalid."""

    status: str
    message: str
    order: Order | None = None


def exit_pass_token(*, order: Order) -> str | None:
    """The signed token of a paid order's pass (what its QR code holds); None before payment."""
    with merchant_context(order.merchant_id):
        issued = ExitPass.objects.of_order(order).select_related("order__store").first()
    if issued is None:
        return None
    return exit_pass.sign(
        jti=str(issued.jti),
        merchant_id=order.merchant_id,
        order_id=order.pk,
        store=issued.order.store.code,
        expires_at=issued.expires_at,
    )


def exit_pass_use(
    *,
    merchant_id: int,
    token: str,
    store_id: int | None = None,
    used_by: User | None = None,
    at: datetime | None = None,
) -> PassCheck:
    """Check a pass and use it up: valid once, for a paid order, after any age check. Atomic (CAS).

    ``store_id`` is the store whose door checks the pass: a pass of another store is invalid there
    and stays unused. ``at`` is when an offline door reader let the shopper out; a second use of the
    same pass, online or reported later, answers 'used'.
    """
    try:
        claims = exit_pass.verify(token)
    except exit_pass.PassInvalid as error:
        return PassCheck("invalid", str(error))
    if claims.merchant_id != merchant_id:
        return PassCheck("invalid", "This pass is from another shop.")
    with merchant_context(merchant_id):
        issued = (
            ExitPass.objects.select_related("order__store")
            .filter(merchant_id=merchant_id, jti=claims.jti, order_id=claims.order_id)
            .first()
        )
        if issued is None:
            return PassCheck("invalid", "This is not a valid exit pass.")
        order = issued.order
        if store_id is not None and order.store_id != store_id:
            return PassCheck("invalid", f"This pass is for the store {order.store.name}, not this one.")
        if order.status != OrderStatus.PAID:
            return PassCheck("not_paid", "Not paid: this order has no completed payment.", order)
        if order.requires_age_check and order.age_checked_at is None:
            return PassCheck("age_check", "Age check needed: a clerk must see the shopper's ID first.", order)
        used = ExitPass.objects.filter(pk=issued.pk, used_at__isnull=True).update(
            used_at=at or timezone.now(), used_by=used_by
        )
        if not used:
            issued.refresh_from_db()
            # The door reader's API knows no zone: the time is the store's, as the clerk's page shows it.
            used_at = timezone.localtime(issued.used_at, zones.store_zone(order.store))
            return PassCheck("used", f"Already used at {used_at:%H:%M}.", order)
    return PassCheck("ok", "Paid. Have a nice day.", order)
