"""Random and extreme values posted to every HTML form of the dashboard and the shopper pages, as the owner:
never a 500, and an answer of 4xx changed nothing in the database.

The forms are found, not listed: every dashboard and shopper URL of the URL conf is opened (a guard
proves none is left out for want of an id to put in it) and each form in its HTML is filled in by
hypothesis, field by field, with the value the page offers or with a hostile one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from catalog import gtin
from catalog.models import Product
from catalog.services.counts import count_session_start
from checkout.services import counter
from checkout.services.shifts import shift_open
from merchants.models import Device, Merchant, Role, Store
from merchants.services import api_token_create
from merchants.tenancy import merchant_context, platform_access
from ordering.models import Depot, DepotStock, StoreSupply
from ordering.services import drafting, editing, fulfilment
from tests.catalog.factories import ProductFactory
from tests.checkout.test_exit_check_page import paid_order
from tests.checkout.test_shopper_pages import _shopper, _stocked
from tests.factories import MembershipFactory, StoreFactory
from tests.sensing.conftest import camera_make

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("LINGSHOU_FORM_EXAMPLES", "4"))
AUDIENCES = ("m/<slug:slug>/", "s/<str:store_code>/", "shopper/")
# Tables that every request may write whatever it answers: sessions, sign-in throttling, the audit of the
# platform bypass this test reads through, price lookups and visits that a shopper's page records.
NOISE = {
    "django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog", "merchants_platformaccess",
    "catalog_productlookup", "django_admin_log",
}  # fmt: skip
HOSTILE = [
    "", " ", "0", "-1", "-0", "1e30", "-1e30", "99999999999", str(2**63), str(2**64), str(10**20), "1e20",
    "5²", "٣", "NaN", "Infinity", "-inf", "1,5", "2.499", "0.001", "\x00", "a\x00b", "\x1b[31m", "\r\n",
    "x" * 5000, "é" * 300, "'; DROP TABLE x;--", "<script>alert(1)</script>", "[" * 200, "{}", "null", "[]",
    "2026-13-45", "9999-12-31", "0001-01-01", "on", "true", "-2147483649", "2147483648", "１２",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(str),
    st.text(max_size=40),
)


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values the page offers
    files: set[str] = field(default_factory=set)


class _Forms(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page, self.forms, self.current = page, [], None
        self.select: str | None = None
        self.forms: list[Form]
        self.current: Form | None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            method = "post" if (a.get("method", "").lower() == "post" or "hx-post" in a) else "get"
            action = a.get("hx-post") or a.get("hx-get") or a.get("action") or self.page
            self.current = Form(self.page, method, action)
            self.forms.append(self.current)
        elif self.current is not None and tag in ("input", "textarea", "select", "button") and a.get("name"):
            if a.get("type") == "file":
                self.current.files.add(a["name"])
            else:
                self.current.fields.setdefault(a["name"], []).append(a.get("value", ""))
            self.select = a["name"] if tag == "select" else None
        elif tag == "option" and self.current is not None and self.select:
            self.current.fields[self.select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def form_routes() -> list[str]:
    """Every route of the dashboard and the shopper pages."""
    return [route for route in _routes(get_resolver().url_patterns) if route.startswith(AUDIENCES)]


@dataclass
class World:
    """A shop with one of everything a page of it can show: the ids that the routes take."""

    merchant: Merchant
    store: Store
    ids: dict[str, Any]
    shopper: Client

    def url(self, route: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(2)
            key = f"restock.{name}" if "restock/" in route else f"counter.{name}" if "counter/" in route else name
            return str(self.ids.get(key, self.ids[name]))

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def _world(merchant: Merchant, store: Store, owner: Any) -> World:
    cola = _stocked(store, "Quellwerk Cola", 249)
    chips = _stocked(store, "Knusper Chips", 199)
    order = paid_order(store, [("Limo", 150, 2)])
    clerk = MembershipFactory(merchant=merchant, role=Role.CLERK, user__username="clerk@example.com")
    camera = camera_make(merchant, store)
    token, _raw = api_token_create(user=owner, name="script")
    shift = shift_open(store=store, opened_by=owner, opening_cash=5000)
    sale = counter.counter_sale_start(shift=shift, clerk=owner)
    counter.counter_line_pick(order=sale, store_product_id=chips.pk)
    depot = Depot.objects.create(wholesaler=merchant.wholesaler, name="Depot Nord", address="Hafenstraße 1")
    product: Product = cola.product  # type: ignore[assignment]
    DepotStock.objects.create(depot=depot, product=ProductFactory(wholesaler=merchant.wholesaler), on_hand=24)
    DepotStock.objects.create(depot=depot, product=product, on_hand=240)
    with merchant_context(merchant.pk):
        StoreSupply.objects.create(
            merchant_id=merchant.pk, store=store, depot=depot, delivery_weekdays=["tue", "fri"],
            cutoff_time=dt.time(18, 0), lead_time_days=1, route="Route A",
        )  # fmt: skip
    draft = drafting.purchase_order_draft(store=store, now=dt.datetime.now(tz=dt.UTC)).order
    assert draft is not None
    line = editing.purchase_order_line_add(merchant=merchant, order_id=draft.pk, store_product_id=cola.pk, quantity=12)
    with merchant_context(merchant.pk):
        device = Device.objects.filter(merchant=merchant).first()
        sale_line = sale.lines.first()
        count = count_session_start(merchant=merchant, store=store, started_by=owner, note="")
    assert device is not None
    assert sale_line is not None
    shopper, _visit = _shopper(store, [(cola, 1)])
    ids = {
        "slug": merchant.slug, "store_code": store.code, "store_id": store.pk, "item_id": cola.pk,
        "session_id": count.pk, "shift_id": shift.pk, "order_id": order.pk, "counter.order_id": sale.pk,
        "counter.line_id": sale_line.pk, "restock.order_id": draft.pk, "restock.line_id": line.pk,
        "line_id": line.pk, "camera_id": camera.camera.pk, "event_id": 0, "frame_id": 0, "which": "crop",
        "membership_id": clerk.pk, "invitation_id": 0, "closure_id": 0, "device_id": device.pk,
        "token_id": token.pk, "token": order.token, "code": gtin.display(product.gtin),
    }  # fmt: skip
    return World(merchant=merchant, store=store, ids=ids, shopper=shopper)


def _fingerprint() -> dict[str, str]:
    """A digest of every row of every table but the noise, read past row-level security."""
    tables = sorted(set(connection.introspection.table_names()) - NOISE)
    digest = sql.SQL("(SELECT md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM {} x)")
    query = sql.SQL("SELECT {}").format(sql.SQL(", ").join(digest.format(sql.Identifier(t)) for t in tables))
    with platform_access(reason="test: fingerprint", actor="test"), connection.cursor() as cursor:
        cursor.execute(query.as_string(connection.connection))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def test_every_dashboard_and_shopper_route_can_be_opened_with_the_worlds_ids(merchant: Merchant, store: Store, owner: Any) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    world = _world(merchant, store, owner)
    routes = form_routes()
    assert len(routes) > 60
    unknown = sorted({name for route in routes for name in re.findall(r"<(?:\w+:)?(\w+)>", route)} - set(world.ids))
    assert unknown == []


def _discover(world: World, owner: Any) -> list[Form]:
    staff = Client()
    staff.force_login(owner)
    found: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    for route in form_routes():
        url = world.url(route)
        client = world.shopper if route.startswith(("s/", "shopper/")) else staff
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if "html" not in response.get("Content-Type", "") or getattr(response, "streaming", False):
            continue
        parser = _Forms(url)
        parser.feed(response.content.decode())
        for form in parser.forms:
            if not form.action.startswith(("/m/", "/s/", "/shopper/")) or "sign-out" in form.action:
                continue
            key = (form.method, form.action, tuple(sorted(form.fields)))
            found.setdefault(key, form)
    return list(found.values())


def _filled_in(form: Form, client: Client, seen: list[tuple[str, int]]) -> Any:
    """A hypothesis test that fills ``form`` in with the page's own values and hostile ones, and posts it."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def post(data: st.DataObject) -> None:
        body: dict[str, Any] = {}
        for name, offered in form.fields.items():
            choices = [v for v in offered if v] or [""]
            body[name] = data.draw(st.one_of(st.sampled_from(choices), VALUES), label=name)
        for name in form.files:
            body[name] = SimpleUploadedFile("x.bin", data.draw(st.binary(max_size=300), label=name))
        if form.method == "get":
            response = client.get(form.action, body)
            assert response.status_code < 500, (form.action, body)
            return
        before = _fingerprint()
        response = client.post(form.action, body, HTTP_HX_REQUEST=data.draw(st.sampled_from(["", "true"])))
        seen.append((form.action, response.status_code))
        assert response.status_code < 500, (form.action, body)
        if response.status_code >= 400:
            after = _fingerprint()
            changed = [table for table in before if before[table] != after[table]]
            assert changed == [], (form.action, response.status_code, body)

    return post


