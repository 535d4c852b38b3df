"""The wholesaler admin is sealed between wholesalers: per admin model, as our staff, the rival's and the operator.

Every rival row carries RIVAL in its name, so "RIVAL not in the page" catches a list, a filter, a
choice, a raw-id label or an error message that names one.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db.models import Model
from django.test import Client

from catalog import gtin
from catalog.models import Barcode, Category, Product
from merchants.tenancy import platform_access
from ordering.models import DepotStock, Promotion, StoreSupply
from tests.admin.conftest import OURS, RIVAL, World

pytestmark = pytest.mark.django_db

LABELS = [
    "merchants.wholesaler",
    "merchants.wholesalerstaff",
    "merchants.merchant",
    "merchants.store",
    "catalog.category",
    "catalog.product",
    "ordering.depot",
    "ordering.depotstock",
    "ordering.promotion",
    "ordering.storesupply",
    "ordering.purchaseorder",
    "ordering.claim",
]


def url_of(label: str, suffix: str = "") -> str:
    return f"/admin/{label.replace('.', '/')}/{suffix}"


def counts() -> dict[str, int]:
    """Rows per admin model, to show that a refused request changed nothing."""
    with platform_access(reason="test", actor="test"):
        return {
            model.__name__: model.objects.count() for model in (Category, Product, DepotStock, Promotion, StoreSupply)
        }


def mentions(name: str, page: str) -> bool:
    """Whether ``page`` names anything of the wholesaler ``name`` (its slugs and e-mail addresses are lower case)."""
    return name.lower() in page.lower()


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def change_link(label: str, world: World) -> str:
    """The link a changelist gives to ``world``'s row of ``label``."""
    return f'href="{url_of(label, f"{world.rows()[label].pk}/change/")}"'


def shown(row: Model) -> str:
    from django.utils.html import escape

    with platform_access(reason="test", actor="test"):
        return escape(str(row))


@pytest.mark.parametrize("label", LABELS)
def test_the_changelist_lists_own_rows_only(label: str, our_client: Client, ours: World) -> None:
    page = our_client.get(url_of(label))
    assert page.status_code == 200
    assert change_link(label, ours) in text(page)
    assert not mentions(RIVAL, text(page))  # neither a row nor a filter choice names the rival


@pytest.mark.parametrize("label", LABELS)
def test_the_operator_sees_both_wholesalers_rows(
    label: str, operator_client: Client, ours: World, rival: World
) -> None:
    page = text(operator_client.get(url_of(label)))
    assert change_link(label, ours) in page
    assert change_link(label, rival) in page


@pytest.mark.parametrize("label", LABELS)
def test_own_change_page_opens_and_the_rivals_does_not(
    label: str, our_client: Client, ours: World, rival: World
) -> None:
    own = our_client.get(url_of(label, f"{ours.rows()[label].pk}/change/"))
    assert own.status_code == 200
    assert not mentions(RIVAL, text(own))
    theirs = our_client.get(url_of(label, f"{rival.rows()[label].pk}/change/"), follow=True)
    assert theirs.redirect_chain[0][1] == 302  # the admin's "does not exist": back to its index
    assert not mentions(RIVAL, text(theirs))
    for suffix in ("history/", "delete/"):
        other = our_client.get(url_of(label, f"{rival.rows()[label].pk}/{suffix}"))
        assert other.status_code in (302, 403, 404)
        assert not mentions(RIVAL, text(other))


@pytest.mark.parametrize("label", LABELS)
def test_the_add_page_offers_no_rival_choice(label: str, our_client: Client) -> None:
    page = our_client.get(url_of(label, "add/"))
    assert page.status_code in (200, 403)
    assert not mentions(RIVAL, text(page))


def test_the_wholesaler_pages_answer_their_own_staff(our_client: Client, ours: World, rival: World) -> None:
    # Were 500 (TypeError: the wholesaler compared to its own id).
    assert our_client.get("/admin/merchants/wholesaler/").status_code == 200
    assert our_client.get(f"/admin/merchants/wholesaler/{ours.wholesaler.pk}/change/").status_code == 200
    assert our_client.get(f"/admin/merchants/wholesaler/{rival.wholesaler.pk}/change/").status_code == 302


