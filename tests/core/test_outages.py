"""PostgreSQL gone under a request (its backend terminated, as a restart or an operator does) answers 503 with
Retry-After, as a page for people and in the API's error shape, and is logged once as a warning, not a crash."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from merchants.models import Merchant

pytestmark = pytest.mark.django_db(transaction=True)


def _terminate_backend() -> None:
    """The Django connection's backend terminated by another session (pg_terminate_backend: SQLSTATE 57P01)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture(autouse=True)
def _reconnect() -> Iterator[None]:
    yield
    connection.close()  # the next test connects anew


def _warnings(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= 30]


def test_an_api_request_without_its_database_answers_503_with_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Device lsd_not-a-real-token")
    _terminate_backend()

    response = client.post("/api/v1/sensing/heartbeat")

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "10"
    assert response.json() == {
        "error": {"code": "unavailable", "message": "The database is not answering; please try again in a few seconds."}
    }
    assert _warnings(caplog) == [("lingshou.outages", "unavailable")]


def test_a_page_without_its_database_answers_503_with_retry_after(
    merchant: Merchant, owner: object, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(owner)  # type: ignore[arg-type]
    _terminate_backend()

    response = client.get(f"/m/{merchant.slug}/")

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    body = response.content.decode()
    assert "Error 503" in body
    assert "The database is not answering; please try again in a few seconds." in body
    assert _warnings(caplog) == [("lingshou.outages", "unavailable")]
