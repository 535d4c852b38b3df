"""Nested tenancy contexts: what the connection's stack says is in force is what PostgreSQL has in force,
row-level security shows exactly the rows those settings admit, and a context that changes nothing costs
no round trip until it writes (then its savepoint)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from checkout.models import Shopper, ShopperCustomer
from merchants.models import Membership, Merchant, PlatformAccess, Store
from merchants.tenancy import (
    activate,
    activate_with,
    current_merchant_id,
    lookup_context,
    merchant_context,
    platform_access,
    scope,
    settings_in_force,
    shopper_context,
    user_context,
)
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SETTINGS = ("app.merchant_id", "app.rls_bypass", "app.lookup_key", "app.user_id", "app.shopper_id")
NOTHING = dict.fromkeys(SETTINGS, "")


@dataclass(frozen=True)
class World:
    merchant: Merchant
    other_merchant: Merchant
    store: Store
    other_store: Store
    owner: Any
    other_owner: Any
    mia: Shopper


@pytest.fixture
def world(merchant: Merchant, other_merchant: Merchant, store: Store, other_store: Store, owner, other_owner) -> World:  # type: ignore[no-untyped-def]
    """Two shops with a store and an owner each; the owner also works for the other shop; Mia has a card at both."""
    MembershipFactory(merchant=other_merchant, user=owner)
    mia = Shopper.objects.create(email="mia@example.com")
    for shop in (merchant, other_merchant):
        with merchant_context(shop.pk):
            ShopperCustomer.objects.create(merchant=shop, shopper=mia, stripe_customer=f"cus_{shop.pk}")
    return World(merchant, other_merchant, store, other_store, owner, other_owner, mia)


@dataclass(frozen=True)
class Kind:
    """A tenancy context, and the settings it promises to write (the others stay as they were)."""

    name: str
    enter: Callable[[World], AbstractContextManager[None]]
    writes: Callable[[World], dict[str, str]]

    def inside(self, world: World, outer: dict[str, str]) -> dict[str, str]:
        return outer | self.writes(world)


@contextmanager
def _scope_activated(merchant_id: int, user_id: int | None) -> Iterator[None]:
    with scope():
        activate(merchant_id=merchant_id, user_id=user_id)
        yield


def _merchant_writes(merchant: Merchant) -> dict[str, str]:
    return {"app.merchant_id": str(merchant.pk), "app.rls_bypass": "", "app.lookup_key": "", "app.shopper_id": ""}


KINDS = [
    Kind("merchant", lambda w: merchant_context(w.merchant.pk), lambda w: _merchant_writes(w.merchant)),
    Kind(
        "merchant and user",
        lambda w: merchant_context(w.merchant.pk, user_id=w.owner.pk),
        lambda w: _merchant_writes(w.merchant) | {"app.user_id": str(w.owner.pk)},
    ),
    Kind(
        "other merchant",
        lambda w: merchant_context(w.other_merchant.pk),
        lambda w: _merchant_writes(w.other_merchant),
    ),
    Kind(
        "user",
        lambda w: user_context(w.owner.pk),
        lambda w: {"app.merchant_id": "", "app.rls_bypass": "", "app.lookup_key": "", "app.user_id": str(w.owner.pk)},
    ),
    Kind("shopper", lambda w: shopper_context(w.mia.pk), lambda w: NOTHING | {"app.shopper_id": str(w.mia.pk)}),
    Kind("lookup", lambda w: lookup_context(w.other_store.code), lambda w: {"app.lookup_key": w.other_store.code}),
    Kind(
        "platform access",
        lambda _: platform_access(reason="test: nesting", actor="test"),
        lambda _: {"app.rls_bypass": "on", "app.merchant_id": ""},
    ),
    Kind(
        "scope activating the merchant",
        lambda w: _scope_activated(w.merchant.pk, w.owner.pk),
        lambda w: NOTHING | {"app.merchant_id": str(w.merchant.pk), "app.user_id": str(w.owner.pk)},
    ),
    Kind(
        "scope activating the other merchant",
        lambda w: _scope_activated(w.other_merchant.pk, None),
        lambda w: NOTHING | {"app.merchant_id": str(w.other_merchant.pk)},
    ),
]


def _database() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join("COALESCE(current_setting(%s, true), '')" for _ in SETTINGS), SETTINGS)
        return dict(zip(SETTINGS, cursor.fetchone(), strict=True))


def _rows_seen() -> dict[str, set[Any]]:
    return {
        "stores": set(Store.objects.values_list("code", flat=True)),
        "memberships": set(Membership.objects.values_list("merchant_id", "user_id")),
        "cards": set(ShopperCustomer.objects.values_list("merchant_id", "shopper_id")),
    }


def _rows_admitted(w: World, settings: dict[str, str]) -> dict[str, set[Any]]:
    """The rows the policies admit under these settings (merchants/rls.py), worked out without the database."""
    everything = settings["app.rls_bypass"] == "on"

    def mine(merchant: Merchant) -> bool:
        return everything or settings["app.merchant_id"] == str(merchant.pk)

    stores = {s.code for s in (w.store, w.other_store) if mine(s.merchant) or settings["app.lookup_key"] == s.code}
    members = [(w.merchant, w.owner), (w.other_merchant, w.other_owner), (w.other_merchant, w.owner)]
    return {
        "stores": stores,
        "memberships": {(m.pk, u.pk) for m, u in members if mine(m) or settings["app.user_id"] == str(u.pk)},
        "cards": {
            (m.pk, w.mia.pk)
            for m in (w.merchant, w.other_merchant)
            if mine(m) or settings["app.shopper_id"] == str(w.mia.pk)
        },
    }


def _check(w: World, expected: dict[str, str], where: str) -> None:
    """The stack, the database and the model agree on the settings, and RLS shows exactly their rows."""
    assert settings_in_force() == expected, where
    assert _database() == expected, where
    assert _rows_seen() == _rows_admitted(w, expected), where


@pytest.mark.parametrize("outer", KINDS, ids=[kind.name for kind in KINDS])
def test_after_every_nesting_the_stack_is_what_postgresql_has_and_rls_shows_exactly_those_rows(
    world: World, outer: Kind
) -> None:
    assert settings_in_force() is None  # outside any context the stack vouches for nothing
    outside = _database()
    outer_expected = outer.inside(world, outside)
    with outer.enter(world):
        _check(world, outer_expected, f"in {outer.name}")
        for inner in KINDS:
            where = f"{inner.name} in {outer.name}"
            with inner.enter(world):
                _check(world, inner.inside(world, outer_expected), f"in {where}")
                # A third level, the same again: changes nothing and must come back to the second.
                with inner.enter(world):
                    _check(world, inner.inside(world, outer_expected), f"twice in {where}")
                _check(world, inner.inside(world, outer_expected), f"back from twice in {where}")
            _check(world, outer_expected, f"after {where}")
    assert settings_in_force() is None
    assert _database() == outside


class Boom(Exception):
    pass


def _fails_inside(context: AbstractContextManager[None], before_failing: Callable[[], None]) -> None:
    with context:
        before_failing()
        raise Boom


def _opens_no_savepoint(world: World, inner: Kind, outer_expected: dict[str, str]) -> bool:
    """A context whose settings are all in force already opens no savepoint before it writes (``scope`` always
    opens one; ``platform_access`` writes its audit row first)."""
    lazy = not inner.name.startswith("scope") and inner.name != "platform access"
    return lazy and inner.inside(world, outer_expected) == outer_expected


@contextmanager
def _callers_block(doomed: bool) -> Iterator[None]:
    """Around a failure that no savepoint of the context's own can undo: the caller's atomic block, which the
    failure dooms and which rolls back to its own savepoint when it ends."""
    if not doomed:
        yield
        return
    with transaction.atomic():
        yield
        assert connection.needs_rollback


@pytest.mark.parametrize("outer", KINDS, ids=[kind.name for kind in KINDS])
def test_an_exception_in_an_inner_context_caught_by_the_outer_block_leaves_the_outer_settings(
    world: World, outer: Kind
) -> None:
    outer_expected = outer.inside(world, _database())
    with outer.enter(world):
        for inner in KINDS:
            where = f"{inner.name} in {outer.name}"
            with pytest.raises(Boom):
                _fails_inside(inner.enter(world), partial(_check, world, inner.inside(world, outer_expected), where))
            _check(world, outer_expected, f"after an exception in {where}")
            # A database error (not through the ORM, so nothing marks the transaction for rollback). In a
            # context with nothing to set that has not written, there is no savepoint to go back to: a read
            # that fails in the database dooms the caller's block (whose own savepoint then undoes it).
            with (
                _callers_block(_opens_no_savepoint(world, inner, outer_expected)),
                pytest.raises(DatabaseError, match="division by zero"),
                inner.enter(world),
                connection.cursor() as cursor,
            ):
                cursor.execute("SELECT 1 / 0")
            _check(world, outer_expected, f"after a database error in {where}")
            # An ORM error caught inside the inner context: its savepoint rolls back at the end.
            with inner.enter(world), pytest.raises(DatabaseError), transaction.atomic(savepoint=False):
                # Refused by row-level security, or a store code already taken under the bypass.
                Store.objects.create(merchant=world.other_merchant, name="Twice", code=world.store.code)
            _check(world, outer_expected, f"after a caught ORM error in {where}")


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """Each statement's first words (savepoint names vary)."""
    return [" ".join(re.sub(r'"s\d+_x\d+"', "", query["sql"]).split()[:2]) for query in captured.captured_queries]


