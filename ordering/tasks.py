"""Celery tasks of ordering: the nightly suggested orders and the order e-mails. Ids in, idempotent."""

from __future__ import annotations

import datetime as dt
import functools
import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core.outbox import delivery_exclusive
from merchants import zones
from merchants.models import Membership, Role, Store, WholesalerStaff
from merchants.tenancy import merchant_context, platform_access
from ordering import selectors
from ordering.models import OrderState, PurchaseOrder, StoreSupply
from ordering.services import drafting, editing

logger = logging.getLogger("lingshou.ordering")

# Stores whose order deadline falls within this window get their suggestion drafted now; the
# beat runs hourly, so every store is drafted on the evening before its cut-off, once.
DRAFT_AHEAD = dt.timedelta(hours=14)


@shared_task(acks_late=True)
def purchase_orders_draft_due(now_iso: str | None = None) -> int:
    """Queue a draft for every store whose next cut-off is near and has no order for that delivery yet."""
    now = dt.datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    queued = 0
    with platform_access(reason="nightly suggested orders", actor="task:purchase_orders_draft_due"):
        supplies = list(StoreSupply.objects.select_related("store", "depot", "merchant").filter(store__is_active=True))
        for supply in supplies:
            delivery = selectors.delivery_next(supply=supply, now=now)
            if delivery.deadline - now > DRAFT_AHEAD:
                continue
            if selectors.delivery_has_order(merchant=supply.merchant, store=supply.store, delivery_date=delivery.date):
                continue
            transaction.on_commit(
                functools.partial(purchase_order_draft.delay, supply.merchant_id, supply.store_id, now.isoformat())
            )
            queued += 1
    return queued


@shared_task(acks_late=True)
def purchase_order_draft(merchant_id: int, store_id: int, now_iso: str | None = None) -> int | None:
    """Draft one store's suggested order (and submit it where the owner opted in); safe to run twice."""
    now = dt.datetime.fromisoformat(now_iso) if now_iso else timezone.now()
    with merchant_context(merchant_id):
        # The merchant is resolved once, with the store, and passed on as the model.
        store = Store.objects.select_related("merchant").filter(merchant_id=merchant_id, pk=store_id).first()
        supply = selectors.supply_get(merchant=store.merchant, store=store) if store else None
        if store is None or supply is None:
            return None
        merchant = store.merchant
        delivery = selectors.delivery_next(supply=supply, now=now)
        if selectors.delivery_has_order(merchant=merchant, store=store, delivery_date=delivery.date):
            return None  # a redelivered task, or the owner pressed the button first
        outcome = drafting.purchase_order_draft(store=store, now=now)
        order = outcome.order
        if supply.is_auto_submit and outcome.is_new and order is not None and order.lines.exists():
            try:
                editing.purchase_order_submit(
                    merchant=merchant, order_id=order.pk, by=None, now=now, note="Auto-submitted"
                )
            except ValidationError as error:
                # Below the minimum order value, say: the draft waits for the owner instead.
                logger.info("auto_submit_refused", extra={"order": order.pk, "reason": str(error.messages)})
        return order.pk if order else None


def _recipients(order: PurchaseOrder, event: str) -> list[str]:
    if event == "submitted":
        with platform_access(reason=f"mail wholesaler about order {order.pk}", actor="task:purchase_order_mail"):
            return sorted(
                set(
                    WholesalerStaff.objects.filter(wholesaler_id=order.depot.wholesaler_id, user__is_active=True)
                    .exclude(user__email="")
                    .values_list("user__email", flat=True)
                )
            )
    owners = Membership.objects.filter(merchant_id=order.merchant_id, role=Role.OWNER).values_list("user_id", flat=True)
    return sorted(
        set(
            get_user_model()
            .objects.filter(pk__in=list(owners), is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


_MAILED_FIELD = {"ready": "ready_mailed_at", "submitted": "submitted_mailed_at", "shipped": "shipped_mailed_at"}
_SUBJECT = {
    "ready": "Your suggested order {number} is ready to review",
    "submitted": "New order {number} from {store} for {delivery}",
    "shipped": "Order {number} is on its way",
}
_SUBMITTED_FOR_YOU = "Your suggested order {number} was submitted for you"


@shared_task(acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def purchase_order_mail(merchant_id: int, order_id: int, event: str) -> bool:
    """E-mail the owner (ready, shipped) or the wholesaler's staff (submitted) once per order and event: the sent
    mark is checked and set under the order's delivery lock, so a delivery twice (the outbox's relay) sends one."""
    with delivery_exclusive(f"purchase-order:{order_id}:{event}"):
        return _purchase_order_mail(merchant_id, order_id, event)


def _purchase_order_mail(merchant_id: int, order_id: int, event: str) -> bool:
    mailed = _MAILED_FIELD[event]
    with merchant_context(merchant_id):
        order = (
            PurchaseOrder.objects.select_related("store", "depot", "depot__wholesaler", "merchant")
            .filter(merchant_id=merchant_id, pk=order_id)
            .not_mailed(mailed)
            .first()
        )
        if order is None:
            return False
        recipients = _recipients(order, event)
        lines = list(order.lines.select_related("product").order_by("product__name"))
        backorders = list(order.backorders.order_by("pk")) if event == "shipped" else []
    if not recipients:
        return False
    context = {
        "order": order,
        "lines": lines,
        "backorders": backorders,
        "total": sum(line.value for line in lines),
        "event": event,
        "url": f"{settings.SITE_URL}/m/{order.merchant.slug}/restock/orders/{order.pk}/",
        "admin_url": f"{settings.SITE_URL}/admin/ordering/purchaseorder/{order.pk}/change/",
    }
    # A suggested order the owner opted to have submitted is not waiting for review: the subject says so.
    subject = _SUBMITTED_FOR_YOU if event == "ready" and order.state != OrderState.DRAFT else _SUBJECT[event]
    with zones.store_time(order.store):
        message = render_to_string("ordering/order_email.txt", context)
    send_mail(
        subject=subject.format(number=order.number, store=order.store.name, delivery=order.delivery_date),
        message=message,
        from_email=None,
        recipient_list=recipients,
    )
    with merchant_context(merchant_id):
        PurchaseOrder.objects.filter(merchant_id=merchant_id, pk=order_id).not_mailed(mailed).update(
            **{mailed: timezone.now()}
        )
    return True
