"""Menus show each role what it may open and nothing else; staff of no shop land where they work."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from merchants.access import view_permission
from merchants.context_processors import SECTIONS
from merchants.models import Membership, Merchant, Role, Store, WholesalerStaff
from merchants.services import managers_analytics_set
from merchants.tenancy import merchant_context
from tests.factories import MembershipFactory, UserFactory, signed_in_two_step

pytestmark = pytest.mark.django_db

ALL = ["Overview", "Catalog", "Stock", "Counter", "Exit passes", "Orders", "Cameras", "Restock", "Analytics",
       "Stores", "Devices", "Staff", "Payments", "Your data"]  # fmt: skip


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _menu(client: Client, merchant: Merchant) -> dict[str, str]:
    """The dashboard menu's links, label -> URL, as the page shows them."""
    body = client.get(f"/m/{merchant.slug}/").content.decode()
    nav = body[body.index('aria-label="Dashboard"') : body.index("</nav>", body.index('aria-label="Dashboard"'))]
    return {label: url for url, label in re.findall(r'href="([^"]+)"[^>]*>\s*<span>([^<]+)</span>', nav)}


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("owner", ALL),
        ("manager", [label for label in ALL if label not in ("Payments", "Your data")]),
        ("clerk", [label for label in ALL if label not in ("Analytics", "Devices", "Payments", "Your data")]),
    ],
)
def test_each_role_sees_the_menu_links_it_may_open_and_every_one_answers_200(
    role: str, shown: list[str], merchant: Merchant, store: Store, request: pytest.FixtureRequest
) -> None:
    del store  # asked for so that store pages have a store to show
    client = _client(request.getfixturevalue(role))
    menu = _menu(client, merchant)
    assert list(menu) == shown
    for label, url in menu.items():
        assert client.get(url).status_code == 200, (role, label, url)


def test_a_manager_kept_from_analytics_has_no_analytics_link(merchant: Merchant, store: Store, manager: Any) -> None:
    del store
    managers_analytics_set(merchant=merchant, allowed=False)
    client = _client(manager)
    menu = _menu(client, merchant)
    assert "Analytics" not in menu
    assert client.get(f"/m/{merchant.slug}/analytics/").status_code == 403
    assert all(client.get(url).status_code == 200 for url in menu.values())


def test_the_menu_reads_each_sections_permission_from_its_view() -> None:
    permissions = {url_name: view_permission(url_name) for _key, _label, url_name, _built in SECTIONS}
    assert permissions == {
        "analytics:overview": "view",
        "catalog:section_catalog": "view",
        "catalog:section_stock": "view",
        "checkout:section_counter": "sell",
        "checkout:exit_check": "sell",
        "checkout:section_orders": "view",
        "sensing:cameras": "view",
        "ordering:section_restock": "view",
        "analytics:index": "view_analytics",
        "merchants:stores": "view",
        "merchants:devices": "manage_devices",
        "merchants:staff": "view",
        "checkout:payments_settings": "manage_settings",
        "merchants:data": "manage_settings",
    }
    # Decorators around merchant_view (require_POST) keep what it needs.
    assert view_permission("sensing:camera_events_review") == "manage_stock"
    assert view_permission("merchants:store_edit") == "manage_settings"
    with pytest.raises(LookupError, match="merchants:home is not a dashboard view"):
        view_permission("merchants:home")


@pytest.mark.parametrize("kind", ["wholesaler staff", "platform operator"])
def test_staff_of_no_shop_land_on_the_admin(kind: str, merchant: Merchant) -> None:
    if kind == "wholesaler staff":
        user = UserFactory(username="depot@wholesale.example", is_staff=True)
        WholesalerStaff.objects.create(user=user, wholesaler=merchant.wholesaler)
        client = _client(user)
    else:
        # The platform operator always signs in in two steps.
        client = signed_in_two_step(UserFactory(username="ops@lingshou.example", is_staff=True, is_superuser=True))
    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/admin/", 302)]
    assert response.status_code == 200
    assert "Ask the shop" not in response.content.decode()


def test_someone_on_no_staff_at_all_is_asked_to_get_an_invitation(outsider: Any) -> None:
    response = _client(outsider).get("/")
    assert response.status_code == 200
    assert "Ask the shop's owner to invite you by e-mail." in response.content.decode()


def test_wholesaler_staff_who_also_run_a_shop_land_on_the_shop(merchant: Merchant) -> None:
    user = UserFactory(username="both@example.com", is_staff=True)
    WholesalerStaff.objects.create(user=user, wholesaler=merchant.wholesaler)
    MembershipFactory(merchant=merchant, user=user, role=Role.OWNER)
    response = _client(user).get("/")
    assert (response.status_code, response["Location"]) == (302, f"/m/{merchant.slug}/")


def test_the_only_owner_is_told_and_cannot_be_removed_or_demoted(merchant: Merchant, owner: Any, clerk: Any) -> None:
    with merchant_context(merchant.pk):
        mine = Membership.objects.get(user=owner)
    client = _client(owner)
    staff = client.get(f"/m/{merchant.slug}/staff/").content.decode()
    assert "The only owner: make someone else owner before changing this role." in staff
    assert staff.count('value="remove"') == 1  # the clerk's Remove only
    for data in ({"action": "remove"}, {"action": "role", "role": "manager"}):
        response = client.post(f"/m/{merchant.slug}/staff/{mine.pk}/", data, follow=True)
        assert "A shop needs at least one owner. Make someone else owner first." in response.content.decode()
    with merchant_context(merchant.pk):
        assert Membership.objects.filter(merchant=merchant, role=Role.OWNER).values_list(
            "user_id", flat=True
        ).get() == (owner.pk)
    # With a second owner, either may go.
    with merchant_context(merchant.pk):
        theirs = Membership.objects.get(user=clerk)
    client.post(f"/m/{merchant.slug}/staff/{theirs.pk}/", {"action": "role", "role": "owner"})
    assert client.post(f"/m/{merchant.slug}/staff/{mine.pk}/", {"action": "remove"}).status_code == 302
    with merchant_context(merchant.pk):
        assert list(Membership.objects.filter(merchant=merchant).values_list("user_id", "role")) == [
            (clerk.pk, Role.OWNER)
        ]
