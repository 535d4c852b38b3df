"""The transaction's tenant: which merchant's rows PostgreSQL lets this code see.

``merchant_context`` and ``platform_access`` open a transaction (or a savepoint) and set the
row-level security settings for it with ``set_config(..., is_local => true)``, the function form
of SET LOCAL: the value ends with the transaction, so a pooled connection never carries one
request's merchant into the next. On leaving, the previous values are put back, so contexts nest.

Each connection keeps a stack of the values in force, pushed and popped by these contexts and
updated by ``activate``, so that the common nesting (a view's merchant context around a
selector's context for the same merchant) costs no round trip: a context whose values are already
in force neither sets nor restores them, and opens its savepoint only before its first write
(``first_error_record`` sees every statement), so a block that only reads costs nothing and a block
that fails still undoes exactly its own writes. The stack is empty outside any context; a
savepoint rolled back by an exception undoes the inner context's settings in PostgreSQL and pops
its entry. Whatever the stack cannot vouch for (a context inside an atomic block that no context
opened, ``activate`` inside an inner atomic block) is swapped and restored in the database.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, QuerySet, TextField, Value
from django.db.models.functions import Cast, Concat
from django.db.transaction import Atomic
from psycopg.pq import TransactionStatus

logger = logging.getLogger("lingshou.tenancy")

_SETTINGS = ("app.merchant_id", "app.rls_bypass", "app.lookup_key", "app.user_id", "app.shopper_id")


@dataclass(eq=False)
class _Frame:
    """One open context: the settings in force inside it, known without asking the database."""

    block: Atomic  # the context's own atomic block (for a lazy one, the enclosing block)
    values: dict[str, str] | None  # every setting, or None when they cannot be vouched for
    lazy: bool = False  # opens its savepoint only before its first write
    savepoint: str | None = None  # a lazy context's savepoint once opened ("" while it is being opened)
    wrote: bool = False  # a statement that may change something ran inside it
    savepoints: bool = True  # False: contexts nested in it with nothing to set open no savepoint


# Keyed by the connection object, which Django keeps per thread.
_stacks: weakref.WeakKeyDictionary[BaseDatabaseWrapper, list[_Frame]] = weakref.WeakKeyDictionary()


# The error of the statement that failed each connection's transaction. A context's own statements (restoring
# the settings on leaving, swapping them on entering) can only fail after it, with "current transaction is
# aborted", which says nothing: they raise this one instead.
_first_errors: weakref.WeakKeyDictionary[BaseDatabaseWrapper, DatabaseError] = weakref.WeakKeyDictionary()


def _is_failed(conn: BaseDatabaseWrapper) -> bool:
    raw = conn.connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.INERROR


def first_error_record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Execute wrapper on every connection (merchants.apps): keeps the error of the statement that failed the
    transaction, so that the first database error is the one raised and logged, not the noise after it."""
    conn = context["connection"]
    stack = _stacks.get(conn)
    if stack and _writes(sql):
        _lazy_savepoints_open(conn, stack)
        for frame in stack:
            frame.wrote = True
    was_healthy = not _is_failed(conn)
    try:
        return execute(sql, params, many, context)
    except DatabaseError as error:
        if was_healthy and _is_failed(conn):
            _first_errors[conn] = error
        raise


def _writes(sql: str) -> bool:
    """Whether a statement may change something a savepoint would undo: anything but a plain SELECT (a SELECT
    that calls set_config changes the tenancy settings)."""
    return sql.lstrip()[:6].upper() != "SELECT" or "set_config(" in sql


def _lazy_savepoints_open(conn: BaseDatabaseWrapper, stack: list[_Frame]) -> None:
    """Open the savepoint of every lazy context that has none yet, outermost first, before a write."""
    pending = [frame for frame in stack if frame.lazy and frame.savepoint is None]
    for frame in pending:
        # The SAVEPOINT statements pass through the wrapper that called this: marked, none opens another.
        frame.savepoint = ""
    for frame in pending:
        frame.savepoint = conn.savepoint()


