"""PostgreSQL row-level security on every table that has a merchant_id column.

Each policy admits a row when its merchant_id equals the transaction's ``app.merchant_id``
(set with ``set_config(..., true)``, i.e. SET LOCAL, by merchants.tenancy), or when the audited
platform bypass is on. An unset setting reads as '' and NULLIF turns it into NULL, so a query
with no merchant sees no rows instead of failing. FORCE makes the policy bind the table owner
(the application's role owns its tables). A few tables admit one more row: the one whose public
code or token hash the request already holds (``app.lookup_key``), and a user's own rows
(``app.user_id``), e.g. to list the merchants a user belongs to, and a signed-in shopper's own
orders across shops (``app.shopper_id``), for their receipts.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections

POLICY = "lingshou_tenant"

_MERCHANT = "merchant_id = NULLIF(current_setting('app.merchant_id', true), '')::bigint"
_BYPASS = "current_setting('app.rls_bypass', true) = 'on'"


def policy_sql(
    table: str, *, lookup_column: str | None = None, user_column: str | None = None, shopper_column: str | None = None
) -> list[str]:
    """The statements that (re)create the tenant policy of one table; idempotent."""
    visible = [_MERCHANT, _BYPASS]
    if lookup_column:
        visible.append(f"{lookup_column} = NULLIF(current_setting('app.lookup_key', true), '')")
    if user_column:
        visible.append(f"{user_column} = NULLIF(current_setting('app.user_id', true), '')::bigint")
    if shopper_column:
        visible.append(f"{shopper_column} = NULLIF(current_setting('app.shopper_id', true), '')::bigint")
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {quoted}",
        # New and changed rows must always belong to the current merchant (or the bypass).
        f"CREATE POLICY {POLICY} ON {quoted} USING ({' OR '.join(visible)}) WITH CHECK ({_MERCHANT} OR {_BYPASS})",
    ]


def tenant_tables() -> list[tuple[str, str | None, str | None, str | None]]:
    """(table, lookup column, user column, shopper column) of every installed model that has a merchant column."""
    tables = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        if "merchant_id" not in {field.column for field in model._meta.concrete_fields}:
            continue
        tables.append(
            (
                model._meta.db_table,
                getattr(model, "rls_lookup_column", None),
                getattr(model, "rls_user_column", None),
                getattr(model, "rls_shopper_column", None),
            )
        )
    return tables


def policies_apply(using: str = "default", **kwargs: Any) -> None:
    """Apply the policy to every tenant table that exists; run after each migrate.

    As a ``post_migrate`` receiver it acts once per migrate (the signal comes once per installed app, and
    one pass covers every table) and not after a flush (``flush`` sends no ``plan``): a TRUNCATE keeps
    the policies, and redoing them cost a transactional test about 0.7 s of its teardown.
    """
    sender = kwargs.get("sender")
    if sender is not None and ("plan" not in kwargs or getattr(sender, "name", None) != "merchants"):
        return
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table, lookup_column, user_column, shopper_column in tenant_tables():
            if table in existing:
                statements = policy_sql(
                    table, lookup_column=lookup_column, user_column=user_column, shopper_column=shopper_column
                )
                for statement in statements:
                    cursor.execute(statement)