def test_random_and_extreme_values_in_every_form_never_answer_500_and_a_4xx_changes_nothing(merchant: Merchant, store: Store, owner: Any) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    world = _world(merchant, store, owner)
    staff = Client()
    staff.force_login(owner)
    forms = _discover(world, owner)
    assert len(forms) >= 30, [f.action for f in forms]
    seen: list[tuple[str, int]] = []

    for form in forms:
        client = world.shopper if form.action.startswith(("/s/", "/shopper/")) else staff
        _filled_in(form, client, seen)()
    assert any(400 <= status < 500 for _action, status in seen)
    assert any(status < 400 for _action, status in seen)


def test_the_form_walk_reaches_the_forms_that_were_answered_500(merchant: Merchant, store: Store, owner: Any) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    world = _world(merchant, store, owner)
    actions = {form.action for form in _discover(world, owner)}
    slug, code = merchant.slug, store.code
    for wanted in (f"/m/{slug}/stock/{world.ids['item_id']}/", f"/m/{slug}/catalog/import/", f"/s/{code}/checkout/"):
        assert any(action.split("?")[0] == wanted for action in actions), wanted


def _forms_on(client: Client, url: str, action: str) -> list[Form]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = _Forms(url)
    parser.feed(response.content.decode())
    return [form for form in parser.forms if form.action.split("?")[0].endswith(action)]