def _refuse_if_failed() -> None:
    """Raise the transaction's first error when it has failed: a context's statement would only hide it."""
    conn = transaction.get_connection()
    if _is_failed(conn):
        error = _first_errors.get(conn)
        if error is not None:
            raise error


def _stack(conn: BaseDatabaseWrapper) -> list[_Frame]:
    return _stacks.setdefault(conn, [])


def _top(conn: BaseDatabaseWrapper) -> _Frame | None:
    """The innermost open context, or None outside any."""
    stack = _stack(conn)
    # An entry whose atomic block has ended belongs to a context that never left: it vouches for nothing.
    while stack and not any(block is stack[-1].block for block in conn.atomic_blocks):
        stack.pop()
    return stack[-1] if stack else None


def _read() -> dict[str, str]:
    _refuse_if_failed()
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
    _refuse_if_failed()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in values),
            [item for pair in values.items() for item in pair],
        )


def _swap(values: dict[str, str]) -> dict[str, str]:
    """Set ``values`` and return what every setting was, in one round trip."""
    _refuse_if_failed()
    with connection.cursor() as cursor:
        # The materialised CTE reads the old values before the outer query sets the new ones.
        cursor.execute(
            "WITH previous AS MATERIALIZED (SELECT "  # noqa: S608 - only placeholders are joined in  # nosec B608
            + ", ".join(f"COALESCE(current_setting(%s, true), '') AS p{i}" for i in range(len(_SETTINGS)))
            + ") SELECT previous.*, "
            + ", ".join("set_config(%s, %s, true)" for _ in values)
            + " FROM previous",
            [*_SETTINGS, *(item for pair in values.items() for item in pair)],
        )
        row = cursor.fetchone()
    return dict(zip(_SETTINGS, row[: len(_SETTINGS)], strict=True))


def _in_force(conn: BaseDatabaseWrapper) -> dict[str, str] | None:
    top = _top(conn)
    return None if top is None else top.values


@contextmanager
def _pushed(
    conn: BaseDatabaseWrapper, *, before: dict[str, str] | None, inside: dict[str, str] | None, savepoints: bool = True
) -> Iterator[None]:
    """Keep ``inside`` on the stack while the block runs, then put back what it changed of ``before``.

    Entered inside the context's own atomic block. ``before`` is None for the outermost block,
    whose commit ends SET LOCAL values by itself.
    """
    stack = _stack(conn)
    frame = _Frame(block=conn.atomic_blocks[-1], values=inside, savepoints=savepoints)
    stack.append(frame)
    try:
        yield
    finally:
        if frame in stack:
            stack.remove(frame)
    # Only a normal exit gets here: leaving by an exception rolls the savepoint back, and the
    # settings with it. After a database error the transaction is doomed; nothing to restore.
    if before is not None and not conn.needs_rollback:
        now = frame.values
        _write(before if now is None else {key: value for key, value in before.items() if now[key] != value})


