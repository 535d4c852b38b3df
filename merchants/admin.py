"""Admin for the platform operator and wholesaler staff.

Admin requests run through the audited platform bypass (merchants.middleware); what each admin
user may see is narrowed here: a wholesaler's staff see only the merchants their wholesaler
supplies, and never shoppers or payments.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from merchants.models import (
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


def wholesaler_of(request: HttpRequest) -> Wholesaler | None:
    staff = getattr(request.user, "wholesaler_staff", None)
    return staff.wholesaler if staff else None


class WholesalerScopedAdmin(admin.ModelAdmin):
    """Platform superusers see everything; a wholesaler's staff see their own merchants' rows."""

    wholesaler_path = "merchant__wholesaler"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        wholesaler = wholesaler_of(request)
        if wholesaler is None:
            return queryset.none()
        return queryset.filter(**{self.wholesaler_path: wholesaler})


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
class MerchantAdmin(WholesalerScopedAdmin):
    wholesaler_path = "wholesaler"
    list_display = ["name", "slug", "wholesaler", "is_active", "created_at"]
    list_filter = ["is_active", "wholesaler"]
    search_fields = ["name", "slug"]


@admin.register(Store)
class StoreAdmin(WholesalerScopedAdmin):
    list_display = ["name", "code", "merchant", "city", "timezone", "currency", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["name", "code", "city"]
    readonly_fields = ["code"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    raw_id_fields = ["user"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "merchant", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "store", "merchant", "prefix", "last_seen_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False  # devices get their token from the dashboard, where it is shown once


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False


@admin.register(PlatformAccess)
class PlatformAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "reason"]
    search_fields = ["actor", "reason"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:  # noqa: ARG002 - ModelAdmin's signature
        return False