@pytest.mark.parametrize("label", ["catalog.product", "catalog.category"])
def test_staff_cannot_write_into_another_wholesalers_catalog(
    label: str, our_client: Client, ours: World, rival: World
) -> None:
    before = counts()
    form = {
        "wholesaler": rival.wholesaler.pk,
        "name": "Forged",
        "path": "forged",
        "gtin": gtin.make("400000000091").zfill(14),
        "category": rival.category.pk,
        "case_pack": 1,
        "wholesale_cost": 0,
        "suggested_retail_price": 0,
        "content_unit": "piece",
        "tax_class": "standard",
        "created_at_0": "2026-12-01",
        "created_at_1": "10:00:00",
        "barcodes-TOTAL_FORMS": 0,
        "barcodes-INITIAL_FORMS": 0,
    }
    our_client.post(url_of(label, "add/"), form)
    with platform_access(reason="test", actor="test"):
        assert not Product.objects.filter(wholesaler=rival.wholesaler, name="Forged").exists()
        assert not Category.objects.filter(wholesaler=rival.wholesaler, name="Forged").exists()
        assert not Product.objects.filter(category=rival.category).exclude(wholesaler=rival.wholesaler).exists()
    after = counts()
    assert after["Product"] - before["Product"] + after["Category"] - before["Category"] <= 1
    # Whatever was written is in our own catalog: the wholesaler is fixed to the staff member's own.
    with platform_access(reason="test", actor="test"):
        assert set(Product.objects.filter(name="Forged").values_list("wholesaler_id", flat=True)) <= {
            ours.wholesaler.pk
        }
        assert set(Category.objects.filter(name="Forged").values_list("wholesaler_id", flat=True)) <= {
            ours.wholesaler.pk
        }


def test_a_category_post_with_a_rivals_parent_is_a_form_error(our_client: Client, rival: World) -> None:
    before = counts()
    page = our_client.post(
        url_of("catalog.category", "add/"), {"name": "Sub", "path": "sub", "parent": rival.category.pk}
    )
    assert page.status_code == 200
    assert "Select a valid choice" in text(page)
    assert not mentions(RIVAL, text(page))
    assert counts() == before