@contextmanager
def _lazy(conn: BaseDatabaseWrapper, in_force: dict[str, str], *, savepoint: bool) -> Iterator[None]:
    """A context whose settings are all in force already: nothing to set and, until the block writes, no
    savepoint, so a block that only reads costs no round trip. Its first write (or an ``activate``) opens the
    savepoint first, so an exception still undoes exactly what the block did, as a savepoint always has.

    Without ``savepoint`` it never opens one: an exception leaving the block after it wrote dooms the
    enclosing transaction instead, as Django's ``atomic(savepoint=False)`` does (for a block whose one write
    comes last; an exception before it leaves nothing to undo).
    """
    stack = _stack(conn)
    doomed_before = conn.needs_rollback
    frame = _Frame(block=conn.atomic_blocks[-1], values=in_force, lazy=savepoint)
    stack.append(frame)
    try:
        yield
    except BaseException:
        if frame in stack:
            stack.remove(frame)
        if frame.savepoint:
            conn.needs_rollback = False  # Django refuses any statement, this one too, while it is set
            conn.savepoint_rollback(frame.savepoint)
        elif frame.wrote or _is_failed(conn):
            conn.needs_rollback = True  # a write nothing can undo, or a failed read: the transaction cannot go on
        raise
    if frame in stack:
        stack.remove(frame)
    if frame.savepoint and conn.needs_rollback:  # an inner block without a savepoint failed and was caught
        conn.needs_rollback = False
        conn.savepoint_rollback(frame.savepoint)
        return
    if conn.needs_rollback and not (doomed_before or frame.wrote or _is_failed(conn)):
        conn.needs_rollback = False  # only reads ran in this block: there is nothing to undo
    if conn.needs_rollback:
        return
    now = frame.values
    changed = in_force if now is None else {key: value for key, value in in_force.items() if now[key] != value}
    _write(changed)  # what an ``activate`` inside changed
    if frame.savepoint:
        conn.savepoint_commit(frame.savepoint)


@contextmanager
def _settings(values: dict[str, str], *, savepoint: bool = True) -> Iterator[None]:
    _refuse_if_failed()  # before the savepoint, the first statement a failed transaction would refuse
    conn = transaction.get_connection()
    nested = conn.in_atomic_block
    in_force = _in_force(conn)
    if nested and in_force is not None and all(in_force[key] == value for key, value in values.items()):
        with _lazy(conn, in_force, savepoint=savepoint and all(frame.savepoints for frame in _stack(conn))):
            yield
        return
    with transaction.atomic():
        if in_force is not None and all(in_force[key] == value for key, value in values.items()):
            before = in_force
        else:
            before = _swap(values)
        with _pushed(conn, before=before if nested else None, inside=before | values):
            yield


@contextmanager
def scope(*, savepoints: bool = True) -> Iterator[None]:
    """A transaction whose row-level security settings are put back as they were when it ends.

    Inside it, ``activate`` may set the merchant once it is known (a DRF view learns it only
    after authentication); ``merchant_context`` is scope plus activate for the common case.

    ``savepoints=False`` is for a transaction that is one unit, whose every failure ends it (a webhook that
    Stripe delivers again): the contexts nested in it with nothing to set open no savepoint before they write,
    and a failure after a write dooms the whole transaction (``merchant_context(savepoint=False)``).
    """
    _refuse_if_failed()
    conn = transaction.get_connection()
    nested = conn.in_atomic_block
    in_force = _in_force(conn)
    with transaction.atomic():
        before = (in_force if in_force is not None else _read()) if nested else None
        with _pushed(conn, before=before, inside=before, savepoints=savepoints):
            yield


def activate(*, merchant_id: int, user_id: int | None = None) -> None:
    """Scope the current transaction to one merchant. Only inside ``scope()`` or another context."""
    _activate(
        {
            "app.merchant_id": str(merchant_id),
            "app.rls_bypass": "",
            "app.lookup_key": "",
            "app.user_id": "" if user_id is None else str(user_id),
            "app.shopper_id": "",
        }
    )


def activate_lookup(key: str) -> None:
    """Scope the current transaction to the one row whose public code or token hash is ``key`` and nothing else
    (a request that learns its merchant from a device's token). Only inside ``scope()`` or another context."""
    _activate(dict.fromkeys(_SETTINGS, "") | {"app.lookup_key": key})


