"""Celery tasks of checkout: receipts by e-mail, reconciling payments, releasing reservations."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from checkout.models import Order
from checkout.receipts import receipt_order
from checkout.services import orders as order_services
from checkout.services import payments as payment_services
from core.outbox import delivery_exclusive
from merchants import zones
from merchants.tenancy import merchant_context


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def receipt_send(merchant_id: int, order_id: int) -> bool:
    """E-mail the receipt of a paid order to the address the shopper gave, once: its sent mark is checked and set
    under the order's delivery lock, so a delivery twice (a redelivery, the outbox's relay) sends one mail."""
    with delivery_exclusive(f"receipt:{order_id}"):
        with merchant_context(merchant_id):
            order = (
                Order.objects.select_related("store", "store__merchant")
                .filter(merchant_id=merchant_id, pk=order_id, receipt_sent_at__isnull=True)
                .first()
            )
            if order is None or not order.email or order.paid_at is None:
                return False
            lines = receipt_order(order.lines.all())
        url = f"{settings.SITE_URL}/s/{order.store.code}/orders/{order.token}/"
        with zones.store_time(order.store):
            message = render_to_string("shopper/receipt_email.txt", {"order": order, "lines": lines, "url": url})
        # Sent inside the lock's transaction: a mail that fails leaves no mark (the retry sends it); a commit
        # that fails after the mail went out sends it again, the one duplicate left (SMTP takes no key).
        send_mail(
            subject=f"Your receipt from {order.store.name}",
            message=message,
            from_email=None,
            recipient_list=[order.email],
        )
        with merchant_context(merchant_id):
            Order.objects.filter(merchant_id=merchant_id, pk=order_id, receipt_sent_at__isnull=True).update(
                receipt_sent_at=timezone.now()
            )
    return True


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def shopper_sign_in_send(sign_in_id: int, raw_token: str) -> bool:
    """E-mail a shopper's sign-in link while it is unused and valid; a late redelivery sends nothing."""
    from checkout.models import ShopperSignIn

    sign_in = (
        ShopperSignIn.objects.select_related("shopper")
        .filter(pk=sign_in_id, used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if sign_in is None:
        return False
    context = {"url": f"{settings.SITE_URL}/shopper/sign-in/{raw_token}/", "expires_at": sign_in.expires_at}
    send_mail(
        subject="Your Lingshou sign-in link",
        message=render_to_string("shopper/sign_in_email.txt", context),
        from_email=None,
        recipient_list=[sign_in.shopper.email],
    )
    return True


@shared_task(acks_late=True)
def payments_reconcile() -> int:
    """Orders whose webhook never came are asked of Stripe and marked paid; idempotent."""
    return payment_services.payments_reconcile()


@shared_task(acks_late=True)
def orders_expire() -> int:
    """Release the stock held by orders left unpaid; idempotent."""
    return order_services.orders_expire()
