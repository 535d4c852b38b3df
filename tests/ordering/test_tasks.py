"""Nightly drafting (idempotent, auto-submit) and the order e-mails, the latter on a real Celery worker."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest

from merchants.models import Store
from merchants.tenancy import merchant_context
from ordering import tasks
from ordering.models import OrderState, PurchaseOrder, StoreSupply
from ordering.services import drafting, editing, fulfilment
from tests.ordering.conftest import MONDAY_NOON, item_for
from tests.worker import celery_worker, wait_for


def _orders(store: Store) -> list[tuple[str, str]]:
    with merchant_context(store.merchant_id):
        return [
            (o.state, o.delivery_date.isoformat()) for o in PurchaseOrder.objects.filter(store=store).order_by("pk")
        ]


@pytest.mark.usefixtures("selling_store")
@pytest.mark.django_db
def test_the_nightly_draft_runs_once_per_store_and_delivery(store: Store) -> None:
    first = tasks.purchase_order_draft(store.merchant_id, store.pk, MONDAY_NOON.isoformat())
    assert first is not None
    # A redelivered task, or the hourly beat again: the order for Tuesday exists, nothing is drafted.
    assert tasks.purchase_order_draft(store.merchant_id, store.pk, MONDAY_NOON.isoformat()) is None
    assert _orders(store) == [("draft", "2026-11-24")]


@pytest.mark.usefixtures("selling_store")
@pytest.mark.django_db
def test_auto_submit_where_the_owner_opted_in(store: Store, supply: StoreSupply) -> None:
    with merchant_context(store.merchant_id):
        StoreSupply.objects.filter(pk=supply.pk).update(is_auto_submit=True)
    order_id = tasks.purchase_order_draft(store.merchant_id, store.pk, MONDAY_NOON.isoformat())
    assert _orders(store) == [("submitted", "2026-11-24")]
    with merchant_context(store.merchant_id):
        notes = list(PurchaseOrder.objects.get(pk=order_id).transitions.values_list("to_state", "note"))
    assert notes == [("draft", "Suggested by Lingshou"), ("submitted", "Auto-submitted")]


@pytest.mark.usefixtures("selling_store", "depot_staff_user")
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_beat_drafts_due_stores_and_mail_goes_out_once(
    store: Store,
    owner,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    mail = tmp_path / "mail"
    env = {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail)}
    owner.email = "owner@kiosk.example"
    owner.save()
    with celery_worker(extra_env=env, queues="celery,ordering") as worker:
        # Monday 13:00 Berlin: Tuesday's cut-off is 5 hours away, within the drafting window.
        assert tasks.purchase_orders_draft_due(MONDAY_NOON.isoformat()) == 1
        assert wait_for(lambda: len(_orders(store)) == 1), worker.stderr
        with merchant_context(store.merchant_id):
            order = PurchaseOrder.objects.get(store=store)
        assert wait_for(lambda: mail.exists() and len(list(mail.iterdir())) == 1), worker.stderr
        # The beat again: the order exists, nothing more is queued.
        assert tasks.purchase_orders_draft_due(MONDAY_NOON.isoformat()) == 0
        editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=owner, now=MONDAY_NOON)
        assert wait_for(lambda: len(list(mail.iterdir())) == 2), worker.stderr
        fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)
        fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None)
        assert wait_for(lambda: len(list(mail.iterdir())) == 3), worker.stderr
        # A redelivered mail task finds the e-mail sent and sends nothing.
        tasks.purchase_order_mail.delay(store.merchant_id, order.pk, "submitted")
        assert wait_for(lambda: len(list(mail.iterdir())) > 3, timeout=3) is False
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in mail.iterdir()]
    ready = next(m for m in messages if "is ready to review" in str(m["Subject"]))
    submitted = next(m for m in messages if f"New order {order.number}" in str(m["Subject"]))
    assert ready["To"] == "owner@kiosk.example"
    assert "Quellwerk Cola" in ready.get_content()
    assert f"/restock/orders/{order.pk}/" in ready.get_content()  # type: ignore[attr-defined]
    assert submitted["To"] == "picker@wholesale.example"
    assert f"/admin/ordering/purchaseorder/{order.pk}/change/" in submitted.get_content()  # type: ignore[attr-defined]
    shipped = next(m for m in messages if "is on its way" in str(m["Subject"]))
    assert shipped["To"] == "owner@kiosk.example"
    assert f"/restock/orders/{order.pk}/receive/" in shipped.get_content()  # type: ignore[attr-defined]
    assert _orders(store) == [(OrderState.SHIPPED, "2026-11-24")]


@pytest.mark.usefixtures("selling_store")
@pytest.mark.django_db
def test_a_backorder_coming_with_the_next_delivery_does_not_stop_its_suggestion(store: Store) -> None:
    earlier = drafting.purchase_order_draft(store=store, now=MONDAY_NOON - dt.timedelta(days=4)).order
    assert earlier is not None
    with merchant_context(store.merchant_id):
        PurchaseOrder.objects.filter(pk=earlier.pk).update(state=OrderState.SHIPPED)  # short of a few units
        backorder = PurchaseOrder.objects.create(
            merchant_id=store.merchant_id,
            store=store,
            depot=earlier.depot,
            number="PO-BACK",
            state=OrderState.SUBMITTED,
            delivery_date=dt.date(2026, 11, 24),
            backorder_of=earlier,
        )
    assert tasks.purchase_orders_draft_due(MONDAY_NOON.isoformat()) == 1
    order_id = tasks.purchase_order_draft(store.merchant_id, store.pk, MONDAY_NOON.isoformat())
    assert order_id is not None
    assert _orders(store) == [("shipped", "2026-11-20"), ("submitted", "2026-11-24"), ("draft", "2026-11-24")]
    assert order_id != backorder.pk


@pytest.mark.usefixtures("supply")
@pytest.mark.django_db
def test_the_shipped_mail_says_when_the_backordered_units_follow(
    store: Store,
    chips,
    owner,
    mailoutbox,  # type: ignore[no-untyped-def]
) -> None:
    owner.email = "owner@kiosk.example"
    owner.save()
    item = item_for(store, chips)
    order = drafting.purchase_order_draft(store=store, now=MONDAY_NOON).order
    assert order is not None
    editing.purchase_order_line_add(merchant=store.merchant, order_id=order.pk, store_product_id=item.pk, quantity=18)
    editing.purchase_order_submit(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    fulfilment.purchase_order_confirm(merchant=store.merchant, order_id=order.pk, by=None)  # the depot has 12
    fulfilment.purchase_order_ship(merchant=store.merchant, order_id=order.pk, by=None, now=MONDAY_NOON)
    with merchant_context(store.merchant_id):
        backorder = PurchaseOrder.objects.get(backorder_of=order)

    assert tasks.purchase_order_mail(store.merchant_id, order.pk, "shipped") is True

    body = mailoutbox[-1].body
    assert "- Knusper Chips: 12 of 18 ordered" in body
    assert f"What Depot Nord could not send follows with order {backorder.number} on Friday 27 November." in body


@pytest.mark.usefixtures("selling_store")
@pytest.mark.django_db
def test_the_owners_mail_of_an_auto_submitted_order_does_not_ask_for_a_review(
    store: Store,
    supply: StoreSupply,
    owner,
    mailoutbox,  # type: ignore[no-untyped-def]
) -> None:
    owner.email = "owner@kiosk.example"
    owner.save()
    with merchant_context(store.merchant_id):
        StoreSupply.objects.filter(pk=supply.pk).update(is_auto_submit=True)
    order_id = tasks.purchase_order_draft(store.merchant_id, store.pk, MONDAY_NOON.isoformat())
    assert order_id is not None
    assert tasks.purchase_order_mail(store.merchant_id, order_id, "ready") is True
    [mail] = [m for m in mailoutbox if m.to == ["owner@kiosk.example"]]
    assert mail.subject.endswith("was submitted for you")
    assert "You asked for it to be submitted automatically: it has gone to Depot Nord." in mail.body
    assert "Review it" not in mail.body
