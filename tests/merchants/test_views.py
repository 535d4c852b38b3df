"""Dashboard pages: members get in by role, outsiders and other merchants' staff get 404."""

from __future__ import annotations

import pytest
from django.test import Client

from merchants.models import Device, Invitation, Membership, Merchant, Role, Store
from merchants.tenancy import merchant_context, platform_access
from tests.factories import DeviceFactory, MembershipFactory

pytestmark = pytest.mark.django_db

SECTIONS = ["catalog", "stock", "counter", "orders", "cameras", "restock", "analytics", "exit", "settings/payments",
            "data"]  # fmt: skip


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _counts() -> dict[str, int]:
    with platform_access(reason="test: count rows", actor="test"):
        return {model.__name__: model.objects.count() for model in (Store, Device, Membership, Invitation)}


@pytest.mark.parametrize("path", ["", "stores/", "staff/", "devices/", *[f"{s}/" for s in SECTIONS]])
def test_every_dashboard_page_answers_its_owner_and_hides_from_others(
    path: str,
    merchant: Merchant,
    store: Store,  # noqa: ARG001 - fixture requested for the rows it creates
    owner,
    outsider,
    other_owner,  # type: ignore[no-untyped-def]
) -> None:
    url = f"/m/{merchant.slug}/{path}"
    assert _client(owner).get(url).status_code == 200
    assert _client(outsider).get(url).status_code == 404
    assert _client(other_owner).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # anonymous: to the login page


def test_an_unknown_merchant_slug_is_404_with_a_page(owner) -> None:  # type: ignore[no-untyped-def]
    response = _client(owner).get("/m/no-such-shop/")
    assert response.status_code == 404
    assert b"<html" in response.content.lower()


