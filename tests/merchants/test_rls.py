"""Row-level security: the backstop that holds when a query forgets its merchant filter."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from merchants.models import Device, Membership, Merchant, PlatformAccess, Store
from merchants.tenancy import lookup_context, merchant_context, platform_access, user_context
from tests.factories import DeviceFactory, MembershipFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_shops(merchant: Merchant, other_merchant: Merchant) -> None:
    """Marker rows in every tenant table for both merchants."""
    for owner_of in (merchant, other_merchant):
        store = StoreFactory(merchant=owner_of)
        DeviceFactory(store=store)
        MembershipFactory(merchant=owner_of)


def test_every_table_with_a_merchant_id_has_row_level_security_enabled_and_forced() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, k.relrowsecurity, k.relforcerowsecurity
            FROM information_schema.columns c
            JOIN pg_class k ON k.relname = c.table_name AND k.relkind = 'r'
            JOIN pg_namespace n ON n.oid = k.relnamespace AND n.nspname = c.table_schema
            WHERE c.column_name = 'merchant_id' AND c.table_schema = 'public'
            """
        )
        rows = cursor.fetchall()
    assert {"merchants_store", "merchants_membership", "merchants_device", "merchants_invitation"} <= {
        r[0] for r in rows
    }
    unprotected = [name for name, enabled, forced in rows if not (enabled and forced)]
    assert unprotected == []


def test_the_application_role_cannot_skip_row_level_security() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


@pytest.mark.usefixtures("two_shops")
@pytest.mark.parametrize("model", [Store, Device, Membership])
def test_an_unfiltered_query_for_one_merchant_returns_none_of_anothers_rows(
    model: type, merchant: Merchant, other_merchant: Merchant
) -> None:
    with merchant_context(merchant.pk):
        seen = set(model.objects.all().values_list("merchant_id", flat=True))  # deliberately unfiltered
    assert seen == {merchant.pk}
    with merchant_context(other_merchant.pk):
        seen = set(model.objects.all().values_list("merchant_id", flat=True))
    assert seen == {other_merchant.pk}


@pytest.mark.usefixtures("two_shops")
def test_with_no_merchant_set_a_query_sees_no_rows_and_does_not_fail() -> None:
    assert Store.objects.count() == 0
    assert list(Device.objects.all()) == []


@pytest.mark.usefixtures("two_shops")
def test_a_write_for_another_merchant_is_refused(merchant: Merchant, other_merchant: Merchant) -> None:
    with pytest.raises(DatabaseError, match="row-level security"), merchant_context(merchant.pk):
        Store.objects.create(merchant=other_merchant, name="Smuggled", code="SMUGGLE1")
    with platform_access(reason="test: check nothing was written", actor="test"):
        assert not Store.objects.filter(code="SMUGGLE1").exists()


@pytest.mark.usefixtures("two_shops")
def test_an_update_cannot_reach_another_merchants_rows(merchant: Merchant, other_merchant: Merchant) -> None:
    with merchant_context(merchant.pk):
        changed = Store.objects.update(city="Hacked")  # deliberately unfiltered
    with platform_access(reason="test: read both", actor="test"):
        cities = dict(Store.objects.values_list("merchant_id", "city").distinct())
    assert changed == 1
    assert cities[merchant.pk] == "Hacked"
    assert cities[other_merchant.pk] != "Hacked"


def test_a_lookup_key_reveals_only_the_row_that_carries_it(store: Store, other_store: Store) -> None:  # noqa: ARG001 - fixture requested for the rows it creates
    with lookup_context(other_store.code):
        assert list(Store.objects.values_list("code", flat=True)) == [other_store.code]


def test_a_user_sees_their_own_memberships_across_merchants_and_nobody_elses(
    merchant: Merchant,
    other_merchant: Merchant,
    owner,
    other_owner,  # type: ignore[no-untyped-def]  # noqa: ARG001 - fixture requested for the rows it creates
) -> None:
    MembershipFactory(merchant=other_merchant, user=owner)
    with user_context(owner.pk):
        rows = set(Membership.objects.values_list("merchant_id", "user_id"))
    assert rows == {(merchant.pk, owner.pk), (other_merchant.pk, owner.pk)}


@pytest.mark.usefixtures("two_shops")
def test_the_platform_bypass_sees_every_merchant_and_is_audited(merchant: Merchant, other_merchant: Merchant) -> None:
    before = PlatformAccess.objects.count()
    with platform_access(reason="nightly rollup", actor="task:analytics"):
        seen = set(Store.objects.values_list("merchant_id", flat=True))
    assert seen == {merchant.pk, other_merchant.pk}
    assert PlatformAccess.objects.count() == before + 1
    assert PlatformAccess.objects.latest("at").reason == "nightly rollup"
    assert Store.objects.count() == 0  # the bypass ended with its block


@pytest.mark.django_db(transaction=True)
def test_a_merchant_set_in_one_transaction_never_reaches_the_next_on_the_same_connection(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    StoreFactory(merchant=merchant)
    StoreFactory(merchant=other_merchant)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # As a request would, without restoring: the value must still end with the transaction.
            cursor.execute("SELECT set_config('app.merchant_id', %s, true)", [str(merchant.pk)])
        assert Store.objects.count() == 1
    backend_pid = connection.connection.info.backend_pid
    with transaction.atomic():
        assert connection.connection.info.backend_pid == backend_pid  # the same server session
        assert Store.objects.count() == 0
        with merchant_context(other_merchant.pk):
            assert set(Store.objects.values_list("merchant_id", flat=True)) == {other_merchant.pk}


def test_bypass_audit_rows_are_kept_for_their_retention_then_pruned(settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from merchants.tasks import platform_access_prune_daily

    settings.PLATFORM_ACCESS_RETENTION_DAYS = 30
    now = timezone.now()
    old = [
        PlatformAccess.objects.create(at=now - timedelta(days=31 + k), actor="task:x", reason="old") for k in range(3)
    ]
    recent = PlatformAccess.objects.create(at=now - timedelta(days=29), actor="task:x", reason="recent")
    assert platform_access_prune_daily() == 3
    assert not PlatformAccess.objects.filter(pk__in=[row.pk for row in old]).exists()
    assert PlatformAccess.objects.filter(pk=recent.pk).exists()
    # The pruning leaves its own line in the log; a second run finds nothing to do and adds nothing.
    assert (
        PlatformAccess.objects.filter(actor="task:platform_access_prune", reason__startswith="pruned 3 ").count() == 1
    )
    count = PlatformAccess.objects.count()
    assert platform_access_prune_daily() == 0
    assert PlatformAccess.objects.count() == count
