"""The wholesaler's side of the catalog in the Django admin: categories, products, barcodes, CSV import."""

from __future__ import annotations

import functools
import tempfile
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse

from catalog.csv_io import CATALOG_COLUMNS, ImportReport, catalog_import
from catalog.models import Barcode, Category, Product
from core import inputs
from core.money import format_amount
from merchants.admin_sealing import WholesalerScopedAdmin, WholesalerScopedInline
from merchants.models import Wholesaler


class BarcodeInline(WholesalerScopedInline):
    model = Barcode
    extra = 1
    fields = ["code", "kind", "quantity"]


@admin.register(Category)
class CategoryAdmin(WholesalerScopedAdmin):
    wholesaler_path = "wholesaler"
    list_display = ["path", "name", "wholesaler"]
    search_fields = ["path", "name"]


@admin.register(Product)
class ProductAdmin(WholesalerScopedAdmin):
    wholesaler_path = "wholesaler"
    list_display = [
        "name",
        "brand",
        "gtin",
        "category",
        "case_pack",
        "cost",
        "retail_price",
        "is_age_restricted",
        "is_active",
    ]
    list_filter = ["is_active", "is_age_restricted", "tax_class", "category"]
    search_fields = ["name", "brand", "gtin", "barcodes__code"]
    inlines = [BarcodeInline]
    list_select_related = ["category", "wholesaler"]
    change_list_template = "admin/catalog/product/change_list.html"

    @admin.display(description="wholesale cost", ordering="wholesale_cost")
    def cost(self, obj: Product) -> str:
        return format_amount(obj.wholesale_cost, obj.wholesaler.currency)

    @admin.display(description="suggested retail price", ordering="suggested_retail_price")
    def retail_price(self, obj: Product) -> str:
        return format_amount(obj.suggested_retail_price, obj.wholesaler.currency)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:  # noqa: ARG002 - ModelAdmin's signature
        for inline in formset.save(commit=False):
            inline.wholesaler_id = form.instance.wholesaler_id
            inline.save()
        for removed in formset.deleted_objects:
            removed.delete()

    def get_urls(self) -> list[Any]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="catalog_product_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV: every row is checked first; nothing is imported if one row is wrong."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        wholesalers: QuerySet[Wholesaler] = self.rows_of(request, Wholesaler.objects.all())
        report = None
        if request.method == "POST":
            wholesaler = wholesalers.filter(pk=inputs.id_or_none(request.POST.get("wholesaler")) or 0).first()
            upload = request.FILES.get("file")
            if wholesaler is None or upload is None:
                messages.error(request, "Choose the wholesaler and a CSV file.")
            else:
                try:
                    text = inputs.csv_upload(upload)
                except inputs.UploadError as error:
                    report = ImportReport()
                    report.add(0, "file", str(error))
                else:
                    # Spooled to disk as UTF-8: the importer reads the file twice (check, then apply).
                    with tempfile.NamedTemporaryFile(suffix=".csv") as spool:
                        spool.write(text.encode())
                        spool.flush()
                        report = catalog_import(
                            wholesaler=wholesaler,
                            open_file=functools.partial(open, spool.name, encoding="utf-8", newline=""),
                        )
                if report.ok:
                    messages.success(
                        request, f"Imported {report.applied} products ({report.rows_per_second:.0f} rows/s)."
                    )
                    return redirect(reverse("admin:catalog_product_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import products from CSV",
            "wholesalers": wholesalers,
            "columns": CATALOG_COLUMNS,
            "report": report,
            "opts": self.model._meta,
        }
        return render(
            request, "admin/catalog/product/import.html", context, status=400 if report and not report.ok else 200
        )
