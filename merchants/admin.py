"""Admin for the platform operator and wholesaler staff.

Admin requests run through the audited platform bypass (merchants.middleware); what each admin
user may see is narrowed by one mechanism (merchants.admin_sealing): a wholesaler's staff see only
their wholesaler and the merchants it supplies, and never shoppers, devices or payments.

Times are shown with their zone ("2025-01-15 11:00 CET", config.formats): a row of a store in
its store's zone (``StoreTimesAdmin``), a row of no store (a wholesaler, an API token) in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import F, OuterRef, QuerySet, Subquery, Value
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import formats, timezone
from django.utils.html import format_html

from merchants import zones
from merchants.admin_sealing import PlatformOnlyAdmin, WholesalerScopedAdmin
from merchants.models import (
    AccountEvent,
    ApiToken,
    Device,
    Invitation,
    Membership,
    Merchant,
    PlatformAccess,
    Store,
    Wholesaler,
    WholesalerStaff,
)


def _local_column(field: models.DateTimeField[Any, Any]) -> Callable[[Any], str | None]:
    """A list column showing ``field`` in the row's own zone (``row_zone``, annotated by StoreTimesAdmin)."""

    @admin.display(description=field.verbose_name, ordering=field.name)
    def column(obj: Any) -> str | None:
        value = getattr(obj, field.name)
        if value is None:
            return None  # the admin's empty value
        local = timezone.localtime(value, zones.zone_named(getattr(obj, "row_zone", None)))
        # Unbroken, as the admin keeps its own date columns (its "nowrap" cell class).
        return format_html('<span class="nowrap">{}</span>', formats.localize(local))

    # The admin names the column's CSS class after the callable: "field-submitted_at", as for the field.
    column.__name__ = field.name
    return column


class StoreTimesAdmin(admin.ModelAdmin):
    """Each row's times in its store's time zone, with the zone's abbreviation ("2025-01-15 11:00 CET").

    One admin page lists rows of many stores, so no single zone fits the page: the list shows each
    row's times in its own store's zone, a change page its object's. ``store_zone_path`` leads from
    a row to its store's ``timezone`` ("store__timezone"); a row that belongs to a merchant rather
    than to one store names the merchant in ``merchant_path`` instead and shows the zone of the
    merchant's first store by name, as the merchant's dashboard does.
    """

    store_zone_path: str = ""
    merchant_path: str = ""

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        self._local_columns = {
            field.name: _local_column(field)
            for field in model._meta.get_fields()
            if isinstance(field, models.DateTimeField)
        }

    def _row_zone(self) -> Any:
        if self.store_zone_path:
            return F(self.store_zone_path)
        if self.merchant_path:
            first = Store.objects.filter(merchant_id=OuterRef(self.merchant_path)).order_by("name", "pk")
            return Subquery(first.values("timezone")[:1])
        return Value(None, output_field=models.CharField())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(row_zone=self._row_zone())

    def get_list_display(self, request: HttpRequest) -> Any:
        return [
            self._local_columns.get(name, name) if isinstance(name, str) else name
            for name in super().get_list_display(request)
        ]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The form shows the object's times in its store's zone, and reads typed times in it too.
        found = self.get_object(request, unquote(object_id)) if object_id else None
        with timezone.override(zones.zone_named(getattr(found, "row_zone", None))):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            return response


@admin.register(Wholesaler)
class WholesalerAdmin(WholesalerScopedAdmin):
    wholesaler_path = "pk"
    list_display = ["name", "slug", "vat_id", "created_at"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(WholesalerStaff)
class WholesalerStaffAdmin(WholesalerScopedAdmin):
    wholesaler_path = "wholesaler"
    list_display = ["user", "wholesaler", "created_at"]
    raw_id_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(StoreTimesAdmin, WholesalerScopedAdmin):
    wholesaler_path = "wholesaler"
    merchant_path = "pk"
    list_display = ["name", "slug", "wholesaler", "is_active", "created_at"]
    list_filter = ["is_active", "wholesaler"]
    search_fields = ["name", "slug"]


@admin.register(Store)
class StoreAdmin(StoreTimesAdmin, WholesalerScopedAdmin):
    store_zone_path = "timezone"
    list_display = ["name", "code", "merchant", "city", "timezone", "currency", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["name", "code", "city"]
    readonly_fields = ["code"]


@admin.register(Membership)
class MembershipAdmin(StoreTimesAdmin, PlatformOnlyAdmin):
    merchant_path = "merchant_id"
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    raw_id_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(StoreTimesAdmin, PlatformOnlyAdmin):
    merchant_path = "merchant_id"
    list_display = ["email", "merchant", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False


@admin.register(Device)
class DeviceAdmin(StoreTimesAdmin, PlatformOnlyAdmin):
    store_zone_path = "store__timezone"
    list_display = ["name", "kind", "store", "merchant", "prefix", "last_seen_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False  # devices get their token from the dashboard, where it is shown once


@admin.register(ApiToken)
class ApiTokenAdmin(PlatformOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False


@admin.register(PlatformAccess)
class PlatformAccessAdmin(PlatformOnlyAdmin):
    list_display = ["at", "actor", "reason"]
    search_fields = ["actor", "reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    """The audit log of two-step sign-in: read only, for the platform operator."""

    list_display = ["at", "username", "kind", "ip_address", "detail"]
    list_filter = ["kind"]
    search_fields = ["username", "detail"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False
