"""The owner decides whether managers see analytics; owners always do, clerks never."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from merchants.models import Merchant, Store
from merchants.services import api_token_create

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_can_keep_analytics_from_managers(merchant: Merchant, store: Store, owner: Any, manager: Any) -> None:
    del store
    sales = reverse("analytics:sales", kwargs={"slug": merchant.slug})
    overview = reverse("analytics:overview", kwargs={"slug": merchant.slug})
    assert _client(manager).get(sales).status_code == 200
    toggle = reverse("merchants:staff_analytics", kwargs={"slug": merchant.slug})
    # A manager cannot change it; the owner can (an unticked box is a no).
    assert _client(manager).post(toggle, {}).status_code == 403
    assert _client(owner).post(toggle, {}).status_code == 302
    refused = _client(manager).get(sales)
    assert refused.status_code == 403
    assert "when the owner lets them see it" in refused.content.decode()
    assert 'id="today-net_sales"' not in _client(manager).get(overview).content.decode()
    _token, raw = api_token_create(user=manager, name="tools")
    api = reverse("analytics:api_sales_summary", kwargs={"merchant_id": merchant.pk})
    assert Client().get(api, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 403
    # Owners always see it; ticking the box lets managers back in.
    assert _client(owner).get(sales).status_code == 200
    assert _client(owner).post(toggle, {"managers_see_analytics": "on"}).status_code == 302
    assert _client(manager).get(sales).status_code == 200
    assert 'id="today-net_sales"' in _client(manager).get(overview).content.decode()


def test_another_merchants_toggle_is_not_found(merchant: Merchant, other_merchant: Merchant, owner: Any) -> None:
    toggle = reverse("merchants:staff_analytics", kwargs={"slug": other_merchant.slug})
    assert _client(owner).post(toggle, {}).status_code == 404
    other_merchant.refresh_from_db()
    assert other_merchant.managers_see_analytics is True
    assert merchant.managers_see_analytics is True
