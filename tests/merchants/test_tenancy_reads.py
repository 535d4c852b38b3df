"""A read-only tenancy context inside one for the same merchant costs no statement; the dashboard menu's list of
shops is one query, and inside a dashboard page's context it needs no context of the user's own."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from merchants.models import Merchant, Store
from merchants.selectors import merchant_list_for_user
from merchants.tenancy import merchant_context, merchant_reads, settings_in_force
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """Each statement's first words (savepoint names vary)."""
    return [" ".join(re.sub(r'"s\d+_x\d+"', "", query["sql"]).split()[:2]) for query in captured.captured_queries]


def _codes() -> list[str]:
    return sorted(Store.objects.values_list("code", flat=True))


def test_reads_inside_a_context_for_the_same_merchant_cost_no_statement_of_their_own(
    merchant: Merchant, store: Store, owner: Any
) -> None:
    with merchant_context(merchant.pk, user_id=owner.pk):
        before = settings_in_force()
        with CaptureQueriesContext(connection) as captured, merchant_reads(merchant.pk):
            assert _codes() == [store.code]
        assert _statements(captured) == ['SELECT "merchants_store"."code"']
        assert settings_in_force() == before


def test_reads_for_another_merchant_swap_and_restore_like_a_context(
    merchant: Merchant, store: Store, other_merchant: Merchant, other_store: Store
) -> None:
    with merchant_context(merchant.pk):
        with CaptureQueriesContext(connection) as captured, merchant_reads(other_merchant.pk):
            assert _codes() == [other_store.code]
        assert _statements(captured) == [
            "SAVEPOINT",
            "WITH previous",
            'SELECT "merchants_store"."code"',
            "SELECT set_config('app.merchant_id',",
            "RELEASE SAVEPOINT",
        ]
        assert _codes() == [store.code]


def test_reads_outside_any_context_open_one(merchant: Merchant, store: Store, other_store: Store) -> None:
    del other_store
    assert _codes() == []  # row-level security: no merchant, no rows
    with merchant_reads(merchant.pk):
        assert _codes() == [store.code]
    assert settings_in_force() is None


def test_reads_refuse_a_merchant_instead_of_its_id(merchant: Merchant) -> None:
    with (
        pytest.raises(TypeError, match="merchant_reads takes the merchant's id, not Merchant"),
        merchant_reads(merchant),  # type: ignore[arg-type]
    ):
        pass


def test_the_menus_shops_are_one_query_in_a_dashboard_context_and_only_the_users_own(
    merchant: Merchant, other_merchant: Merchant, owner: Any, other_owner: Any
) -> None:
    del other_owner
    MembershipFactory(merchant=other_merchant, user=owner)
    closed = MerchantFactory(name="Alter Laden", slug="alter-laden", is_active=False)
    MembershipFactory(merchant=closed, user=owner)
    MerchantFactory(name="Anderer Kiosk", slug="anderer-kiosk")  # not the owner's
    with merchant_context(merchant.pk, user_id=owner.pk):
        with CaptureQueriesContext(connection) as captured:
            names = [shop.name for shop in merchant_list_for_user(user=owner)]
        assert names == ["Kiosk Lindenstraße", "Späti am Park"]
        assert len(captured.captured_queries) == 1
    # Anywhere else the user's own context shows their memberships: the same list.
    assert [shop.name for shop in merchant_list_for_user(user=owner)] == names
    with merchant_context(other_merchant.pk):
        assert [shop.name for shop in merchant_list_for_user(user=owner)] == names
