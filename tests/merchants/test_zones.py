"""Every page that shows a time shows the store's local time: receipts, the pay page, exit checks,
shifts, cameras, alerts, events, stock movements, e-mails, and the admin (each row in its store's zone).

One instant, 2025-01-15 11:34:56 UTC, is 12:34 in Berlin (CET) and 06:34 in New York (EST): each
page is rendered for a store in either zone and must show that store's clock, never UTC's 11:34.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pypdfium2
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from catalog.models import MovementKind, StockMovement
from catalog.services.stock import stock_move
from checkout.models import Order, Shift
from checkout.services import counter, shifts
from checkout.services.carts import cart_add, visit_start
from checkout.services.exit_passes import exit_pass_token, exit_pass_use
from checkout.services.orders import order_place
from checkout.services.payments import webhook_event_process
from checkout.tasks import receipt_send
from merchants import zones
from merchants.models import ApiToken, Merchant, Store
from merchants.services import api_token_create
from merchants.tenancy import merchant_context, platform_access
from ordering.models import Depot, OrderState, PurchaseOrder, PurchaseOrderTransition
from sensing.choices import AlertKind, EventKind
from sensing.models import Alert, Camera, ShelfEvent, Slot
from tests.catalog.factories import StoreProductFactory
from tests.factories import MerchantFactory, StoreFactory, UserFactory, signed_in_two_step
from tests.sensing.conftest import camera_make

pytestmark = pytest.mark.django_db

AT = dt.datetime(2025, 1, 15, 11, 34, 56, tzinfo=dt.UTC)
# The zone, and AT on that zone's clock.
ZONES = [
    pytest.param(("Europe/Berlin", "12:34"), id="berlin"),
    pytest.param(("America/New_York", "06:34"), id="new-york"),
]
UTC_CLOCK = "11:34"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(params=ZONES)
def zoned(request: pytest.FixtureRequest, merchant: Merchant) -> tuple[Store, str]:
    """The merchant's only store, in the parametrised zone, and AT on its clock."""
    zone, clock = request.param
    return StoreFactory(merchant=merchant, name="Kiosk", code="KIOSK1", timezone=zone), clock


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(client: Client, url: str, *, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def _paid_order(store: Store) -> Order:
    item = StoreProductFactory(store=store, price=300)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit, email="mia@example.com")
    intent = {
        "id": f"pi_{order.pk}",
        "amount_received": order.total,
        "currency": "eur",
        "metadata": {"merchant_id": str(order.merchant_id), "order_id": str(order.pk)},
    }
    webhook_event_process(
        event={"id": f"evt_{order.pk}", "type": "payment_intent.succeeded", "data": {"object": intent}}
    )
    with merchant_context(store.merchant_id):
        Order.objects.filter(pk=order.pk).update(paid_at=AT)
        return Order.objects.select_related("store").get(pk=order.pk)


# --- the shopper's pages and e-mail ---------------------------------------------------------------


def test_the_shoppers_receipt_shows_when_it_was_paid_on_the_stores_clock(zoned: tuple[Store, str]) -> None:
    store, clock = zoned
    order = _paid_order(store)
    body = _page(Client(), f"/s/{store.code}/orders/{order.token}/")
    assert f"2025-01-15 {clock}" in body
    assert f"2025-01-15 {UTC_CLOCK}" not in body


def test_the_receipt_e_mail_shows_the_stores_clock(zoned: tuple[Store, str]) -> None:
    store, clock = zoned
    order = _paid_order(store)
    mail.outbox.clear()
    assert receipt_send(store.merchant_id, order.pk) is True
    assert f"Receipt {order.number} · 2025-01-15 {clock}\n" in mail.outbox[0].body


def test_the_pay_page_says_until_when_the_units_are_held_on_the_stores_clock(zoned: tuple[Store, str]) -> None:
    store, clock = zoned
    item = StoreProductFactory(store=store, price=300)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    visit = visit_start(store=store)
    cart_add(visit=visit, store_product_id=item.pk)
    order = order_place(visit=visit)
    with merchant_context(store.merchant_id):
        Order.objects.filter(pk=order.pk).update(reserved_until=AT)
    body = _page(Client(), f"/s/{store.code}/orders/{order.token}/pay/")
    assert f"Your units are held for you until {clock}." in body