def test_a_nested_context_for_the_same_merchant_costs_no_round_trip_until_it_writes(world: World) -> None:
    with merchant_context(world.merchant.pk, user_id=world.owner.pk):
        for same, expected in (
            (lambda: merchant_context(world.merchant.pk), []),
            (lambda: merchant_context(world.merchant.pk, user_id=world.owner.pk), []),
            # scope() opens its savepoint: it promises to put back whatever an activate inside it changes.
            (lambda: _scope_activated(world.merchant.pk, world.owner.pk), ["SAVEPOINT", "RELEASE SAVEPOINT"]),
        ):
            with CaptureQueriesContext(connection) as captured, same():
                pass
            assert _statements(captured) == expected
        with CaptureQueriesContext(connection) as captured, merchant_context(world.merchant.pk):
            codes = list(Store.objects.values_list("code", flat=True))
        assert codes == [world.store.code]
        assert _statements(captured) == ['SELECT "merchants_store"."code"']
        # The first write opens the savepoint, so that a failure after it undoes the block's writes alone.
        with CaptureQueriesContext(connection) as captured, merchant_context(world.merchant.pk):
            list(Store.objects.values_list("code", flat=True))
            Store.objects.filter(pk=world.store.pk).update(name="Renamed")
            Store.objects.filter(pk=world.store.pk).update(name="Renamed again")
        assert _statements(captured) == [
            'SELECT "merchants_store"."code"',
            "SAVEPOINT",
            'UPDATE "merchants_store"',
            'UPDATE "merchants_store"',
            "RELEASE SAVEPOINT",
        ]