def test_the_dashboard_lists_only_this_merchants_stores(
    merchant: Merchant,
    store: Store,
    other_store: Store,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    body = _client(owner).get(f"/m/{merchant.slug}/stores/").content.decode()
    assert store.code in body
    assert other_store.code not in body


def test_the_analytics_section_lists_its_reports_and_claims_none_unbuilt(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    body = _client(owner).get(f"/m/{merchant.slug}/analytics/").content.decode()
    main = body.split("<main")[1]
    assert "not built" not in main.lower()
    for report in ("sales", "products", "losses", "baskets", "forecasts", "stores", "day"):
        assert f'href="/m/{merchant.slug}/analytics/{report}/"' in main, report
    assert "soon" not in body.split('aria-label="Dashboard"')[1].split("</nav>")[0]


def test_a_clerk_cannot_manage_devices_and_is_told_why(merchant: Merchant, store: Store, clerk) -> None:  # type: ignore[no-untyped-def]
    before = _counts()
    client = _client(clerk)
    response = client.post(f"/m/{merchant.slug}/devices/", {"name": "Cam", "kind": "camera", "store": store.pk})
    assert response.status_code == 403
    assert "Only owners and managers" in response.content.decode()
    assert _counts() == before


def test_a_manager_registers_a_device_and_sees_its_token_once(merchant: Merchant, store: Store, manager) -> None:  # type: ignore[no-untyped-def]
    client = _client(manager)
    response = client.post(f"/m/{merchant.slug}/devices/", {"name": "Drinks cam", "kind": "camera", "store": store.pk})
    assert response.status_code == 200
    token = response.context["new_token"]
    assert token.startswith("lsd_")
    with merchant_context(merchant.pk):
        device = Device.objects.get(name="Drinks cam")
    assert token not in device.token_hash
    assert device.prefix == token[:10]
    assert token not in client.get(f"/m/{merchant.slug}/devices/").content.decode()


def test_a_device_of_another_merchants_store_cannot_be_registered(
    merchant: Merchant,
    other_store: Store,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    before = _counts()
    response = _client(owner).post(
        f"/m/{merchant.slug}/devices/", {"name": "Sneaky", "kind": "camera", "store": other_store.pk}
    )
    assert response.status_code == 400
    assert _counts() == before


def test_revoking_another_merchants_device_is_404_and_changes_nothing(
    merchant: Merchant,
    other_store: Store,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    foreign = DeviceFactory(store=other_store)
    response = _client(owner).post(f"/m/{merchant.slug}/devices/{foreign.pk}/revoke/")
    assert response.status_code == 404
    with merchant_context(other_store.merchant.pk):
        foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_changing_another_merchants_member_is_404_and_changes_nothing(
    merchant: Merchant,
    other_merchant: Merchant,
    owner,
    other_owner,  # type: ignore[no-untyped-def]
) -> None:
    with merchant_context(other_merchant.pk):
        foreign = Membership.objects.get(user=other_owner)
    before = _counts()
    client = _client(owner)
    assert (
        client.post(f"/m/{merchant.slug}/staff/{foreign.pk}/", {"role": "clerk", "action": "role"}).status_code == 404
    )
    assert client.post(f"/m/{merchant.slug}/staff/{foreign.pk}/", {"action": "remove"}).status_code == 404
    with merchant_context(other_merchant.pk):
        foreign.refresh_from_db()
    assert foreign.role == Role.OWNER
    assert _counts() == before


def test_the_last_owner_cannot_be_demoted_or_removed(merchant: Merchant, owner) -> None:  # type: ignore[no-untyped-def]
    with merchant_context(merchant.pk):
        mine = Membership.objects.get(user=owner)
    client = _client(owner)
    response = client.post(f"/m/{merchant.slug}/staff/{mine.pk}/", {"role": "clerk", "action": "role"}, follow=True)
    assert "at least one owner" in response.content.decode()
    client.post(f"/m/{merchant.slug}/staff/{mine.pk}/", {"action": "remove"})
    with merchant_context(merchant.pk):
        mine.refresh_from_db()
    assert mine.role == Role.OWNER


def test_an_owner_changes_a_clerk_to_manager(merchant: Merchant, owner, clerk) -> None:  # type: ignore[no-untyped-def]
    with merchant_context(merchant.pk):
        membership = Membership.objects.get(user=clerk)
    _client(owner).post(f"/m/{merchant.slug}/staff/{membership.pk}/", {"role": "manager", "action": "role"})
    with merchant_context(merchant.pk):
        membership.refresh_from_db()
    assert membership.role == Role.MANAGER


def test_a_manager_cannot_invite(merchant: Merchant, manager) -> None:  # type: ignore[no-untyped-def]
    before = _counts()
    response = _client(manager).post(f"/m/{merchant.slug}/staff/invite/", {"email": "new@example.com", "role": "owner"})
    assert response.status_code == 403
    assert _counts() == before


def test_the_merchant_switcher_lists_only_the_users_merchants(
    merchant: Merchant,
    other_merchant: Merchant,
    owner,  # type: ignore[no-untyped-def]
) -> None:
    body = _client(owner).get(f"/m/{merchant.slug}/").content.decode()
    assert other_merchant.name not in body
    MembershipFactory(merchant=other_merchant, user=owner, role=Role.CLERK)
    body = _client(owner).get(f"/m/{merchant.slug}/").content.decode()
    assert other_merchant.name in body


def test_the_shopper_landing_page_shows_the_store_and_names_its_cameras(store: Store) -> None:
    DeviceFactory(store=store, name="Drinks shelf")
    body = Client().get(f"/s/{store.code.lower()}/").content.decode()
    assert store.name in body
    assert "Drinks shelf" in body
    assert Client().get("/s/NOPE99/").status_code == 404


def test_an_inactive_stores_landing_page_is_404(store: Store) -> None:
    with merchant_context(store.merchant.pk):
        Store.objects.filter(pk=store.pk).update(is_active=False)
    assert Client().get(f"/s/{store.code}/").status_code == 404


def test_every_dashboard_write_is_404_for_another_merchants_owner_and_changes_nothing(
    merchant: Merchant,
    store: Store,
    owner,
    clerk,
    other_owner,  # type: ignore[no-untyped-def]
) -> None:
    from merchants.services import invitation_create

    device = DeviceFactory(store=store)
    invitation, _raw = invitation_create(merchant=merchant, invited_by=owner, email="x@example.com", role="clerk")
    with merchant_context(merchant.pk):
        member = Membership.objects.get(user=clerk)
    base = f"/m/{merchant.slug}"
    writes = [
        (f"{base}/staff/invite/", {"email": "y@example.com", "role": "owner"}),
        (f"{base}/staff/invitations/{invitation.pk}/revoke/", {}),
        (f"{base}/staff/{member.pk}/", {"role": "owner", "action": "role"}),
        (f"{base}/staff/{member.pk}/", {"action": "remove"}),
        (f"{base}/devices/", {"name": "Cam", "kind": "camera", "store": store.pk}),
        (f"{base}/devices/{device.pk}/revoke/", {}),
    ]
    client = _client(other_owner)
    for url, data in writes:
        before = _counts()
        with platform_access(reason="test: snapshot", actor="test"):
            states = (
                list(Invitation.objects.values_list("pk", "revoked_at")),
                list(Membership.objects.values_list("pk", "role")),
                list(Device.objects.values_list("pk", "revoked_at")),
            )
        assert client.post(url, data).status_code == 404, url
        assert _counts() == before, url
        with platform_access(reason="test: snapshot", actor="test"):
            assert states == (
                list(Invitation.objects.values_list("pk", "revoked_at")),
                list(Membership.objects.values_list("pk", "role")),
                list(Device.objects.values_list("pk", "revoked_at")),
            ), url
