"""The transaction's tenant: which merchant's rows PostgreSQL lets this code see.

``merchant_context`` and ``platform_access`` open a transaction (or a savepoint) and set the
row-level security settings for it with ``set_config(..., is_local => true)``, the function form
of SET LOCAL: the value ends with the transaction, so a pooled connection never carries one
request's merchant into the next. On leaving, the previous values are put back, so contexts nest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import connection, transaction

if TYPE_CHECKING:
    pass

logger = logging.getLogger("lingshou.tenancy")

_SETTINGS = ("app.merchant_id", "app.rls_bypass", "app.lookup_key", "app.user_id", "app.shopper_id")


def _read() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("COALESCE(current_setting(%s, true), '')" for _ in _SETTINGS),
            list(_SETTINGS),
        )
        row = cursor.fetchone()
    return dict(zip(_SETTINGS, row, strict=True))


def _write(values: dict[str, str]) -> None:
    if not values:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in values),
            [item for pair in values.items() for item in pair],
        )


def _swap(values: dict[str, str]) -> dict[str, str]:
    """Set ``values`` and return what they were, in one round trip."""
    with connection.cursor() as cursor:
        # The materialised CTE reads the old values before the outer query sets the new ones.
        cursor.execute(
            "WITH previous AS MATERIALIZED (SELECT "  # noqa: S608 - only placeholders are joined in
            + ", ".join(f"COALESCE(current_setting(%s, true), '') AS p{i}" for i in range(len(values)))
            + ") SELECT previous.*, "
            + ", ".join("set_config(%s, %s, true)" for _ in values)
            + " FROM previous",
            [*values, *(item for pair in values.items() for item in pair)],
        )
        row = cursor.fetchone()
    return dict(zip(values, row[: len(values)], strict=True))


@contextmanager
def _settings(values: dict[str, str]) -> Iterator[None]:
    # The outermost block's commit ends SET LOCAL values by itself: only nested blocks restore.
    nested = transaction.get_connection().in_atomic_block
    with transaction.atomic():
        previous = _swap(values)
        try:
            yield
        finally:
            # After a database error the transaction is already doomed; nothing to restore.
            if nested and not transaction.get_connection().needs_rollback:
                _write(previous)


@contextmanager
def scope() -> Iterator[None]:
    """A transaction whose row-level security settings are put back as they were when it ends.

    Inside it, ``activate`` may set the merchant once it is known (a DRF view learns it only
    after authentication); ``merchant_context`` is scope plus activate for the common case.
    """
    nested = transaction.get_connection().in_atomic_block
    with transaction.atomic():
        previous = _read() if nested else {}
        try:
            yield
        finally:
            if nested and not transaction.get_connection().needs_rollback:
                _write(previous)


def activate(*, merchant_id: int, user_id: int | None = None) -> None:
    """Scope the current transaction to one merchant. Only inside ``scope()`` or another context."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("tenancy.activate outside a transaction would not last past this statement")
    _write(
        {
            "app.merchant_id": str(merchant_id),
            "app.rls_bypass": "",
            "app.lookup_key": "",
            "app.user_id": "" if user_id is None else str(user_id),
            "app.shopper_id": "",
        }
    )


@contextmanager
def merchant_context(merchant_id: int, *, user_id: int | None = None) -> Iterator[None]:
    """Run the block in a transaction that sees the merchant's rows and only those.

    Like every tenancy context it takes the id the database setting holds (``merchant.pk``).
    """
    if type(merchant_id) is not int:
        # A model instance here would be written as its name and match no rows: refuse it loudly.
        raise TypeError(f"merchant_context takes the merchant's id, not {type(merchant_id).__name__}")
    values = {"app.merchant_id": str(merchant_id), "app.rls_bypass": "", "app.lookup_key": "", "app.shopper_id": ""}
    if user_id is not None:
        values["app.user_id"] = str(user_id)
    with _settings(values):
        yield


@contextmanager
def user_context(user_id: int) -> Iterator[None]:
    """A transaction that sees the user's own rows across merchants (their memberships), nothing else."""
    with _settings({"app.merchant_id": "", "app.rls_bypass": "", "app.lookup_key": "", "app.user_id": str(user_id)}):
        yield


@contextmanager
def shopper_context(shopper_id: int) -> Iterator[None]:
    """A transaction that sees a signed-in shopper's own orders in every shop, nothing else (read only)."""
    with _settings(
        {
            "app.merchant_id": "",
            "app.rls_bypass": "",
            "app.lookup_key": "",
            "app.user_id": "",
            "app.shopper_id": str(shopper_id),
        }
    ):
        yield


@contextmanager
def lookup_context(key: str) -> Iterator[None]:
    """A transaction that may also see the one row whose public code or token hash is ``key``."""
    with _settings({"app.lookup_key": key}):
        yield


@contextmanager
def platform_access(*, reason: str, actor: str) -> Iterator[None]:
    """The one way past row-level security (admin, seeding, platform jobs); every use is audited."""
    from merchants.models import PlatformAccess

    with _settings({"app.rls_bypass": "on", "app.merchant_id": ""}):
        PlatformAccess.objects.create(actor=actor[:200], reason=reason[:300])
        logger.info("platform_access", extra={"actor": actor, "reason": reason})
        yield


def current_merchant_id() -> int | None:
    """The merchant the current transaction is scoped to, if any."""
    value = _read()["app.merchant_id"]
    return int(value) if value else None
