"""Helpers of the wholesaler's admin: the depot filter, who acts, and how a bulk action over orders
reports what it did and what it refused."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from catalog.models import Product
from core.http import error_message
from ordering.models import Depot, PurchaseOrder


class DepotFilter(admin.SimpleListFilter):
    """Only the signed-in wholesaler's own depots are offered (never a rival's names)."""

    title = "depot"
    parameter_name = "depot"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        return [(depot.pk, depot.name) for depot in model_admin.rows_of(request, Depot.objects.order_by("name"))]

    def queryset(self, _request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(depot_id=self.value()) if self.value() else queryset


def line_change_note(line_form: Any) -> str:
    """What the wholesaler changed on one line, as a sentence for the order's history ("" if nothing)."""
    if not getattr(line_form, "cleaned_data", None) or not line_form.has_changed():
        return ""
    line = line_form.instance
    parts = []
    if "allocated_quantity" in line_form.changed_data:
        before = line_form.initial.get("allocated_quantity")
        after = line_form.cleaned_data.get("allocated_quantity")
        parts.append(
            f"allocated {'not set' if after is None else after} (was {'not set' if before is None else before})"
        )
    if "substitute" in line_form.changed_data:
        before_id = line_form.initial.get("substitute")
        before = Product.objects.filter(pk=before_id).values_list("name", flat=True).first() if before_id else None
        after = line_form.cleaned_data.get("substitute")
        parts.append(f"substitute {after.name if after else 'none'} (was {before or 'none'})")
    return f"{line.product.name}: {', '.join(parts)}" if parts else ""


def actor_of(request: HttpRequest) -> User | None:
    """Who acts, for the order's history."""
    return request.user if isinstance(request.user, User) else None


def orders_run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[PurchaseOrder],
    verb: str,
    action: Any,
) -> None:
    """Run ``action`` on each selected order; say how many were done and why each refused one was."""
    done, refused = 0, []
    for order in queryset.order_by("pk"):
        try:
            action(order)
        except ValidationError as error:
            refused.append(f"{order.number}: {error_message(error)}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{verb} {done} order{'s' if done != 1 else ''}.", messages.SUCCESS)
    for reason in refused:
        modeladmin.message_user(request, reason, messages.ERROR)