# --- the dashboard -------------------------------------------------------------------------------


def test_the_exit_check_and_the_order_say_when_a_pass_was_used_on_the_stores_clock(
    zoned: tuple[Store, str], clerk: Any, owner: Any
) -> None:
    store, clock = zoned
    order = _paid_order(store)
    token = exit_pass_token(order=order)
    assert token is not None
    # The door reader let the shopper out at AT (reported later, as an offline reader does).
    assert exit_pass_use(merchant_id=store.merchant_id, token=token, at=AT).status == "ok"

    response = _signed_in(clerk).post(f"/m/{store.merchant.slug}/exit/", {"token": token})
    assert response.status_code == 409
    assert f"Already used at {clock}." in response.content.decode()
    # The door reader's answer (no request zone at all) is on the store's clock too.
    assert exit_pass_use(merchant_id=store.merchant_id, token=token).message == f"Already used at {clock}."

    body = _page(_signed_in(owner), f"/m/{store.merchant.slug}/orders/{order.pk}/")
    assert f"Used at 2025-01-15 {clock}" in body
    assert f"<dt>Paid</dt><dd>2025-01-15 {clock}</dd>" in body


def test_the_counter_receipt_and_the_shift_show_the_stores_clock(zoned: tuple[Store, str], clerk: Any) -> None:
    store, clock = zoned
    item = StoreProductFactory(store=store, price=249)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=5)
    shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=1000)
    sale = counter.counter_sale_start(shift=shift, clerk=clerk)
    counter.counter_line_scan(order=sale, code=item.product.gtin[1:])  # type: ignore[union-attr]
    counter.counter_pay_cash(order=sale, tendered=249, recorded_by=clerk)
    with merchant_context(store.merchant_id):
        Order.objects.filter(pk=sale.pk).update(paid_at=AT)
        Shift.objects.filter(pk=shift.pk).update(opened_at=AT)
    client = _signed_in(clerk)

    receipt = _page(client, f"/m/{store.merchant.slug}/counter/sales/{sale.pk}/receipt/")
    assert f"2025-01-15 {clock} · Counter" in receipt
    page = _page(client, f"/m/{store.merchant.slug}/counter/shifts/{shift.pk}/")
    assert f"<dt>Opened</dt><dd>2025-01-15 {clock} by" in page


def test_cameras_alerts_and_events_show_the_stores_clock(
    zoned: tuple[Store, str], merchant: Merchant, owner: Any
) -> None:
    store, clock = zoned
    camera = camera_make(merchant, store).camera
    with merchant_context(merchant.pk):
        Camera.objects.filter(pk=camera.pk).update(last_frame_at=AT, last_heartbeat_at=AT)
        slot = Slot.objects.filter(camera=camera).order_by("key").first()
        assert slot is not None
        Alert.objects.create(merchant=merchant, camera=camera, slot=slot, kind=AlertKind.STOCK_OUT, started_at=AT)
        ShelfEvent.objects.create(
            merchant=merchant,
            camera=camera,
            slot=slot,
            sequence=1,
            kind=EventKind.TAKE,
            quantity=2,
            confidence=0.9,
            occurred_at=AT,
        )
    client = _signed_in(owner)
    base = f"/m/{merchant.slug}/cameras"

    cameras = _page(client, f"{base}/")
    assert f"<td>2025-01-15 {clock}:56</td>" in cameras  # last frame, and the heartbeat beside it
    assert f"since 2025-01-15 {clock}</li>" in cameras  # the open alert
    detail = _page(client, f"{base}/{camera.pk}/")
    assert f"Last frame {clock}:56 · heartbeat {clock}:56" in detail
    assert f"2025-01-15 {clock}:56" in detail  # its alert and its event
    alerts = _page(client, f"{base}/alerts/")
    assert f"<td>2025-01-15 {clock}:56</td>" in alerts
    events = _page(client, f"{base}/events/")
    assert f"2025-01-15 {clock}:56 · confidence 0.90" in events
    for body in (cameras, detail, alerts, events):
        assert f"{UTC_CLOCK}:56" not in body