def activate_with(queryset: QuerySet[Any], *, merchant_id: int | None = None) -> Any:
    """The first row of ``queryset``, read by the statement that also scopes the transaction to ``merchant_id``
    (None: to the row's own ``merchant_id``): the settings piggy-back on the query, with no round trip of their
    own, and are set only when a row comes back. The row must be visible under the settings in force before
    (a table without row-level security, such as the merchants', or a row the lookup key admits). Where
    ``activate`` could not set them in place (not directly inside ``scope()``), the row is read, then activated."""
    if not activatable():
        row = queryset.first()
        if row is not None:
            activate(merchant_id=row.merchant_id if merchant_id is None else merchant_id)
        return row
    merchant = Cast("merchant_id", TextField()) if merchant_id is None else Value(str(merchant_id))
    sets = Concat(
        *(
            Func(Value(key), merchant if key == "app.merchant_id" else Value(""), Value(True), function="set_config",
                 output_field=TextField())
            for key in _SETTINGS
        )
    )  # fmt: skip
    row = queryset.annotate(tenancy_set=sets).first()
    if row is not None:
        frame = _top(transaction.get_connection())
        assert frame is not None  # activatable() said so
        frame.values = dict.fromkeys(_SETTINGS, "") | {
            "app.merchant_id": str(row.merchant_id if merchant_id is None else merchant_id)
        }
    return row


def activatable() -> bool:
    """Whether ``activate`` here changes the innermost context's own settings (which it keeps until it ends),
    without a context of its own: directly inside ``scope()``, as an API request's authentication runs."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        return False
    frame = _top(conn)
    return frame is not None and frame.block is conn.atomic_blocks[-1]


def _activate(values: dict[str, str]) -> None:
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("tenancy.activate outside a transaction would not last past this statement")
    frame = _top(conn)
    if frame is not None and frame.block is conn.atomic_blocks[-1]:
        if frame.values != values:
            _write(values)
            frame.values = values
        return
    _write(values)
    if frame is not None:
        # An inner atomic block may yet roll this back, and the stack would not see it.
        frame.values = None


@contextmanager
def merchant_context(merchant_id: int, *, user_id: int | None = None, savepoint: bool = True) -> Iterator[None]:
    """Run the block in a transaction that sees the merchant's rows and only those.

    Like every tenancy context it takes the id the database setting holds (``merchant.pk``). Nested in a
    context with the same settings, ``savepoint=False`` never opens a savepoint: an exception after the block
    wrote then dooms the enclosing transaction, as Django's ``atomic(savepoint=False)`` (for a block whose one
    write comes last, and raises what it finds after it leaves).
    """
    if type(merchant_id) is not int:
        # A model instance here would be written as its name and match no rows: refuse it loudly.
        raise TypeError(f"merchant_context takes the merchant's id, not {type(merchant_id).__name__}")
    values = {"app.merchant_id": str(merchant_id), "app.rls_bypass": "", "app.lookup_key": "", "app.shopper_id": ""}
    if user_id is not None:
        values["app.user_id"] = str(user_id)
    with _settings(values, savepoint=savepoint):
        yield


@contextmanager
def merchant_reads(merchant_id: int) -> Iterator[None]:
    """``merchant_context`` for a block that only reads: inside a context that already has the merchant's
    settings in force it costs nothing, not even a savepoint (a read that fails dooms the caller's transaction
    as any failed statement in it would, and there is nothing of the block's own to roll back)."""
    if type(merchant_id) is not int:
        raise TypeError(f"merchant_reads takes the merchant's id, not {type(merchant_id).__name__}")
    conn = transaction.get_connection()
    in_force = _in_force(conn)
    if (
        in_force is not None
        and conn.in_atomic_block
        and in_force["app.merchant_id"] == str(merchant_id)
        and not any(in_force[key] for key in ("app.rls_bypass", "app.lookup_key", "app.shopper_id"))
    ):
        yield
        return
    with merchant_context(merchant_id):
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


def settings_in_force() -> dict[str, str] | None:
    """Every row-level security setting in force, as the open contexts know it without a query.

    None outside any context, and inside one whose values the stack cannot vouch for.
    """
    return _in_force(transaction.get_connection())


def current_merchant_id() -> int | None:
    """The merchant the current transaction is scoped to, if any."""
    known = settings_in_force()
    value = (_read() if known is None else known)["app.merchant_id"]
    return int(value) if value else None
