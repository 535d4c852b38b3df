"""Celery tasks of checkout: receipts by e-mail, reconciling payments, releasing reservations."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from checkout import services
from checkout.models import Order
from merchants.tenancy import merchant_context


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def receipt_send(merchant_id: int, order_id: int) -> bool:
    """E-mail the receipt of a paid order to the address the shopper gave. At most once per delivery."""
    with merchant_context(merchant_id):
        order = (
            Order.objects.select_related("store", "store__merchant")
            .filter(merchant_id=merchant_id, pk=order_id)
            .first()
        )
        if order is None or not order.email or order.paid_at is None:
            return False
        lines = list(order.lines.all())
    context = {"order": order, "lines": lines, "url": f"{settings.SITE_URL}/s/{order.store.code}/orders/{order.token}/"}
    send_mail(
        subject=f"Your receipt from {order.store.name}",
        message=render_to_string("shopper/receipt_email.txt", context),
        from_email=None,
        recipient_list=[order.email],
    )
    return True


@shared_task(acks_late=True)
def payments_reconcile() -> int:
    """Orders whose webhook never came are asked of Stripe and marked paid; idempotent."""
    return services.payments_reconcile()


@shared_task(acks_late=True)
def orders_expire() -> int:
    """Release the stock held by orders left unpaid; idempotent."""
    return services.orders_expire()