def test_stock_movements_show_the_stores_clock(zoned: tuple[Store, str], owner: Any) -> None:
    store, clock = zoned
    item = StoreProductFactory(store=store, price=199)
    stock_move(merchant=store.merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=12)
    with merchant_context(store.merchant_id):
        StockMovement.objects.filter(store_product=item).update(created_at=AT)
    body = _page(_signed_in(owner), f"/m/{store.merchant.slug}/stock/{item.pk}/")
    assert f'<td class="nowrap">2025-01-15 {clock}</td>' in body


# --- a merchant whose stores are in different zones ------------------------------------------------


@pytest.fixture
def two_zones(merchant: Merchant) -> tuple[Store, Store]:
    """Berlin comes first by name: the store a dashboard page shows when none is asked for."""
    berlin = StoreFactory(merchant=merchant, name="A Berlin", code="BERLIN1", timezone="Europe/Berlin")
    new_york = StoreFactory(merchant=merchant, name="B New York", code="NEWYORK1", timezone="America/New_York")
    return berlin, new_york


def test_a_page_about_one_stores_order_shows_that_stores_clock(two_zones: tuple[Store, Store], owner: Any) -> None:
    berlin, new_york = two_zones
    client = _signed_in(owner)
    for store, clock in ((berlin, "12:34"), (new_york, "06:34")):
        order = _paid_order(store)
        body = _page(client, f"/m/{store.merchant.slug}/orders/{order.pk}/")
        assert f"<dt>Paid</dt><dd>2025-01-15 {clock}</dd>" in body, store.name


def test_the_store_asked_for_sets_the_clock_and_the_first_store_by_name_otherwise(
    two_zones: tuple[Store, Store], clerk: Any
) -> None:
    berlin, new_york = two_zones
    for store in two_zones:
        shift = shifts.shift_open(store=store, opened_by=clerk, opening_cash=0)
        shifts.shift_close(shift=shift, closed_by=clerk, counted_cash=0)
        with merchant_context(store.merchant_id):
            Shift.objects.filter(pk=shift.pk).update(closed_at=AT)
    client = _signed_in(clerk)
    counter_url = f"/m/{berlin.merchant.slug}/counter/"
    assert "Last shift closed 2025-01-15 06:34." in _page(client, f"{counter_url}?store={new_york.pk}")
    assert "Last shift closed 2025-01-15 12:34." in _page(client, f"{counter_url}?store={berlin.pk}")
    assert "Last shift closed 2025-01-15 12:34." in _page(client, counter_url)


def test_the_dashboard_zone_follows_the_stores() -> None:
    berlin, new_york = (1, "Europe/Berlin"), (2, "America/New_York")
    assert zones.dashboard_zone(stores=[berlin], wanted=None).key == "Europe/Berlin"
    assert zones.dashboard_zone(stores=[berlin, (3, "Europe/Berlin")], wanted="3").key == "Europe/Berlin"
    assert zones.dashboard_zone(stores=[berlin, new_york], wanted="2").key == "America/New_York"
    assert zones.dashboard_zone(stores=[berlin, new_york], wanted=None).key == "Europe/Berlin"
    # A store of someone else, or nonsense, is not a choice: the first store's zone stays.
    assert zones.dashboard_zone(stores=[berlin, new_york], wanted="99").key == "Europe/Berlin"
    assert zones.dashboard_zone(stores=[], wanted=None).key == "UTC"


def test_the_request_zone_does_not_outlive_the_request(zoned: tuple[Store, str], owner: Any) -> None:
    store, _clock = zoned
    _page(_signed_in(owner), f"/m/{store.merchant.slug}/stock/")
    _page(Client(), f"/s/{store.code}/")
    assert timezone.get_current_timezone_name() == "UTC"


# --- the admin: one page, many stores, each row in its own zone ------------------------------------


@pytest.fixture
def operator() -> Any:
    return UserFactory(username="operator@example.com", is_staff=True, is_superuser=True)


def _submitted_order(store: Store, depot: Depot, number: str) -> PurchaseOrder:
    with merchant_context(store.merchant_id):
        order = PurchaseOrder.objects.create(
            merchant=store.merchant,
            store=store,
            depot=depot,
            number=number,
            state=OrderState.SUBMITTED,
            delivery_date=dt.date(2025, 1, 17),
            submitted_at=AT,
        )
        PurchaseOrderTransition.objects.create(
            merchant=store.merchant, order=order, from_state=OrderState.DRAFT, to_state=OrderState.SUBMITTED, at=AT
        )
    return order