def test_a_failure_after_a_write_in_a_context_that_changed_nothing_undoes_its_writes_alone(
    world: World,
) -> None:
    with merchant_context(world.merchant.pk):
        Store.objects.filter(pk=world.store.pk).update(name="Outer write")

        def write_and_activate() -> None:
            list(Store.objects.all())
            Store.objects.filter(pk=world.store.pk).update(name="Inner write")
            activate(merchant_id=world.other_merchant.pk)

        with pytest.raises(Boom):
            _fails_inside(merchant_context(world.merchant.pk), write_and_activate)
        # The caller caught it and goes on: its own write stands, the block's and its activate are undone.
        _check(world, NOTHING | {"app.merchant_id": str(world.merchant.pk)}, "after the failed block")
        assert Store.objects.get(pk=world.store.pk).name == "Outer write"
        with pytest.raises(Boom):  # only reads: nothing to undo, and the transaction goes on
            _fails_inside(merchant_context(world.merchant.pk), lambda: list(Store.objects.all()))
        assert Store.objects.get(pk=world.store.pk).name == "Outer write"


def test_the_current_merchant_is_known_without_a_query_inside_a_context(world: World) -> None:
    assert current_merchant_id() is None  # outside any context it is read from the database
    with merchant_context(world.merchant.pk), CaptureQueriesContext(connection) as captured:
        assert current_merchant_id() == world.merchant.pk
        with user_context(world.owner.pk):
            assert current_merchant_id() is None
    assert _statements(captured) == [
        "SAVEPOINT",
        "WITH previous",
        "SELECT set_config('app.merchant_id',",
        "RELEASE SAVEPOINT",
    ]