def test_the_forms_a_state_brings_get_the_same_walk(merchant: Merchant, store: Store, owner: Any) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """Forms that only a state shows, which the walk above does not reach: receiving a shipped order, opening a
    shift at a store with none open, and paying a deposit out when the bottles come to more than the goods."""
    world = _world(merchant, store, owner)
    second = StoreFactory(merchant=merchant, name="Bahnhof", code="BAHNHOF1")
    staff = Client()
    staff.force_login(owner)
    slug = merchant.slug
    # A suggested order sent, confirmed and shipped: the owner receives it.
    order_id = world.ids["restock.order_id"]
    editing.purchase_order_submit(merchant=merchant, order_id=order_id, by=owner)
    fulfilment.purchase_order_confirm(merchant=merchant, order_id=order_id, by=None)
    fulfilment.purchase_order_ship(merchant=merchant, order_id=order_id, by=None)
    receive = _forms_on(staff, f"/m/{slug}/restock/orders/{order_id}/receive/", "/receive/")
    # The second store has no shift open: its counter page offers to open one.
    open_shift = _forms_on(staff, f"/m/{slug}/counter/?store={second.pk}", "/counter/shifts/open/")
    # Six cans back at 0,25 and nothing bought: the sale pays 1,50 out.
    _stocked(second, "Quellwerk Cola", 249, deposit=25)
    sale = counter.counter_sale_start(shift=shift_open(store=second, opened_by=owner, opening_cash=5000), clerk=owner)
    counter.counter_bottles_return(order=sale, bottles=6, deposit=25)
    pay_out = _forms_on(staff, f"/m/{slug}/counter/?store={second.pk}", f"/counter/sales/{sale.pk}/pay/out/")
    assert receive, receive
    assert open_shift, open_shift
    assert pay_out, pay_out
    seen: list[tuple[str, int]] = []
    for form in [*receive, *open_shift, *pay_out]:
        _filled_in(form, staff, seen)()
    posted = {action.split("?")[0] for action, _status in seen}
    assert {form.action.split("?")[0] for form in [*receive, *open_shift, *pay_out]} <= posted
