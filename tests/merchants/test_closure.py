"""Closing a shop: the owner asks, the operator executes; every row of the shop is deleted or kept anonymised
for tax law, and nothing of another shop changes (marker rows in every table of both)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client

from checkout.models import Order
from merchants.closure import closure_plan, merchant_retained_purge
from merchants.data_export import merchant_field, merchant_models
from merchants.models import ClosureStatus, Merchant, MerchantClosure, PlatformAccess, Role
from merchants.tenancy import platform_access
from tests.factories import MembershipFactory, UserFactory
from tests.merchants.shops import shop_fill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(merchant: Merchant) -> dict[str, list[dict[str, Any]]]:
    """Every row of every merchant table of the merchant, read past row-level security."""
    with platform_access(reason="test: read a shop's rows", actor="test"):
        return {
            model._meta.label: list(
                model._base_manager.filter(**{merchant_field(model): merchant}).order_by("pk").values()
            )
            for model in merchant_models()
        }


def _ask(client: Client, merchant: Merchant, confirm: str) -> Any:
    return client.post(f"/m/{merchant.slug}/data/close/", {"confirm": confirm, "reason": "Retiring"})


def _closure(merchant: Merchant) -> MerchantClosure | None:
    with platform_access(reason="test: read the closure", actor="test"):
        return MerchantClosure.objects.filter(merchant=merchant).order_by("pk").last()


def test_the_plan_keeps_the_tax_records_and_what_they_need_and_deletes_every_other_table() -> None:
    plan = closure_plan()
    kept = {model._meta.label for model in plan.kept}
    deleted = [model._meta.label for model in plan.deleted]
    assert {"checkout.Order", "checkout.OrderLine", "checkout.Refund", "checkout.Shift", "checkout.CounterPayment",
            "catalog.StockMovement", "catalog.CountSession", "ordering.PurchaseOrder",
            "merchants.Store", "catalog.StoreProduct", "merchants.MerchantClosure"} <= kept  # fmt: skip
    assert {"merchants.Membership", "merchants.Invitation", "merchants.Device", "sensing.Camera", "sensing.Frame",
            "checkout.Visit", "checkout.CartLine", "checkout.ShopperCustomer", "analytics.SalesHour"} <= set(deleted)  # fmt: skip
    assert kept | set(deleted) == {model._meta.label for model in merchant_models()}
    assert not kept & set(deleted)
    for model in plan.kept:
        for field in model._meta.concrete_fields:
            # A kept row never needs a deleted one: deleting it would cascade into the kept row, or be refused.
            assert not (field.is_relation and not field.null and field.related_model in plan.deleted), field
    # Rows that refer to others go first (a camera before its device).
    assert deleted.index("sensing.Camera") < deleted.index("merchants.Device")
    assert deleted.index("checkout.CartLine") < deleted.index("checkout.Visit")


def test_closing_deletes_or_anonymises_every_row_of_the_shop_and_changes_nothing_of_another(
    merchant: Merchant,
    other_merchant: Merchant,
    owner: Any,
    other_owner: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    shop = shop_fill(merchant, marker="Linden")
    shop_fill(other_merchant, marker="Parkweg")
    both = UserFactory(username="both@example.com")
    MembershipFactory(merchant=merchant, role=Role.MANAGER, user=both)
    MembershipFactory(merchant=other_merchant, role=Role.MANAGER, user=both)
    other_before = _rows(other_merchant)
    before = _rows(merchant)
    reference = shop.camera.reference_image.name
    assert default_storage.exists(reference)

    response = _ask(_client(owner), merchant, merchant.slug)
    assert response.status_code == 302
    closure = _closure(merchant)
    assert closure is not None
    assert (closure.status, closure.requested_by_id, closure.reason) == (ClosureStatus.REQUESTED, owner.pk, "Retiring")
    # Asking deletes nothing: the operator confirms.
    asked = _rows(merchant)
    assert {label: rows for label, rows in asked.items() if label != "merchants.MerchantClosure"} == {
        label: rows for label, rows in before.items() if label != "merchants.MerchantClosure"
    }

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("merchant_close", str(closure.pk), "--yes", "--operator", "ops@lingshou.example", stdout=out)

    assert f"Closed merchant {merchant.pk}:" in out.getvalue()
    after = _rows(merchant)
    plan = closure_plan()
    for model in plan.deleted:
        assert after[model._meta.label] == [], model
    for model in plan.kept:
        if model is not MerchantClosure:
            assert [row["id"] for row in after[model._meta.label]] == [row["id"] for row in before[model._meta.label]]
    orders = after["checkout.Order"]
    assert [(o["id"], o["email"], o["shopper_id"], o["visit_id"], o["total"]) for o in orders] == [
        (shop.order.pk, "", None, None, shop.order.total)
    ]
    assert len(after["catalog.StockMovement"]) == 1
    assert not default_storage.exists(reference)

    users = get_user_model().objects
    for user in (owner, shop.clerk):
        user.refresh_from_db()
        assert (user.username, user.email, user.is_active, user.has_usable_password()) == (
            f"closed-user-{user.pk}",
            "",
            False,
            False,
        )
    both.refresh_from_db()
    assert (both.username, both.is_active) == ("both@example.com", True)
    assert users.get(pk=other_owner.pk).is_active
    merchant.refresh_from_db()
    assert merchant.is_active is False

    closure = _closure(merchant)
    assert closure is not None
    assert closure.status == ClosureStatus.EXECUTED
    assert closure.executed_by == "ops@lingshou.example"
    assert closure.retain_until == date(
        closure.executed_at.year + 10, closure.executed_at.month, closure.executed_at.day
    )  # type: ignore[union-attr]
    assert closure.summary["tables"]["merchants.Membership"] == {"deleted": 3}
    assert closure.summary["users_anonymised"] == 2
    with platform_access(reason="test: read the audit log", actor="test"):
        assert PlatformAccess.objects.filter(
            actor="ops@lingshou.example", reason=f"close merchant: request {closure.pk}"
        ).exists()

    # The other shop, row for row and column for column (its clerk, the shared manager, its orders).
    assert _rows(other_merchant) == other_before
    with platform_access(reason="test: read the other shop's order", actor="test"):
        assert Order.objects.get(merchant=other_merchant).email == "parkweg@shopper.example"


def test_the_owner_alone_asks_and_a_wrong_confirmation_or_a_second_request_changes_nothing(
    merchant: Merchant, other_merchant: Merchant, owner: Any, manager: Any, other_owner: Any
) -> None:
    assert _ask(_client(manager), merchant, merchant.slug).status_code == 403
    assert _ask(_client(other_owner), merchant, merchant.slug).status_code == 404
    wrong = _ask(_client(owner), merchant, "kiosk")
    assert wrong.status_code == 400
    assert f"Type {merchant.slug} exactly" in wrong.content.decode()
    assert _closure(merchant) is None

    assert _ask(_client(owner), merchant, merchant.slug).status_code == 302
    again = _ask(_client(owner), merchant, merchant.slug)
    assert again.status_code == 400
    assert "already has an open request" in again.content.decode()
    closure = _closure(merchant)
    assert closure is not None
    assert MerchantClosure.objects.count() == 0  # outside any context: row-level security hides every request

    # Another shop's owner cannot withdraw it; the owner can.
    assert _client(other_owner).post(f"/m/{merchant.slug}/data/close/{closure.pk}/withdraw/").status_code == 404
    assert _client(other_owner).post(f"/m/{other_merchant.slug}/data/close/{closure.pk}/withdraw/").status_code == 404
    assert _closure(merchant).status == ClosureStatus.REQUESTED  # type: ignore[union-attr]
    withdrawn = _client(owner).post(f"/m/{merchant.slug}/data/close/{closure.pk}/withdraw/")
    assert withdrawn.status_code == 302
    assert _closure(merchant).status == ClosureStatus.WITHDRAWN  # type: ignore[union-attr]


def test_the_operator_must_name_themself_and_a_request_runs_once(
    merchant: Merchant, owner: Any, other_merchant: Merchant
) -> None:
    shop_fill(merchant, marker="Linden")
    assert _ask(_client(owner), merchant, merchant.slug).status_code == 302
    closure = _closure(merchant)
    assert closure is not None
    before = _rows(merchant)

    out = io.StringIO()
    call_command("merchant_close", str(closure.pk), stdout=out)
    assert "Nothing was changed" in out.getvalue()
    with pytest.raises(CommandError, match="Name the operator"):
        call_command("merchant_close", str(closure.pk), "--yes")
    assert _rows(merchant) == before

    call_command("merchant_close", str(closure.pk), "--yes", "--operator", "ops", stdout=io.StringIO())
    with pytest.raises(CommandError, match="is closed by the platform, not open"):
        call_command("merchant_close", str(closure.pk), "--yes", "--operator", "ops")
    with pytest.raises(CommandError, match="There is no request 999999"):
        call_command("merchant_close", "999999", "--yes", "--operator", "ops")
    del other_merchant


def test_the_tax_records_go_when_their_retention_ends_and_not_a_day_before(
    merchant: Merchant, other_merchant: Merchant, owner: Any
) -> None:
    shop_fill(merchant, marker="Linden")
    shop_fill(other_merchant, marker="Parkweg")
    other_before = _rows(other_merchant)
    assert _ask(_client(owner), merchant, merchant.slug).status_code == 302
    closure = _closure(merchant)
    assert closure is not None
    call_command("merchant_close", str(closure.pk), "--yes", "--operator", "ops", stdout=io.StringIO())
    closure = _closure(merchant)
    assert closure is not None
    assert closure.retain_until is not None
    kept = _rows(merchant)

    assert merchant_retained_purge(operator="ops", today=closure.retain_until - timedelta(days=1)) == []
    assert _rows(merchant) == kept
    assert merchant_retained_purge(operator="ops", today=closure.retain_until) == [closure.pk]

    after = _rows(merchant)
    assert {label: rows for label, rows in after.items() if rows} == {
        "merchants.MerchantClosure": after["merchants.MerchantClosure"]
    }
    assert after["merchants.MerchantClosure"][0]["status"] == ClosureStatus.PURGED
    assert merchant_retained_purge(operator="ops", today=closure.retain_until) == []
    assert _rows(other_merchant) == other_before