def test_a_nested_platform_access_changes_nothing_but_is_still_audited() -> None:
    before = PlatformAccess.objects.count()
    with platform_access(reason="test: outer", actor="test"):
        with CaptureQueriesContext(connection) as captured, platform_access(reason="test: inner", actor="test"):
            pass
        assert _statements(captured) == ["SAVEPOINT", "INSERT INTO", "RELEASE SAVEPOINT"]
        assert list(PlatformAccess.objects.order_by("-pk").values_list("reason", flat=True)[:2]) == [
            "test: inner",
            "test: outer",
        ]
    assert PlatformAccess.objects.count() == before + 2


def test_a_nested_context_for_another_merchant_still_swaps_and_restores(world: World) -> None:
    with merchant_context(world.merchant.pk, user_id=world.owner.pk):
        with CaptureQueriesContext(connection) as captured, merchant_context(world.other_merchant.pk):
            assert list(Store.objects.values_list("code", flat=True)) == [world.other_store.code]
        assert _statements(captured) == [
            "SAVEPOINT",
            "WITH previous",  # reads what was in force and sets the other merchant
            'SELECT "merchants_store"."code"',
            "SELECT set_config('app.merchant_id',",  # puts the merchant back
            "RELEASE SAVEPOINT",
        ]
        assert list(Store.objects.values_list("code", flat=True)) == [world.store.code]


def test_activate_inside_a_same_merchant_context_is_undone_when_it_ends(world: World) -> None:
    with merchant_context(world.merchant.pk, user_id=world.owner.pk):
        with merchant_context(world.merchant.pk):
            activate(merchant_id=world.other_merchant.pk)
            _check(world, NOTHING | {"app.merchant_id": str(world.other_merchant.pk)}, "activated")
        _check(
            world, NOTHING | {"app.merchant_id": str(world.merchant.pk), "app.user_id": str(world.owner.pk)}, "after"
        )


def test_activate_in_an_inner_atomic_block_that_rolls_back_is_not_believed(world: World) -> None:
    mine = NOTHING | {"app.merchant_id": str(world.merchant.pk)}
    with scope():
        activate(merchant_id=world.merchant.pk)
        _check(world, mine, "activated")
        with pytest.raises(Boom):
            _fails_inside(transaction.atomic(), lambda: activate(merchant_id=world.other_merchant.pk))
        # PostgreSQL undid the inner activate; the stack no longer vouches, so the next context asks.
        assert settings_in_force() is None
        assert _database() == mine
        with CaptureQueriesContext(connection) as captured, merchant_context(world.merchant.pk):
            _check(world, mine, "nested after the rollback")
        assert _statements(captured)[:2] == ["SAVEPOINT", "WITH previous"]
        assert settings_in_force() is None
        assert _database() == mine


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_the_stack_is_empty_and_the_outermost_context_sets_and_commits(
    merchant: Merchant, other_merchant: Merchant
) -> None:
    from tests.factories import StoreFactory

    StoreFactory(merchant=merchant, code="MINE1")
    StoreFactory(merchant=other_merchant, code="THEIRS1")
    assert settings_in_force() is None
    with merchant_context(merchant.pk):
        assert settings_in_force() == NOTHING | {"app.merchant_id": str(merchant.pk)}
        with CaptureQueriesContext(connection) as captured, merchant_context(merchant.pk):
            assert list(Store.objects.values_list("code", flat=True)) == ["MINE1"]
        assert _statements(captured) == ['SELECT "merchants_store"."code"']
        with merchant_context(other_merchant.pk):
            assert list(Store.objects.values_list("code", flat=True)) == ["THEIRS1"]
        assert _database() == NOTHING | {"app.merchant_id": str(merchant.pk)}
    assert settings_in_force() is None
    with transaction.atomic():
        assert settings_in_force() is None  # a new transaction: nothing of the last one is in force
        assert _database()["app.merchant_id"] == ""
        assert Store.objects.count() == 0


