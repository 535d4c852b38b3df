"""Query counts of the merchants' list pages and list endpoints, pinned for 1 row and for 20 rows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from merchants.models import Merchant, Role, Store
from merchants.services import api_token_create, invitation_create
from tests.factories import DeviceFactory, MembershipFactory, MerchantFactory, StoreFactory
from tests.query_counts import Case, Request, Shop, bearer, case_counted, query_cases, signed_in

pytestmark = pytest.mark.django_db


def _stores(shop: Shop, rows: int) -> list[str]:
    """Rows stores: the shop's own and rows - 1 more."""
    return [shop.store.name] + [StoreFactory(merchant=shop.merchant, name=f"Filiale {n}").name for n in range(rows - 1)]


def _members(shop: Shop, rows: int) -> None:
    """Rows members: the owner and rows - 1 clerks."""
    for n in range(rows - 1):
        MembershipFactory(merchant=shop.merchant, role=Role.CLERK, user__username=f"clerk{n}@example.com")


def _devices(shop: Shop, rows: int) -> list[str]:
    return [DeviceFactory(store=shop.store).name for _ in range(rows)]


def _page(shop: Shop, name: str, shown: list[str] | None = None) -> Request:
    return Request(
        signed_in(shop.owner), reverse(f"merchants:{name}", kwargs={"slug": shop.merchant.slug}), shown or []
    )


def _api(shop: Shop, name: str) -> Request:
    return Request(bearer(shop.owner), reverse(f"merchants:{name}", kwargs={"merchant_id": shop.merchant.pk}))


def stores_page(rows: int, shop: Shop) -> Request:
    return _page(shop, "stores", _stores(shop, rows))


def staff_page(rows: int, shop: Shop) -> Request:
    _members(shop, rows)
    return _page(shop, "staff", [f"clerk{rows - 2}@example.com"] if rows > 1 else [])


def staff_page_invitations(rows: int, shop: Shop) -> Request:
    emails = [f"new{n}@example.com" for n in range(rows)]
    for email in emails:
        invitation_create(merchant=shop.merchant, invited_by=shop.owner, email=email, role=Role.CLERK)
    return _page(shop, "staff", emails)


def devices_page(rows: int, shop: Shop) -> Request:
    return _page(shop, "devices", _devices(shop, rows))


def api_tokens_page(rows: int, shop: Shop) -> Request:
    names = [f"Script {n}" for n in range(rows)]
    for name in names:
        api_token_create(user=shop.owner, name=name)
    return Request(signed_in(shop.owner), reverse("merchants:api_tokens"), names)


def merchant_list_api(rows: int, shop: Shop) -> Request:
    for _ in range(rows - 1):
        MembershipFactory(merchant=MerchantFactory(), user=shop.owner, role=Role.OWNER)
    return Request(bearer(shop.owner), reverse("merchants:api_merchant_list"))


def store_list_api(rows: int, shop: Shop) -> Request:
    _stores(shop, rows)
    return _api(shop, "api_store_list")


def member_list_api(rows: int, shop: Shop) -> Request:
    _members(shop, rows)
    return _api(shop, "api_member_list")


def device_list_api(rows: int, shop: Shop) -> Request:
    _devices(shop, rows)
    return _api(shop, "api_device_list")


# Measured. A merchant's page pays about a dozen for the session, sign-in, merchant, tenancy,
# membership and navigation; the tokens page is the user's own (session, user, tokens).
CASES = query_cases(
    Case("stores page", stores_page, 10),
    Case("staff page", staff_page, 11),
    Case("staff page invitations", staff_page_invitations, 11),
    Case("devices page", devices_page, 11),
    Case("api tokens page", api_tokens_page, 3),
    Case("merchant list api", merchant_list_api, 6),
    Case("store list api", store_list_api, 10),
    Case("member list api", member_list_api, 10),
    Case("device list api", device_list_api, 10),
)


@pytest.mark.parametrize(("case", "rows"), CASES)
def test_query_counts(
    case: Case, rows: int, merchant: Merchant, store: Store, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    case_counted(case, rows, Shop(merchant, store, owner), django_assert_num_queries)
