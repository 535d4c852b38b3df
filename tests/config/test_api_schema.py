"""schemathesis over /api/schema/: every operation answers only what the schema says, and never 500.

The API is called in this process through its WSGI application (the requests run in the test's
transaction), as an owner with a personal token and as the door reader or camera on the device
endpoints, with valid and invalid input, a bounded number of examples per operation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.services.counts import count_session_start
from config.wsgi import application
from merchants.access import DeviceApi
from merchants.models import Device, DeviceKind, Merchant, Store
from merchants.services import api_token_create, device_create
from merchants.tenancy import merchant_context
from sensing.services.cameras import camera_register
from tests.catalog.factories import StoreProductFactory

# Examples per operation in the fuzzing phase; the coverage phase adds its boundary cases to them.
EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@contextmanager
def _connection_kept() -> Iterator[None]:
    # As Django's test client does: the WSGI handler would otherwise close the connection at the
    # end of every request, and with it a test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Read when the tests are collected (one test per operation); reading the schema touches no table.
with _connection_kept():
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/",
        application,
        config=SchemathesisConfig.from_dict(
            {
                "seed": 15,
                "generation": {"mode": "all", "max-examples": EXAMPLES, "with-security-parameters": False},
                "phases": {"stateful": {"enabled": False}},
            }
        ),
    )


def test_the_schema_documents_the_pages_and_the_error_answers() -> None:
    document = Client().get("/api/schema/", {"format": "json"}).json()
    components, paths = document["components"]["schemas"], document["paths"]
    stores = paths["/api/v1/merchants/{merchant_id}/stores/"]["get"]
    page = stores["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/PaginatedStoreOutputList"}
    assert sorted(components["PaginatedStoreOutputList"]["properties"]) == ["count", "next", "previous", "results"]
    assert {p["name"] for p in stores["parameters"] if p["in"] == "query"} == {"page", "page_size"}
    # An unpaged list stays an array.
    hours = paths["/api/v1/merchants/{merchant_id}/analytics/sales/hours/"]["get"]["responses"]["200"]
    assert hours["content"]["application/json"]["schema"]["type"] == "array"
    assert components["Error"]["required"] == ["error"]
    assert sorted(components["ErrorDetail"]["required"]) == ["code", "message"]
    statuses = {
        f"{method.upper()} {path}": sorted(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert statuses["GET /api/v1/exit-passes/public-key/"] == ["200", "429"]
    assert statuses["POST /api/v1/devices/exit-passes/check/"] == ["200", "400", "401", "403", "415", "429"]
    assert statuses["GET /api/v1/merchants/{merchant_id}/stores/{store_id}/"] == ["200", "401", "403", "404", "429"]
    assert statuses["POST /api/v1/sensing/frames"] == ["200", "202", "400", "401", "403", "413", "415", "429"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status >= "400":
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)


@pytest.fixture
def credentials(merchant: Merchant, store: Store, owner: Any) -> dict[str, str]:
    """The Authorization header of the owner's token, and of a door reader and a camera of the store."""
    _token, personal = api_token_create(user=owner, name="schemathesis")
    _door, door = device_create(merchant=merchant, store_id=store.pk, name="Exit door", kind=DeviceKind.DOOR)
    _camera, camera = camera_register(merchant=merchant, store_id=store.pk, name="Drinks shelf")
    return {"person": f"Bearer {personal}", DeviceKind.DOOR: f"Device {door}", DeviceKind.CAMERA: f"Device {camera}"}


@pytest.fixture
def path_objects(merchant: Merchant, store: Store, credentials: dict[str, str]) -> dict[str, int]:  # noqa: ARG001 - the devices exist first
    """The merchant's own objects for the path: another id only answers 404, which tells nothing more."""
    item = StoreProductFactory(store=store, merchant=merchant)
    count = count_session_start(merchant=merchant, store=store)
    with merchant_context(merchant.pk):
        device = Device.objects.filter(merchant=merchant, kind=DeviceKind.CAMERA).get()
    return {
        "merchant_id": merchant.pk,
        "store_id": store.pk,
        "item_id": item.pk,
        "count_id": count.pk,
        "device_id": device.pk,
    }


@pytest.fixture
def wsgi_calls() -> Iterator[None]:
    with _connection_kept():
        yield


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Counts the requests per operation and status; the figures are written after the run."""
    counts: Counter[str] = Counter()
    yield counts
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    statuses: Counter[str] = Counter()
    for key, n in counts.items():
        statuses[key.rsplit(" ", 1)[-1]] += n
    if reporter is not None and capture is not None and counts:
        operations = len({key.rsplit(" ", 1)[0] for key in counts})
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nschemathesis: {operations} operations, {counts.total()} requests, "
                f"by status {dict(sorted(statuses.items()))}"
            )


def _authorization(path: str, credentials: dict[str, str]) -> str:
    try:
        view = getattr(resolve(path).func, "view_class", None)
    except Resolver404:  # a path with parameters is a merchant's, for staff
        view = None
    if view is not None and issubclass(view, DeviceApi):
        return credentials[view.device_kind or DeviceKind.DOOR]
    return credentials["person"]


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.usefixtures("wsgi_calls")
@schema.parametrize()
# The examples of one operation share its fixtures on purpose: one merchant, its tokens, one transaction.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_every_operation_answers_as_its_schema_says(
    case: Any, path_objects: dict[str, int], credentials: dict[str, str], tally: Counter[str]
) -> None:
    for name in case.path_parameters or {}:
        case.path_parameters[name] = path_objects[name]
    headers = {"Authorization": _authorization(case.operation.path, credentials)}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    tally[f"{case.operation.method.upper()} {case.operation.path} {response.status_code}"] += 1