def test_nested_contexts_that_changed_nothing_open_their_savepoints_outermost_first(world: World) -> None:
    """A write two lazy contexts deep opens both savepoints, the outer first: releasing the inner one then
    leaves the outer one, whose rollback still undoes the write."""
    with merchant_context(world.merchant.pk):

        def write_two_deep() -> None:
            with merchant_context(world.merchant.pk):
                Store.objects.filter(pk=world.store.pk).update(name="Inner write")
            assert Store.objects.get(pk=world.store.pk).name == "Inner write"

        with pytest.raises(Boom):
            _fails_inside(merchant_context(world.merchant.pk), write_two_deep)
        assert Store.objects.get(pk=world.store.pk).name == world.store.name


def test_a_context_without_a_savepoint_dooms_the_transaction_only_when_it_fails_after_writing(world: World) -> None:
    def write() -> None:
        Store.objects.filter(pk=world.store.pk).update(name="Inner write")

    with merchant_context(world.merchant.pk):
        with CaptureQueriesContext(connection) as captured, merchant_context(world.merchant.pk, savepoint=False):
            write()
        assert _statements(captured) == ['UPDATE "merchants_store"']  # no savepoint around the write
        with pytest.raises(Boom):  # failing before any write: nothing to undo, the transaction goes on
            _fails_inside(merchant_context(world.merchant.pk, savepoint=False), lambda: list(Store.objects.all()))
        assert Store.objects.get(pk=world.store.pk).name == "Inner write"
        with transaction.atomic():  # the caller's block, which a failure after a write dooms
            with pytest.raises(Boom):
                _fails_inside(merchant_context(world.merchant.pk, savepoint=False), write)
            assert connection.needs_rollback
            with pytest.raises(transaction.TransactionManagementError):
                Store.objects.count()


def test_a_merchant_read_with_its_settings_piggy_backed_scopes_the_transaction_in_that_one_statement(
    world: World,
) -> None:
    with scope():
        with CaptureQueriesContext(connection) as captured:
            found = activate_with(Merchant.objects.filter(pk=world.merchant.pk), merchant_id=world.merchant.pk)
        assert found == world.merchant
        assert len(captured.captured_queries) == 1
        _check(world, NOTHING | {"app.merchant_id": str(world.merchant.pk)}, "after the piggy-backed read")
    with scope():  # no such merchant: no row, and nothing set
        assert activate_with(Merchant.objects.filter(pk=0), merchant_id=0) is None
        assert _database() == NOTHING
        assert _rows_seen() == _rows_admitted(world, NOTHING)


def test_contexts_inside_a_scope_without_savepoints_write_without_one(world: World) -> None:
    with scope(savepoints=False):
        activate(merchant_id=world.merchant.pk)
        with CaptureQueriesContext(connection) as captured, merchant_context(world.merchant.pk):
            Store.objects.filter(pk=world.store.pk).update(name="Renamed")
        assert _statements(captured) == ['UPDATE "merchants_store"']
        # Another merchant's context still swaps its settings inside a savepoint, and puts them back.
        with merchant_context(world.other_merchant.pk):
            _check(world, NOTHING | {"app.merchant_id": str(world.other_merchant.pk)}, "other merchant")
        _check(world, NOTHING | {"app.merchant_id": str(world.merchant.pk)}, "back")
