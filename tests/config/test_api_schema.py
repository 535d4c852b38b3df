"""schemathesis over /api/schema/: every operation answers only what the schema says, and never 500.

The API is called in this process through its WSGI application (the requests run in the test's
transaction), as an owner with a personal token and as the door reader or camera on the device
endpoints, with valid and invalid input, a bounded number of examples per operation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import Resolver404, resolve
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from merchants.access import DeviceApi
from merchants.models import DeviceKind, Merchant, Store
from merchants.services import api_token_create, device_create
from sensing.services.cameras import camera_register
from tests.catalog.factories import StoreProductFactory

# Examples per operation in the fuzzing phase; the coverage phase adds its boundary cases to them.
EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.pytest.from_fixture("api_schema")


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
def api_schema(merchant: Merchant, store: Store, credentials: dict[str, str]) -> Iterator[Any]:  # noqa: ARG001 - the tokens exist before the schema is read
    StoreProductFactory(store=store, merchant=merchant)
    # As Django's test client does: the WSGI handler would otherwise close the test's connection
    # (and with it the test's transaction) at the end of every request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    config = SchemathesisConfig.from_dict(
        {
            "seed": 15,
            "parameters": {"merchant_id": merchant.pk, "store_id": store.pk},
            "generation": {"mode": "all", "max-examples": EXAMPLES, "with-security-parameters": False},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """Counts the requests per operation and status; the figures are written after the run."""
    counts: Counter[str] = Counter()
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    statuses = Counter({status: n for key, n in counts.items() for status in [key.rsplit(" ", 1)[-1]]})
    if reporter is not None:
        operations = len({key.rsplit(" ", 1)[0] for key in counts})
        reporter.write_line(
            f"schemathesis: {operations} operations, {counts.total()} requests, by status {dict(sorted(statuses.items()))}"
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
@schema.parametrize()
def test_every_operation_answers_as_its_schema_says(
    case: Any, credentials: dict[str, str], tally: Counter[str]
) -> None:
    headers = {"Authorization": _authorization(case.operation.path, credentials)}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    tally[f"{case.operation.method.upper()} {case.operation.path} {response.status_code}"] += 1
