"""The first database error is the one raised (and so logged), not the tenancy context's statement after it.

A tenancy context restores its settings when it ends and swaps them when it starts; in a transaction
that a statement has failed, those statements can only fail with "current transaction is aborted",
which used to replace the error that said what went wrong ("integer out of range").
"""

from __future__ import annotations

import pytest
from django.db import DataError, connection

from merchants import tenancy
from merchants.models import Merchant

pytestmark = pytest.mark.django_db

OVERFLOW = "SELECT 2147483647::integer + 1"


def _swallowed_overflow() -> None:
    """A statement fails and its caller catches the error without a savepoint (the transaction stays failed)."""
    with connection.cursor() as cursor, pytest.raises(DataError):
        cursor.execute(OVERFLOW)


def test_leaving_a_nested_context_raises_the_first_error(merchant: Merchant, other_merchant: Merchant) -> None:
    with (
        pytest.raises(DataError, match="integer out of range"),
        tenancy.merchant_context(merchant.pk),
        tenancy.merchant_context(other_merchant.pk),
    ):
        _swallowed_overflow()


def test_entering_a_context_in_a_failed_transaction_raises_the_first_error(merchant: Merchant, other_merchant: Merchant) -> None:  # fmt: skip
    with pytest.raises(DataError, match="integer out of range"), tenancy.merchant_context(merchant.pk):  # noqa: PT012 - the error comes from entering the inner block
        _swallowed_overflow()
        with tenancy.merchant_context(other_merchant.pk):
            pytest.fail("the inner context must not start in a failed transaction")


def test_a_healthy_transaction_after_a_failed_one_is_not_blamed_for_it(merchant: Merchant) -> None:
    with pytest.raises(DataError), tenancy.merchant_context(merchant.pk):
        connection.cursor().execute(OVERFLOW)
    with tenancy.merchant_context(merchant.pk):
        assert tenancy.current_merchant_id() == merchant.pk
