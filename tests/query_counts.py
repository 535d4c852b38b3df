"""Query counts of list pages and list endpoints, pinned for 1 row and for 20 rows.

A case builds its rows and names the request; `case_counted` warms the session with one
request, then counts the next one. The same exact number holds for one row and for twenty, so a
query per row (an N+1) fails. A case that does one today says why in `n_plus_one`: its 20-row run
is then a strict xfail, which fails as soon as the N+1 is gone and the mark can go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from merchants.models import Merchant, Store
from merchants.services import api_token_create

ROWS = (1, 20)


@dataclass(frozen=True)
class Request:
    """What a case asks: a GET of `url` by `client`; the page shows every text of `shown`."""

    client: Client
    url: str
    shown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Shop:
    """The merchant, its store and its owner (the shared fixtures) a case builds its rows in."""

    merchant: Merchant
    store: Store
    owner: Any


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[int, Shop], Request]  # (rows, shop) -> the request to count
    queries: int
    n_plus_one: str = ""


def query_cases(*cases: Case) -> list[Any]:
    """Each case with 1 and with 20 rows, ids like `stock page-20`."""
    return [
        pytest.param(
            case,
            rows,
            id=f"{case.name}-{rows}",
            marks=[pytest.mark.xfail(strict=True, reason=f"N+1: {case.n_plus_one}")]
            if case.n_plus_one and rows > 1
            else [],
        )
        for case in cases
        for rows in ROWS
    ]


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(user: Any) -> APIClient:
    _token, raw = api_token_create(user=user, name="query counts")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def case_counted(case: Case, rows: int, shop: Shop, assert_num_queries: Any) -> HttpResponse:
    """Build the case's rows, warm up, then GET once within exactly `case.queries` queries."""
    request = case.build(rows, shop)
    queries = case.queries
    request.client.get(request.url)  # the session, the sign-in and the content types warm up
    with assert_num_queries(queries):
        response = request.client.get(request.url)
    assert response.status_code == 200, request.url
    if response.headers.get("Content-Type", "").startswith("application/json"):
        assert response.json()["count"] == rows, request.url
    else:
        body = response.content.decode()
        assert [text for text in request.shown if text not in body] == [], request.url
    return response
