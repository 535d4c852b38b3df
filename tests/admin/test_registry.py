"""Every admin the site has is sealed: walked from the registry, so that a new admin cannot forget it.

A wholesaler's staff member, even one given every permission there is, gets no server error on any
admin page and never a page naming the rival; the admins that are not wholesaler-scoped do not
exist for them at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.models import Permission, User
from django.db.models import Model
from django.test import Client

from merchants.admin_sealing import PlatformOnlyAdmin, WholesalerScopedAdmin, WholesalerSealed
from merchants.models import Wholesaler, WholesalerStaff
from merchants.tenancy import platform_access
from tests.admin.conftest import RIVAL, World, client_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def registry() -> list[tuple[type[Model], admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_admin_is_scoped_to_a_wholesaler_or_the_operators_alone() -> None:
    for model, model_admin in registry():
        assert isinstance(model_admin, WholesalerScopedAdmin | PlatformOnlyAdmin), model._meta.label
        if not isinstance(model_admin, WholesalerScopedAdmin):
            continue
        path = model_admin.wholesaler_path
        target = model if path == "pk" else get_fields_from_path(model, path)[-1].related_model
        assert target is Wholesaler, (model._meta.label, path)
        for inline in model_admin.inlines:
            assert issubclass(inline, WholesalerSealed), (model._meta.label, inline)


@pytest.fixture
def empowered(ours: World, rival: World) -> Client:
    """Staff of our wholesaler holding every permission there is (but not a superuser)."""
    del rival
    user = UserFactory(username="everything@greenline.example", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    WholesalerStaff.objects.create(user=user, wholesaler=ours.wholesaler)
    return client_of(user)


def test_the_operators_admins_do_not_exist_for_staff_with_every_permission(empowered: Client) -> None:
    platform_only = [model for model, model_admin in registry() if isinstance(model_admin, PlatformOnlyAdmin)]
    # The libraries' admins (users, groups, lock-outs) are sealed too, not only the project's own.
    assert {"auth.User", "auth.Group", "axes.AccessAttempt", "merchants.Device", "sensing.Camera"} <= {
        model._meta.label for model in platform_only
    }
    for model in platform_only:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert empowered.get(base).status_code == 403, base
        assert empowered.get(f"{base}add/").status_code == 403, base
    assert {app["app_label"] for app in empowered.get("/admin/").context["app_list"]}.isdisjoint(
        {"auth", "axes", "sensing"}
    )


def _urls(ours: World, rival: World) -> Iterator[str]:
    for model, model_admin in registry():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        yield base
        yield f"{base}?q=a&o=1"
        yield f"{base}add/"
        rows: list[object] = []
        if isinstance(model_admin, WholesalerScopedAdmin):
            label = model._meta.label_lower
            rows = [ours.rows().get(label), rival.rows().get(label)]
        else:
            with platform_access(reason="test", actor="test"):
                rows = [model._default_manager.order_by("pk").first()]
        for row in rows:
            if row is not None:
                pk = row.pk  # type: ignore[attr-defined]
                yield from (f"{base}{pk}/change/", f"{base}{pk}/history/", f"{base}{pk}/delete/")
    yield "/admin/"
    for app in ("merchants", "catalog", "ordering", "sensing", "auth", "axes"):
        yield f"/admin/{app}/"
    yield "/admin/catalog/product/import/"
    yield f"/admin/ordering/purchaseorder/{rival.received.pk}/invoice.pdf"
    yield f"/admin/ordering/purchaseorder/{ours.received.pk}/invoice.pdf"


@pytest.mark.parametrize("who", ["demo staff", "staff with every permission"])
def test_no_admin_page_answers_500_or_names_the_rival_to_wholesaler_staff(
    who: str, our_client: Client, empowered: Client, ours: World, rival: World
) -> None:
    client = our_client if who == "demo staff" else empowered
    failures = []
    for url in _urls(ours, rival):
        response = client.get(url)
        body = response.content.decode(errors="replace") if response["Content-Type"].startswith("text/") else ""
        if response.status_code >= 500 or RIVAL.lower() in body.lower():
            failures.append((url, response.status_code))
    assert failures == []


def test_the_operator_opens_every_admin_page(operator_client: Client, ours: World, rival: World) -> None:
    statuses = {url: operator_client.get(url).status_code for url in _urls(ours, rival)}
    assert [url for url, status in statuses.items() if status >= 500] == []
    # Every list, and each wholesaler's rows, open for the operator (adds and deletes some admins refuse).
    assert [
        url for url, status in statuses.items() if status != 200 and re.fullmatch(r"/admin/\w+/\w+/(\d+/change/)?", url)
    ] == []


def test_a_staff_member_of_no_wholesaler_sees_no_row(ours: World) -> None:
    user: User = UserFactory(username="loose@example.com", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    client = client_of(user)
    for model, model_admin in registry():
        if isinstance(model_admin, WholesalerScopedAdmin):
            row = ours.rows()[model._meta.label_lower]
            base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            assert client.get(f"{base}{row.pk}/change/").status_code == 302, base  # type: ignore[attr-defined]
            assert client.get(f"{base}add/").status_code == 403, base


def test_autocomplete_over_an_operators_admin_is_refused(our_client: Client) -> None:
    query = {"app_label": "merchants", "model_name": "wholesalerstaff", "field_name": "user", "term": ""}
    assert our_client.get("/admin/autocomplete/", query).status_code == 403


def test_the_last_line_refuses_a_rivals_row_on_save_and_delete(ours: World, rival: World) -> None:
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from ordering.models import Promotion

    request = RequestFactory().post("/admin/ordering/promotion/")
    request.user = ours.staff
    promotion_admin = admin.site.get_model_admin(Promotion)
    with platform_access(reason="test", actor="test"):
        forged = Promotion.objects.get(pk=rival.promotion.pk)
        forged.note = "Taken"
        with pytest.raises(PermissionDenied):
            promotion_admin.save_model(request, forged, form=None, change=True)
        with pytest.raises(PermissionDenied):
            promotion_admin.delete_model(request, forged)
        promotion_admin.delete_queryset(request, Promotion.objects.filter(pk=rival.promotion.pk))
        assert Promotion.objects.get(pk=rival.promotion.pk).note == rival.promotion.note
        assert not promotion_admin.has_change_permission(request, forged)
        assert promotion_admin.has_change_permission(request, Promotion.objects.get(pk=ours.promotion.pk))
