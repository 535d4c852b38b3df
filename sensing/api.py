"""Device API of sensing: a camera uploads frames and heartbeats with its device token.

The frame upload answers 202 as soon as the JPEG is checked, stored and its row inserted; the
pipeline runs later on the ``sensing`` queue (enqueued after commit).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from catalog.api import StoreScopedApi
from core.api import Pagination, error_body, paginated
from core.http import content_length
from core.schema import ErrorOutput
from core.serializers import ModelSerializer, Serializer
from merchants.access import DeviceApi
from merchants.models import DeviceKind
from sensing.models import Alert, AlertKind, Camera, EventKind, Frame, FrameStatus, ReviewStatus, ShelfEvent
from sensing.querysets import CameraRowQuerySet
from sensing.services.ingest import FrameRejected, camera_heartbeat, frame_ingest


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The frame is larger than the server accepts."


class DeviceRateThrottle(SimpleRateThrottle):
    """Per device, not per address: many cameras of one shop share its address."""

    scope = "sensing_device"
    rate = "600/min"

    def get_cache_key(self, request: Request, _view: Any) -> str | None:
        device = getattr(request, "auth", None)
        pk = getattr(device, "pk", None)
        return None if pk is None else self.cache_format % {"scope": self.scope, "ident": pk}

    def get_rate(self) -> str:
        return self.rate


def _not_a_camera(error: ValidationError) -> Response:
    return Response(error_body("not_a_camera", error.messages[0]), status=status.HTTP_403_FORBIDDEN)


class FrameOutput(Serializer):
    id = serializers.IntegerField()
    camera_id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    captured_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=FrameStatus.choices)
    flag_reason = serializers.CharField(help_text="Why a flagged frame is not processed, e.g. not_calibrated.")


class FrameUploadApi(DeviceApi):
    """POST /api/v1/sensing/frames: one JPEG from the camera the token belongs to."""

    device_kind = DeviceKind.CAMERA
    parser_classes = [MultiPartParser]
    throttle_classes = [DeviceRateThrottle]

    class FrameInput(Serializer):
        columns = {"sequence": (Frame, "sequence")}

        sequence = serializers.IntegerField(min_value=0, help_text="The camera's frame counter; unique per camera.")
        captured_at = serializers.DateTimeField(help_text="When the camera took the picture (ISO 8601 with offset).")
        image = serializers.FileField(help_text="The frame as a JPEG.")

    @extend_schema(
        request=FrameInput,
        responses={
            202: FrameOutput,
            200: FrameOutput,
            413: OpenApiResponse(ErrorOutput, description="The frame is larger than the server accepts."),
        },
        summary="Upload a shelf frame (202 when new, 200 with the same frame when repeated)",
    )
    def post(self, request: Request) -> Response:
        limit = settings.SENSING_FRAME_MAX_BYTES
        # Refuse before the body is parsed: the multipart overhead is small against the limit.
        if content_length(request) > limit + 64 * 1024:
            raise PayloadTooLarge(f"A frame may have at most {limit} bytes.")
        data = self.FrameInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["image"]
        if upload.size > limit:
            raise PayloadTooLarge(f"A frame may have at most {limit} bytes.")
        try:
            frame, created = frame_ingest(
                device=self.device,
                sequence=data.validated_data["sequence"],
                captured_at=data.validated_data["captured_at"],
                data=upload.read(),
            )
        except FrameRejected as error:
            return Response(error_body(str(error.code), error.messages[0]), status=status.HTTP_400_BAD_REQUEST)
        except ValidationError as error:
            return _not_a_camera(error)
        return Response(FrameOutput(frame).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class HeartbeatApi(DeviceApi):
    """POST /api/v1/sensing/heartbeat: the camera is alive; answers where its frames stand."""

    device_kind = DeviceKind.CAMERA
    throttle_classes = [DeviceRateThrottle]

    class HeartbeatOutput(Serializer):
        camera_id = serializers.IntegerField()
        last_sequence = serializers.IntegerField(allow_null=True, help_text="The highest sequence received.")
        is_calibrated = serializers.BooleanField()

    @extend_schema(request=None, responses=HeartbeatOutput, summary="Camera heartbeat")
    def post(self, _request: Request) -> Response:
        try:
            camera = camera_heartbeat(device=self.device)
        except ValidationError as error:
            return _not_a_camera(error)
        last = (
            Frame.objects.for_merchant_camera(merchant_id=camera.merchant_id, camera_id=camera.pk)
            .order_by("-sequence")
            .first()
        )
        return Response(
            self.HeartbeatOutput(
                {
                    "camera_id": camera.pk,
                    "last_sequence": None if last is None else last.sequence,
                    "is_calibrated": camera.is_calibrated,
                }
            ).data
        )


# --- owners' read API: what the shelf cameras saw ----------------------------------------------


class ShelfEventOutput(ModelSerializer[ShelfEvent]):
    slot = serializers.CharField(source="slot.key")
    store_product_id = serializers.IntegerField(source="slot.store_product_id")
    product = serializers.CharField(source="slot.store_product.name")

    class Meta:
        model = ShelfEvent
        fields = [
            "id", "camera_id", "slot", "store_product_id", "product", "kind", "quantity", "confidence",
            "review", "occurred_at", "times_seen", "last_seen_at",
        ]  # fmt: skip


class AlertOutput(ModelSerializer[Alert]):
    slot = serializers.CharField(source="slot.key", default=None)
    store_product_id = serializers.IntegerField(source="slot.store_product_id", default=None)
    product = serializers.CharField(source="slot.store_product.name", default=None)
    is_open = serializers.BooleanField(source="is_active")

    class Meta:
        model = Alert
        fields = ["id", "camera_id", "slot", "store_product_id", "product", "kind", "started_at", "ended_at", "is_open"]


class _ListFilter(Serializer):
    camera = serializers.IntegerField(required=False, min_value=1, help_text="Only this camera of the store.")
    since = serializers.DateTimeField(required=False, help_text="Only what happened at or after this time.")


class EventFilter(_ListFilter):
    kind = serializers.ChoiceField(choices=EventKind.choices, required=False)
    review = serializers.ChoiceField(choices=ReviewStatus.choices, required=False)


class AlertFilter(_ListFilter):
    kind = serializers.ChoiceField(choices=AlertKind.choices, required=False)
    open = serializers.BooleanField(required=False, default=None, allow_null=True, help_text="Open or ended only.")


# The rows a camera list starts from: shelf events or alerts, each with its own vocabulary.
_Rows = TypeVar("_Rows", bound=CameraRowQuerySet)


class _CameraListApi(StoreScopedApi):
    """A list of one kind of camera record in the store, filtered by the query parameters."""

    pagination_class = Pagination

    filter_class: type[_ListFilter]
    time_field: str

    def rows(self, request: Request, queryset: _Rows) -> tuple[_Rows, dict[str, Any]]:
        """The store's rows after the common filters, and the checked query for the view's own."""
        form = self.filter_class(data=request.query_params)
        form.is_valid(raise_exception=True)  # a bad value is a 400 naming the field, never ignored
        query = dict(form.validated_data)
        rows = queryset.filter(merchant=self.merchant, camera__store=self.store)
        if "camera" in query:
            cameras = Camera.objects.for_merchant(self.merchant).for_store(self.store.pk)
            if not cameras.filter(pk=query["camera"]).exists():
                raise NotFound("No such camera in this store.")
            rows = rows.for_camera(query["camera"])
        if "since" in query:
            rows = rows.filter(**{f"{self.time_field}__gte": query["since"]})
        if query.get("kind"):
            rows = rows.filter(kind=query["kind"])
        return rows.order_by(f"-{self.time_field}", "-pk"), query


class ShelfEventListApi(_CameraListApi):
    """Shelf events of the store's cameras, newest first (takes, put-backs, restocks)."""

    filter_class, time_field = EventFilter, "occurred_at"

    @extend_schema(parameters=[EventFilter], responses=ShelfEventOutput(many=True))
    def get(self, request: Request, merchant_id: int, store_id: int) -> Response:  # noqa: ARG002 - URL kwargs, passed by keyword; StoreScopedApi resolves them
        events, query = self.rows(request, ShelfEvent.objects.select_related("slot__store_product__product"))
        if query.get("review"):
            events = events.filter(review=query["review"])
        return paginated(self, request, events, ShelfEventOutput)


class AlertListApi(_CameraListApi):
    """Shelf and camera alerts of the store (low stock, stock-out, wrong product, camera health), newest first."""

    filter_class, time_field = AlertFilter, "started_at"

    @extend_schema(parameters=[AlertFilter], responses=AlertOutput(many=True))
    def get(self, request: Request, merchant_id: int, store_id: int) -> Response:  # noqa: ARG002 - URL kwargs, passed by keyword; StoreScopedApi resolves them
        alerts, query = self.rows(request, Alert.objects.select_related("slot__store_product__product"))
        if query.get("open") is not None:
            alerts = alerts.is_open(query["open"])
        return paginated(self, request, alerts, AlertOutput)