def test_the_admin_shows_each_rows_time_in_its_stores_zone_with_the_zone(merchant: Merchant, operator: Any) -> None:
    berlin = StoreFactory(merchant=merchant, name="Linden", code="LINDEN1", timezone="Europe/Berlin")
    other = MerchantFactory(name="Bodega 5th Ave", slug="bodega")
    new_york = StoreFactory(merchant=other, name="5th Ave", code="FIFTH1", timezone="America/New_York")
    depot = Depot.objects.create(wholesaler=merchant.wholesaler, name="Depot Nord")
    in_berlin = _submitted_order(berlin, depot, "PO-BERLIN")
    in_new_york = _submitted_order(new_york, depot, "PO-NEWYORK")
    with platform_access(reason="test", actor="test"):
        # Summer in Berlin: the abbreviation follows the date (CEST), not the zone's winter name.
        Merchant.objects.filter(pk=merchant.pk).update(created_at=dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.UTC))
        Merchant.objects.filter(pk=other.pk).update(created_at=AT)
        Store.objects.filter(pk__in=[berlin.pk, new_york.pk]).update(created_at=AT)
    client = signed_in_two_step(operator)

    orders = _page(client, "/admin/ordering/purchaseorder/")
    assert '<td class="field-submitted_at"><span class="nowrap">2025-01-15 12:34 CET</span></td>' in orders
    assert '<td class="field-submitted_at"><span class="nowrap">2025-01-15 06:34 EST</span></td>' in orders
    change = _page(client, f"/admin/ordering/purchaseorder/{in_new_york.pk}/change/")
    assert "2025-01-15 06:34 EST" in change  # submitted at, and the history below
    assert "11:34" not in change
    assert "2025-01-15 12:34 CET" in _page(client, f"/admin/ordering/purchaseorder/{in_berlin.pk}/change/")

    merchants = _page(client, "/admin/merchants/merchant/")
    assert '<td class="field-created_at"><span class="nowrap">2025-07-01 11:00 CEST</span></td>' in merchants
    assert '<td class="field-created_at"><span class="nowrap">2025-01-15 06:34 EST</span></td>' in merchants
    # A time the operator may edit is shown, and read back, on the store's clock.
    assert 'name="created_at_1" value="12:34:56"' in _page(client, f"/admin/merchants/store/{berlin.pk}/change/")
    assert 'name="created_at_1" value="06:34:56"' in _page(client, f"/admin/merchants/store/{new_york.pk}/change/")


def test_admin_rows_of_no_store_say_they_are_utc(operator: Any) -> None:
    token, _raw = api_token_create(user=UserFactory(username="script@example.com"), name="script")
    ApiToken.objects.filter(pk=token.pk).update(created_at=AT)
    body = _page(signed_in_two_step(operator), "/admin/merchants/apitoken/")
    assert '<td class="field-created_at nowrap">2025-01-15 11:34 UTC</td>' in body


def test_an_invoice_is_dated_on_the_buyers_calendar(merchant: Merchant, operator: Any) -> None:
    # A zone whose date differs from UTC's right now, whatever the hour: +14 from 10:00 UTC, -12 before noon.
    zone = "Pacific/Kiritimati" if timezone.now().hour >= 10 else "Etc/GMT+12"
    store = StoreFactory(merchant=merchant, name="Far away", code="FAR1", timezone=zone)
    depot = Depot.objects.create(wholesaler=merchant.wholesaler, name="Depot Nord")
    order = _submitted_order(store, depot, "PO-FAR")
    with merchant_context(merchant.pk):
        PurchaseOrder.objects.filter(pk=order.pk).update(state=OrderState.SHIPPED)
    response = signed_in_two_step(operator).get(f"/admin/ordering/purchaseorder/{order.pk}/invoice.pdf")
    assert response.status_code == 200
    text = " ".join(pypdfium2.PdfDocument(response.content)[0].get_textpage().get_text_range().split())
    local, utc = timezone.localdate(timezone=zones.zone_named(zone)), timezone.now().date()
    assert local != utc
    assert f"issued {local:%d %b %Y}" in text
