"""Device API of sensing: a camera uploads frames and heartbeats with its device token.

The frame upload answers 202 as soon as the JPEG is checked, stored and its row inserted; the
pipeline runs later on the ``sensing`` queue (enqueued after commit).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from config.api import error_body
from merchants.access import DeviceApi
from sensing import services
from sensing.models import Frame, FrameStatus


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The frame is larger than the server accepts."


class DeviceRateThrottle(SimpleRateThrottle):
    """Per device, not per address: many cameras of one shop share its address."""

    scope = "sensing_device"
    rate = "600/min"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        device = getattr(request, "auth", None)
        pk = getattr(device, "pk", None)
        return None if pk is None else self.cache_format % {"scope": self.scope, "ident": pk}

    def get_rate(self) -> str:
        return self.rate


def _not_a_camera(error: ValidationError) -> Response:
    return Response(error_body("not_a_camera", error.messages[0]), status=status.HTTP_403_FORBIDDEN)


class FrameOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    camera_id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    captured_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=FrameStatus.choices)
    flag_reason = serializers.CharField(help_text="Why a flagged frame is not processed, e.g. not_calibrated.")


class FrameUploadApi(DeviceApi):
    """POST /api/v1/sensing/frames: one JPEG from the camera the token belongs to."""

    parser_classes = [MultiPartParser]
    throttle_classes = [DeviceRateThrottle]

    class FrameInput(serializers.Serializer[Any]):
        sequence = serializers.IntegerField(min_value=0, help_text="The camera's frame counter; unique per camera.")
        captured_at = serializers.DateTimeField(help_text="When the camera took the picture (ISO 8601 with offset).")
        image = serializers.FileField(help_text="The frame as a JPEG.")

    @extend_schema(
        request=FrameInput,
        responses={202: FrameOutput, 200: FrameOutput},
        summary="Upload a shelf frame (202 when new, 200 with the same frame when repeated)",
    )
    def post(self, request: Request) -> Response:
        limit = settings.SENSING_FRAME_MAX_BYTES
        # Refuse before the body is parsed: the multipart overhead is small against the limit.
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 64 * 1024:
            raise PayloadTooLarge(f"A frame may have at most {limit} bytes.")
        data = self.FrameInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["image"]
        if upload.size > limit:
            raise PayloadTooLarge(f"A frame may have at most {limit} bytes.")
        try:
            frame, created = services.frame_ingest(
                device=self.device,
                sequence=data.validated_data["sequence"],
                captured_at=data.validated_data["captured_at"],
                data=upload.read(),
            )
        except services.FrameRejected as error:
            return Response(error_body(str(error.code), error.messages[0]), status=status.HTTP_400_BAD_REQUEST)
        except ValidationError as error:
            return _not_a_camera(error)
        return Response(FrameOutput(frame).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class HeartbeatApi(DeviceApi):
    """POST /api/v1/sensing/heartbeat: the camera is alive; answers where its frames stand."""

    throttle_classes = [DeviceRateThrottle]

    class HeartbeatOutput(serializers.Serializer[Any]):
        camera_id = serializers.IntegerField()
        last_sequence = serializers.IntegerField(allow_null=True, help_text="The highest sequence received.")
        is_calibrated = serializers.BooleanField()

    @extend_schema(request=None, responses=HeartbeatOutput, summary="Camera heartbeat")
    def post(self, request: Request) -> Response:
        try:
            camera = services.camera_heartbeat(device=self.device)
        except ValidationError as error:
            return _not_a_camera(error)
        last = Frame.objects.filter(merchant_id=camera.merchant_id, camera=camera).order_by("-sequence").first()
        return Response(
            self.HeartbeatOutput(
                {
                    "camera_id": camera.pk,
                    "last_sequence": None if last is None else last.sequence,
                    "is_calibrated": camera.is_calibrated,
                }
            ).data
        )
