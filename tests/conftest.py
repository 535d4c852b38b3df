"""Shared fixtures: the owner / member / outsider trio over two merchants."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from checkout import stripe_http
from core import outages
from merchants.models import Merchant, Role, Store
from tests.factories import MembershipFactory, MerchantFactory, StoreFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001 - pytest's hook signature
    """Under pytest-xdist (`make test` runs two), each test process has a Redis broker database of its own, so a
    Celery worker one process starts never takes the other's tasks. The environment is what changes: Celery
    reads CELERY_BROKER_URL from it before its settings, and the workers tests start inherit it. pytest-django
    gives each process its own test database; the filesystem broker's folder follows the process in settings."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    found = re.fullmatch(r"(redis://[^/]+/)(\d+)", broker)
    if not worker or not found:
        return
    from django.conf import settings

    from config.celery import app

    database = (int(found.group(2)) + int(worker.removeprefix("gw"))) % 16  # CI's 14 -> 14, 15, 0, ...
    os.environ["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL = app.conf.broker_url = f"{found.group(1)}{database}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: under pytest-xdist the longest files start at once, beside the rest, instead
    of running on alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _breakers_closed() -> Iterator[None]:
    """Each test starts with Redis and Stripe trusted again: a breaker one test opened is not the next one's."""
    yield
    outages.redis_breaker.reset()
    stripe_http.breaker.reset()


@pytest.fixture
def merchant(db: None) -> Merchant:  # noqa: ARG001 - asks pytest-django for the database
    return MerchantFactory(name="Kiosk Lindenstraße", slug="kiosk-linden")


@pytest.fixture
def other_merchant(db: None) -> Merchant:  # noqa: ARG001 - asks pytest-django for the database
    return MerchantFactory(name="Späti am Park", slug="spaeti-park")


@pytest.fixture
def store(merchant: Merchant) -> Store:
    return StoreFactory(merchant=merchant, name="Lindenstraße 5", code="LINDEN5")


@pytest.fixture
def other_store(other_merchant: Merchant) -> Store:
    return StoreFactory(merchant=other_merchant, name="Parkweg 1", code="PARK1")


@pytest.fixture
def owner(merchant: Merchant):  # type: ignore[no-untyped-def]
    return MembershipFactory(merchant=merchant, role=Role.OWNER, user__username="owner@example.com").user


@pytest.fixture
def manager(merchant: Merchant):  # type: ignore[no-untyped-def]
    return MembershipFactory(merchant=merchant, role=Role.MANAGER, user__username="manager@example.com").user


@pytest.fixture
def clerk(merchant: Merchant):  # type: ignore[no-untyped-def]
    return MembershipFactory(merchant=merchant, role=Role.CLERK, user__username="clerk@example.com").user


@pytest.fixture
def other_owner(other_merchant: Merchant):  # type: ignore[no-untyped-def]
    return MembershipFactory(merchant=other_merchant, role=Role.OWNER, user__username="other-owner@example.com").user


@pytest.fixture
def outsider(db: None):  # type: ignore[no-untyped-def]  # noqa: ARG001 - asks pytest-django for the database
    """Signed in, but staff of no merchant at all."""
    return UserFactory(username="outsider@example.com")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
