"""Admin of sensing, for the platform operator only (support): cameras and their health, read-only.

Wholesaler staff never see it: frames and crops show the inside of a shop and its shoppers. No
picture is shown here at all; owners see theirs in the dashboard.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from merchants.admin import StoreTimesAdmin
from merchants.admin_sealing import PlatformOnlyAdmin
from sensing.models import Alert, Camera


class SupportAdmin(StoreTimesAdmin, PlatformOnlyAdmin):
    """The platform operator's, and read-only even to them."""

    def has_add_permission(self, request: HttpRequest) -> bool:  # noqa: ARG002 - Django admin hook
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:  # noqa: ARG002 - Django admin hook: Django may pass obj by keyword
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:  # noqa: ARG002 - Django admin hook: Django may pass obj by keyword
        return False


@admin.register(Camera)
class CameraAdmin(SupportAdmin):
    store_zone_path = "store__timezone"
    list_display = [
        "name",
        "store",
        "merchant",
        "calibration_version",
        "retention_hours",
        "last_frame_at",
        "last_heartbeat_at",
    ]
    list_filter = ["merchant"]
    exclude = ["reference_image"]


@admin.register(Alert)
class AlertAdmin(SupportAdmin):
    store_zone_path = "camera__store__timezone"
    list_display = ["kind", "camera", "slot", "started_at", "ended_at", "merchant"]
    list_filter = ["kind", "merchant"]
