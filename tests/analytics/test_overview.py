"""The Overview (dashboard home): what needs attention now in each store, for this merchant only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import StoreProduct
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering.models import Claim, Depot, PurchaseOrder, StoreSupply
from ordering.services.base import order_create
from sensing.models import Alert, AlertKind
from sensing.services.cameras import camera_register
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory
from tests.query_counts import Case, Request, Shop, case_counted, query_cases, signed_in

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _stock(store: Store, *on_hands: tuple[int, int | None]) -> list[StoreProduct]:
    return [StoreProductFactory(store=store, on_hand=on_hand, low_stock_threshold=low) for on_hand, low in on_hands]


def _draft_and_claim(store: Store) -> PurchaseOrder:
    """A supplied store with a suggested order for next Tuesday and a received order with an open claim."""
    depot = Depot.objects.create(wholesaler=store.merchant.wholesaler, name="Depot Nord")
    with merchant_context(store.merchant_id):
        StoreSupply.objects.create(
            merchant_id=store.merchant_id, store=store, depot=depot, delivery_weekdays=["tue"],
            cutoff_time=dt.time(18, 0), lead_time_days=1,
        )  # fmt: skip
        draft = order_create(
            merchant_id=store.merchant_id, store=store, depot=depot, delivery_date=dt.date(2026, 12, 8)
        )
        received = order_create(
            merchant_id=store.merchant_id,
            store=store,
            depot=depot,
            delivery_date=dt.date(2026, 12, 1),
            state="received",
        )
        Claim.objects.create(merchant_id=store.merchant_id, order=received)
    return draft


def _alert(store: Store) -> None:
    camera, _token = camera_register(merchant=store.merchant, store_id=store.pk, name="Drinks shelf")
    with merchant_context(store.merchant_id):
        Alert.objects.create(
            merchant_id=store.merchant_id, camera=camera, kind=AlertKind.STOCK_OUT, started_at=timezone.now()
        )
        Alert.objects.create(
            merchant_id=store.merchant_id, camera=camera, kind=AlertKind.LOW_STOCK, started_at=timezone.now(),
            ended_at=timezone.now(),
        )  # fmt: skip


def test_each_store_says_what_needs_attention(merchant: Merchant, store: Store, owner: Any) -> None:
    # out: 0 and -2 on hand; low: 3 of at most 5 (a threshold-less 1 is not low); fine: 9 of at most 5.
    _stock(store, (0, None), (-2, 5), (3, 5), (1, None), (9, 5))
    draft = _draft_and_claim(store)
    _alert(store)
    calm = StoreFactory(merchant=merchant, name="Bahnhof")
    _stock(calm, (9, 5))

    body = _client(owner).get(reverse("analytics:overview", kwargs={"slug": merchant.slug})).content.decode()

    section = body.split(f'id="store-{store.pk}"')[1].split("</section>")[0]
    assert "2 products out of stock" in section
    assert "1 product running low" in section
    assert "1 open camera alert" in section  # the ended one is not counted
    assert f"Suggested order {draft.number} waits for review" in section
    # Tuesday's delivery, one day's lead: by Monday 18:00 in the store's zone (Europe/Berlin).
    assert "order by Mon 7 Dec 18:00" in section
    assert "1 open receiving claim" in section
    assert "Nothing waits for you here." in body.split(f'id="store-{calm.pk}"')[1].split("</section>")[0]
    # The page claims nothing is unbuilt (the menu still tags Analytics, which is not built yet).
    assert "not built" not in body.split("<main")[1].lower()


def test_another_merchants_overview_is_not_found(other_merchant: Merchant, owner: Any) -> None:
    response = _client(owner).get(reverse("analytics:overview", kwargs={"slug": other_merchant.slug}))
    assert response.status_code == 404


def test_a_clerk_sees_the_overview(merchant: Merchant, store: Store, clerk: Any) -> None:
    _stock(store, (0, None))
    body = _client(clerk).get(reverse("analytics:overview", kwargs={"slug": merchant.slug})).content.decode()
    assert "1 product out of stock" in body


def overview_page(rows: int, shop: Shop) -> Request:
    """Rows stores, each with a product out of stock and one running low."""
    stores = [shop.store] + [StoreFactory(merchant=shop.merchant, name=f"Filiale {n}") for n in range(rows - 1)]
    for store in stores:
        _stock(store, (0, None), (2, 5))
    url = reverse("analytics:overview", kwargs={"slug": shop.merchant.slug})
    return Request(signed_in(shop.owner), url, [store.name for store in stores])


# The session, sign-in and the view's tenancy context, the stores (read once for the page and the picker), the
# attention list (one statement for every store), the staff count, the menu's shops (one query, in the view's
# context) and the four sales summaries (one query, in the view's context with no savepoint of its own): 13.
CASES = query_cases(Case("overview page", overview_page, 13))


@pytest.mark.parametrize(("case", "rows"), CASES)
def test_query_counts(
    case: Case, rows: int, merchant: Merchant, store: Store, owner: Any, django_assert_num_queries: Any
) -> None:
    case_counted(case, rows, Shop(merchant, store, owner), django_assert_num_queries)


def test_owners_see_today_so_far_against_the_same_hours_a_week_ago(
    merchant: Merchant, store: Store, owner: Any, clerk: Any
) -> None:
    from analytics.services.facts import facts_sweep
    from core.money import format_amount
    from tests.analytics.conftest import paid_at_set, phone_order, stocked

    cola = stocked(store, 20, price=238, product__tax_class="standard", product__name="Quellwerk Cola")  # 2,00 € net
    now = timezone.now()
    phone_order(store, [(cola, 3)])  # today: 6,00 € net
    # A week ago: one sale in the same hour counts; one an hour later (or past midnight) does not.
    paid_at_set(phone_order(store, [(cola, 2)]), now - dt.timedelta(days=7))
    paid_at_set(phone_order(store, [(cola, 5)]), now - dt.timedelta(days=7) + dt.timedelta(hours=1))
    facts_sweep(hours=24 * 30, settle_seconds=0, limit=100)

    body = _client(owner).get(reverse("analytics:overview", kwargs={"slug": merchant.slug})).content.decode()
    today = body.split('id="today-net_sales"')[1].split("</section>")[0]
    assert f'class="tile-value">{format_amount(600, "EUR")}<' in today
    assert "+50\xa0%" in today  # 6,00 € against 4,00 €
    assert f"vs {format_amount(400, 'EUR')}" in today
    units = body.split('id="today-units"')[1].split("</section>")[0]
    assert 'class="tile-value">3<' in units
    # Clerks see what needs attention, never the figures.
    clerks = _client(clerk).get(reverse("analytics:overview", kwargs={"slug": merchant.slug})).content.decode()
    assert 'id="today-net_sales"' not in clerks
    assert "Needs attention now" in clerks


def test_a_refused_period_on_the_overview_says_why(merchant: Merchant, store: Store, owner: Any) -> None:
    del store
    response = _client(owner).get(
        reverse("analytics:overview", kwargs={"slug": merchant.slug}),
        {"period": "custom", "start": "2026-05-02", "end": "2026-05-01"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "swap the two dates" in body
    assert 'id="period-net_sales"' not in body
    assert 'id="today-net_sales"' in body
