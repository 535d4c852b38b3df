"""Checkout API for door readers: check a pass, report passes used while offline, the public key."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkout import exit_pass
from checkout.services.exit_passes import exit_pass_use
from core.serializers import Serializer
from merchants.access import DeviceApi
from merchants.models import DeviceKind


class PassCheckOutput(Serializer):
    status = serializers.ChoiceField(choices=["ok", "not_paid", "used", "age_check", "invalid"])
    message = serializers.CharField()
    order_id = serializers.IntegerField(allow_null=True, source="order.pk", default=None)


class ExitPassCheckApi(DeviceApi):
    device_kind = DeviceKind.DOOR

    class PassInput(Serializer):
        token = serializers.CharField(max_length=2000)

    @extend_schema(request=PassInput, responses=PassCheckOutput, summary="Check and use an exit pass (door reader)")
    def post(self, request: Request) -> Response:
        data = self.PassInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = exit_pass_use(
            merchant_id=self.device.merchant_id, store_id=self.device.store_id, token=data.validated_data["token"]
        )
        return Response(PassCheckOutput(result).data)


class ExitPassUsedApi(DeviceApi):
    device_kind = DeviceKind.DOOR

    class UsedInput(Serializer):
        token = serializers.CharField(max_length=2000)
        used_at = serializers.DateTimeField()

    @extend_schema(
        request=UsedInput(many=True),
        responses=PassCheckOutput(many=True),
        summary="Report passes a door let through while offline; each answers as if checked then",
    )
    def post(self, request: Request) -> Response:
        data = self.UsedInput(data=request.data, many=True)
        data.is_valid(raise_exception=True)
        results = [
            exit_pass_use(
                merchant_id=self.device.merchant_id,
                store_id=self.device.store_id,
                token=row["token"],
                at=row["used_at"],
            )
            for row in data.validated_data
        ]
        return Response(PassCheckOutput(results, many=True).data)


class ExitPassKeyApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    class KeyOutput(Serializer):
        algorithm = serializers.CharField()
        public_key_pem = serializers.CharField()

    @extend_schema(
        responses=KeyOutput,
        summary="The Ed25519 public key exit passes are signed with (door readers cache it to work offline)",
    )
    def get(self, _request: Request) -> Response:
        return Response({"algorithm": "EdDSA", "public_key_pem": exit_pass.public_key_pem()})