def test_the_wholesaler_field_is_fixed_to_their_own(our_client: Client, ours: World) -> None:
    page = text(our_client.get(url_of("catalog.product", "add/")))
    assert f'<option value="{ours.wholesaler.pk}" selected>' in page
    [select] = re.findall(r'<select[^>]*name="wholesaler"[^>]*>', page)
    assert "disabled" in select
    response = our_client.post(
        url_of("catalog.product", "add/"),
        {
            "name": "Own Lemonade",
            "gtin": gtin.make("400000000092").zfill(14),
            "case_pack": 1,
            "wholesale_cost": 0,
            "suggested_retail_price": 0,
            "content_unit": "piece",
            "tax_class": "standard",
            "created_at_0": "2026-12-01",
            "created_at_1": "10:00:00",
            "barcodes-TOTAL_FORMS": 0,
            "barcodes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, text(response)[:2000]
    with platform_access(reason="test", actor="test"):
        assert Product.objects.get(name="Own Lemonade").wholesaler_id == ours.wholesaler.pk


def test_the_promotion_raw_id_never_names_a_rivals_product(our_client: Client, ours: World, rival: World) -> None:
    page = our_client.get(url_of("ordering.promotion", "add/"), {"product": rival.product.pk})
    assert page.status_code == 200
    assert not mentions(RIVAL, text(page))
    before = counts()
    forged = our_client.post(
        url_of("ordering.promotion", "add/"),
        {
            "wholesaler": ours.wholesaler.pk,
            "product": rival.product.pk,
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-02",
            "expected_lift": "2",
        },
    )
    assert forged.status_code == 200
    assert "Select a valid choice" in text(forged)
    assert not mentions(RIVAL, text(forged))
    assert counts() == before
    # The own product is named beside the raw id, as before.
    own = text(our_client.get(url_of("ordering.promotion", f"{ours.promotion.pk}/change/")))
    assert shown(ours.product) in own


@pytest.mark.parametrize(
    ("label", "field", "row"),
    [
        ("ordering.depotstock", "depot", "depot"),
        ("ordering.depotstock", "product", "product"),
        ("ordering.storesupply", "depot", "depot"),
        ("ordering.storesupply", "store", "store"),
        ("catalog.product", "category", "category"),
    ],
)
def test_a_forged_foreign_key_of_the_rival_is_a_form_error(
    label: str, field: str, row: str, our_client: Client, ours: World, rival: World
) -> None:
    form = {
        "depot": ours.depot.pk,
        "product": ours.substitute.pk,
        "on_hand": 5,
        "store": ours.store.pk,
        "delivery_weekdays": '["tue"]',
        "cutoff_time": "18:00",
        "lead_time_days": 1,
        "default_service_level": "0.95",
        "service_levels": "{}",
        "name": "Forged",
        "gtin": gtin.make("400000000093").zfill(14),
        "case_pack": 1,
        "wholesale_cost": 0,
        "suggested_retail_price": 0,
        "content_unit": "piece",
        "tax_class": "standard",
        "created_at_0": "2026-12-01",
        "created_at_1": "10:00:00",
        "barcodes-TOTAL_FORMS": 0,
        "barcodes-INITIAL_FORMS": 0,
        field: getattr(rival, row).pk,
    }
    before = counts()
    page = our_client.post(url_of(label, "add/"), form)
    assert page.status_code == 200
    assert "Select a valid choice" in text(page)
    assert not mentions(RIVAL, text(page))
    assert counts() == before


@pytest.mark.parametrize("label", ["ordering.promotion", "ordering.depotstock", "catalog.product", "ordering.depot"])
def test_a_post_to_a_rivals_row_changes_nothing(label: str, our_client: Client, rival: World) -> None:
    row = rival.rows()[label]
    with platform_access(reason="test", actor="test"):
        row.refresh_from_db()  # the world's orders moved the depot's stock since it was built
        before = {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}
    response = our_client.post(url_of(label, f"{row.pk}/change/"), {"name": "Taken", "note": "Taken", "on_hand": 1})
    assert response.status_code in (302, 403, 404)
    with platform_access(reason="test", actor="test"):
        row.refresh_from_db()
        assert {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields} == before


def test_a_rivals_promotion_cannot_be_deleted(our_client: Client, rival: World) -> None:
    our_client.post(url_of("ordering.promotion", f"{rival.promotion.pk}/delete/"), {"post": "yes"})
    our_client.post(
        url_of("ordering.promotion"),
        {"action": "delete_selected", "_selected_action": [rival.promotion.pk], "post": "yes"},
    )
    with platform_access(reason="test", actor="test"):
        assert Promotion.objects.filter(pk=rival.promotion.pk).exists()


def test_raw_id_popups_list_own_rows_only(our_client: Client, ours: World) -> None:
    page = our_client.get(url_of("catalog.product"), {"_to_field": "id", "_popup": "1"})
    assert page.status_code == 200
    assert f">{ours.product.name}<" in text(page)
    assert not mentions(RIVAL, text(page))


@pytest.mark.parametrize(
    ("source", "field"),
    [("ordering.promotion", "product"), ("catalog.product", "category"), ("ordering.storesupply", "depot")],
)
def test_autocomplete_lists_own_rows_only(source: str, field: str, our_client: Client, operator_client: Client) -> None:
    app_label, model_name = source.split(".")
    query = {"app_label": app_label, "model_name": model_name, "field_name": field, "term": ""}
    response = our_client.get("/admin/autocomplete/", query)
    if response.status_code == 404:
        pytest.skip("the related admin has no search fields: no autocomplete for it")
    names = [row["text"] for row in json.loads(response.content)["results"]]
    assert names
    assert not [name for name in names if mentions(RIVAL, name)]
    everyone = [
        row["text"] for row in json.loads(operator_client.get("/admin/autocomplete/", query).content)["results"]
    ]
    assert [name for name in everyone if mentions(RIVAL, name)]


def test_a_forged_substitute_of_the_rival_is_a_form_error(our_client: Client, ours: World, rival: World) -> None:
    from merchants.tenancy import merchant_context

    order = ours.submitted
    with merchant_context(order.merchant_id):
        line = order.lines.get()
    form = {
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
        "transitions-TOTAL_FORMS": "0", "transitions-INITIAL_FORMS": "0",
        "transitions-MIN_NUM_FORMS": "0", "transitions-MAX_NUM_FORMS": "1000",
        "lines-0-id": str(line.pk), "lines-0-order": str(order.pk), "lines-0-allocated_quantity": "",
        "lines-0-substitute": str(rival.substitute.pk),
    }  # fmt: skip
    page = our_client.post(url_of("ordering.purchaseorder", f"{order.pk}/change/"), form)
    assert page.status_code == 200
    assert "Select a valid choice" in text(page)
    assert not mentions(RIVAL, text(page))
    with merchant_context(order.merchant_id):
        assert order.lines.get().substitute_id is None


@pytest.mark.parametrize("label", LABELS)
def test_the_rivals_staff_cannot_open_our_rows(label: str, rival_client: Client, ours: World) -> None:
    page = rival_client.get(url_of(label))
    assert change_link(label, ours) not in text(page)
    assert not mentions(OURS, text(page))
    theirs = rival_client.get(url_of(label, f"{ours.rows()[label].pk}/change/"), follow=True)
    assert theirs.redirect_chain[0][1] == 302
    assert not mentions(OURS, text(theirs))


def test_a_filter_forged_with_a_rivals_id_lists_nothing_and_names_nothing(our_client: Client, rival: World) -> None:
    for url, query in (
        ("catalog.product", {"category__id__exact": rival.category.pk}),
        ("merchants.merchant", {"wholesaler__id__exact": rival.wholesaler.pk}),
        ("ordering.purchaseorder", {"depot": rival.depot.pk}),
    ):
        page = our_client.get(url_of(url), query)
        assert page.status_code < 500
        assert not mentions(RIVAL, text(page))


def test_a_barcode_another_of_our_products_has_is_a_form_error(our_client: Client, ours: World) -> None:
    with platform_access(reason="test", actor="test"):
        product = Product.objects.get(pk=ours.substitute.pk)
        before = list(Barcode.objects.order_by("pk").values_list("pk", "product_id", "code"))
    form = {
        "name": product.name, "gtin": product.gtin, "case_pack": 6, "wholesale_cost": 0, "suggested_retail_price": 0,
        "content_unit": "piece", "tax_class": "standard", "created_at_0": "2026-12-01", "created_at_1": "10:00:00",
        "barcodes-TOTAL_FORMS": 1, "barcodes-INITIAL_FORMS": 0,
        "barcodes-0-code": ours.barcode.code, "barcodes-0-kind": "unit", "barcodes-0-quantity": 1,
    }  # fmt: skip
    page = our_client.post(url_of("catalog.product", f"{product.pk}/change/"), form)
    # Was a server error: the barcode's wholesaler is not on the form, so its constraint went unchecked.
    assert page.status_code == 200
    assert "Another product already has this barcode." in text(page)
    with platform_access(reason="test", actor="test"):
        assert list(Barcode.objects.order_by("pk").values_list("pk", "product_id", "code")) == before
    fresh = {**form, "barcodes-0-code": gtin.make("400000000099").zfill(14)}
    assert our_client.post(url_of("catalog.product", f"{product.pk}/change/"), fresh).status_code == 302
    with platform_access(reason="test", actor="test"):
        assert Barcode.objects.get(product=product).wholesaler_id == ours.wholesaler.pk
