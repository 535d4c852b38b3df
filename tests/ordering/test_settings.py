"""The owner's restock settings: auto-submit and service levels per category, who may change them,
bad input and another merchant's store (nothing changes), and what the next suggestion does with them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from catalog.models import Category, Product
from merchants.models import Store
from merchants.tenancy import merchant_context
from ordering.models import Depot, StoreSupply
from ordering.services import drafting
from ordering.services.supply import supply_preferences_set
from tests.ordering.conftest import selling

pytestmark = pytest.mark.django_db


@pytest.fixture
def drinks(cola: Product, chips: Product) -> Category:
    """Cola is a drink; chips are snacks; beer is under drinks."""
    wholesaler = cola.wholesaler
    category, _ = Category.objects.get_or_create(wholesaler=wholesaler, path="drinks", defaults={"name": "Drinks"})
    Category.objects.get_or_create(
        wholesaler=wholesaler, path="drinks/beer", defaults={"name": "Beer", "parent": category}
    )
    snacks, _ = Category.objects.get_or_create(wholesaler=wholesaler, path="snacks", defaults={"name": "Snacks"})
    Product.objects.filter(pk=cola.pk).update(category=category)
    Product.objects.filter(pk=chips.pk).update(category=snacks)
    return category


def _supply(store: Store) -> tuple[bool, float, dict[str, float]]:
    with merchant_context(store.merchant_id):
        supply = StoreSupply.objects.get(store=store)
        return supply.is_auto_submit, supply.default_service_level, supply.service_levels


def _url(merchant, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/m/{merchant.slug}/restock/settings/{tail}"


@pytest.mark.usefixtures("drinks")
def test_the_owner_sees_the_stores_choices_with_every_top_level_category(
    owner_client: Client, merchant, store: Store, supply: StoreSupply
) -> None:  # type: ignore[no-untyped-def]
    with merchant_context(store.merchant_id):
        StoreSupply.objects.filter(pk=supply.pk).update(default_service_level=0.97, service_levels={"drinks/beer": 0.9})
    page = owner_client.get(_url(merchant), {"store": store.pk})
    text = page.content.decode()
    assert page.status_code == 200
    assert 'name="default_level" id="id_default_level" value="97"' in text
    assert 'name="level-drinks" id="id_level-drinks" value=""' in text
    assert 'name="level-snacks" id="id_level-snacks" value=""' in text
    # A deeper category shows where it has a level of its own, with that level.
    assert 'name="level-drinks/beer" id="id_level-drinks/beer" value="90"' in text
    assert "Only the owner can change" not in text
    restock = owner_client.get(f"/m/{merchant.slug}/restock/").content.decode()
    assert "97 % (some categories differ)" in restock
    assert f"/restock/settings/?store={store.pk}" in restock


@pytest.mark.usefixtures("supply", "drinks")
def test_saving_turns_on_auto_submit_and_sets_levels_in_percent(owner_client: Client, merchant, store: Store) -> None:  # type: ignore[no-untyped-def]
    response = owner_client.post(
        _url(merchant, "save/"),
        {"store": store.pk, "auto_submit": "on", "default_level": "96.5", "level-drinks": "99", "level-snacks": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert f"Saved how Lingshou restocks {store.name}." in response.content.decode()
    assert _supply(store) == (True, 0.965, {"drinks": 0.99})
    # Unticked and emptied, it goes back: no auto-submit, no level of its own.
    owner_client.post(_url(merchant, "save/"), {"store": store.pk, "default_level": "95", "level-drinks": ""})
    assert _supply(store) == (False, 0.95, {})


@pytest.mark.usefixtures("supply", "drinks")
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"default_level": "100"}, "99.9 % is the most"),
        ({"default_level": "30"}, "below 50 %"),
        ({"default_level": ""}, "Give the usual service level in percent"),
        ({"default_level": "95", "level-drinks": "lots"}, "Give the service level as a percentage"),
        ({"default_level": "95", "level-drinks": "97.25"}, "at most one decimal"),
    ],
)
def test_bad_levels_are_a_clear_message_and_change_nothing(
    owner_client: Client, merchant, store: Store, data, message: str
) -> None:  # type: ignore[no-untyped-def]
    before = _supply(store)
    response = owner_client.post(_url(merchant, "save/"), {"store": store.pk, "auto_submit": "on", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _supply(store) == before


@pytest.mark.usefixtures("supply", "drinks")
def test_a_category_the_wholesaler_does_not_have_changes_nothing(merchant, store: Store) -> None:  # type: ignore[no-untyped-def]
    before = _supply(store)
    with pytest.raises(ValidationError, match="no category toys"):
        supply_preferences_set(
            merchant=merchant, store=store, by=None, is_auto_submit=True, default_service_level=0.9,
            service_levels={"drinks": 0.99, "toys": 0.9},
        )  # fmt: skip
    assert _supply(store) == before


@pytest.mark.usefixtures("supply", "drinks")
def test_managers_see_the_settings_but_only_the_owner_changes_them(
    client: Client, manager, merchant, store: Store
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(manager)
    page = client.get(_url(merchant), {"store": store.pk}).content.decode()
    assert "Only the owner can change these settings." in page
    assert '<fieldset class="bare" disabled>' in page
    before = _supply(store)
    response = client.post(_url(merchant, "save/"), {"store": store.pk, "auto_submit": "on", "default_level": "99"})
    assert response.status_code == 403
    assert _supply(store) == before


def test_a_store_without_supply_says_so_and_saves_nothing(owner_client: Client, merchant, store: Store) -> None:  # type: ignore[no-untyped-def]
    assert "has no supplying depot yet" in owner_client.get(_url(merchant)).content.decode()
    response = owner_client.post(_url(merchant, "save/"), {"store": store.pk, "default_level": "99"})
    assert response.status_code == 400
    assert "has no supplying depot yet" in response.content.decode()
    with merchant_context(store.merchant_id):
        assert not StoreSupply.objects.filter(store=store).exists()


def test_another_merchants_store_is_404_and_changes_nothing(
    owner_client: Client, merchant, other_store: Store, depot: Depot
) -> None:  # type: ignore[no-untyped-def]
    with merchant_context(other_store.merchant_id):
        StoreSupply.objects.create(merchant_id=other_store.merchant_id, store=other_store, depot=depot)
    before = _supply(other_store)
    assert owner_client.get(_url(merchant), {"store": other_store.pk}).status_code == 404
    response = owner_client.post(
        _url(merchant, "save/"), {"store": other_store.pk, "auto_submit": "on", "default_level": "99"}
    )
    assert response.status_code == 404
    assert _supply(other_store) == before
    # Nor through the other merchant's own URL: the owner is no member there.
    other = other_store.merchant
    assert owner_client.get(f"/m/{other.slug}/restock/settings/").status_code == 404


@pytest.mark.usefixtures("supply", "drinks")
def test_a_category_level_changes_the_next_suggestion_for_its_products_only(
    owner_client: Client, merchant, store: Store, cola: Product, chips: Product
) -> None:  # type: ignore[no-untyped-def]
    # Cola (drinks) sells about 6 a day; chips (snacks) about 1.
    selling(store, cola, daily=[6, 2, 9, 5, 11, 3, 7] * 6, left=4, end=timezone.now())
    selling(store, chips, daily=[1, 0, 2, 1, 0, 1, 1] * 6, left=2, end=timezone.now())

    def quantities() -> dict[str, int]:
        outcome = drafting.purchase_order_draft(store=store)
        order = outcome.order
        assert order is not None
        with merchant_context(store.merchant_id):
            return {line.product.name: line.quantity for line in order.lines.select_related("product")}

    def level(drinks: str) -> None:
        data = {"store": store.pk, "default_level": "95", "level-drinks": drinks}
        assert owner_client.post(_url(merchant, "save/"), data).status_code == 302

    level("60")
    low = quantities()
    level("99.9")
    assert _supply(store)[2] == {"drinks": 0.999}
    high = quantities()
    assert high["Quellwerk Cola"] > low["Quellwerk Cola"]
    assert high.get("Knusper Chips", 0) == low.get("Knusper Chips", 0)
