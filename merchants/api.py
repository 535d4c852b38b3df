"""API of the merchants app: who am I, my merchants, stores, staff, devices.

One view per operation; input and output serializers live inside their view.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination, paginated
from core.serializers import ModelSerializer, Serializer
from merchants import selectors, services
from merchants.access import DeviceApi, MerchantApi
from merchants.models import Device, DeviceKind, Membership, Merchant, Role


class MerchantOutput(ModelSerializer[Merchant]):
    class Meta:
        model = Merchant
        fields = ["id", "name", "slug"]


class StoreOutput(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    timezone = serializers.CharField()
    currency = serializers.CharField()
    address = serializers.CharField()
    country = serializers.CharField()
    opening_hours = serializers.JSONField()
    vat_id = serializers.CharField()
    tax_number = serializers.CharField()
    share_with_wholesaler = serializers.BooleanField()
    is_active = serializers.BooleanField()


class DeviceOutput(Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=DeviceKind.choices)
    store_id = serializers.IntegerField()
    prefix = serializers.CharField(help_text="The token's first characters, to tell tokens apart.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(allow_null=True)


class IsPerson(BasePermission):
    message = "This endpoint is for staff; a device token cannot use it."

    def has_permission(self, request: Request, view: APIView) -> bool:  # noqa: ARG002 - DRF permission signature
        return bool(request.user and request.user.is_authenticated and not isinstance(request.auth, Device))


class UserApi(APIView):
    """An API view about the signed-in person rather than one merchant."""

    permission_classes = [IsPerson]


class MeApi(UserApi):
    class MeOutput(Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        name = serializers.CharField()
        merchants = MerchantOutput(many=True)

    @extend_schema(responses=MeOutput, summary="The signed-in user and the merchants they work for")
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)
        data = {
            "id": user.pk,
            "email": user.email,
            "name": user.get_full_name() or user.get_username(),
            "merchants": selectors.merchant_list_for_user(user=user),
        }
        return Response(self.MeOutput(data).data)


class MerchantListApi(UserApi):
    pagination_class = Pagination

    @extend_schema(responses=MerchantOutput(many=True), summary="Merchants the user works for")
    def get(self, request: Request) -> Response:
        return paginated(self, request, selectors.merchant_list_for_user(user=cast(User, request.user)), MerchantOutput)


class MerchantDetailApi(MerchantApi):
    @extend_schema(responses=MerchantOutput, summary="One merchant")
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        return Response(MerchantOutput(self.merchant).data)


class StoreListApi(MerchantApi):
    pagination_class = Pagination

    @extend_schema(responses=StoreOutput(many=True), summary="The merchant's stores")
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        return paginated(self, request, selectors.store_list(merchant=self.merchant), StoreOutput)


class StoreDetailApi(MerchantApi):
    @extend_schema(responses=StoreOutput, summary="One store")
    def get(self, request: Request, merchant_id: int, store_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        return Response(StoreOutput(selectors.store_get(merchant=self.merchant, store_id=store_id)).data)


class MemberListApi(MerchantApi):
    pagination_class = Pagination

    class MemberOutput(Serializer):
        id = serializers.IntegerField()
        user_id = serializers.IntegerField()
        email = serializers.EmailField(source="user.email")
        role = serializers.ChoiceField(choices=Role.choices)

    @extend_schema(responses=MemberOutput(many=True), summary="The merchant's staff")
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        members: QuerySet[Membership] = selectors.membership_list(merchant=self.merchant)
        return paginated(self, request, members, self.MemberOutput)


class InvitationCreateApi(MerchantApi):
    permission = "manage_staff"

    class InvitationInput(Serializer):
        email = serializers.EmailField()
        role = serializers.ChoiceField(choices=Role.choices)

    class InvitationOutput(Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        role = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        request=InvitationInput, responses={201: InvitationOutput}, summary="Invite someone to the staff by e-mail"
    )
    def post(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        data = self.InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _raw = services.invitation_create(
            merchant=self.merchant, invited_by=cast(User, request.user), **data.validated_data
        )
        return Response(self.InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)


class DeviceListApi(MerchantApi):
    pagination_class = Pagination

    permission = "manage_devices"

    @extend_schema(responses=DeviceOutput(many=True), summary="Cameras and door readers")
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        return paginated(self, request, selectors.device_list(merchant=self.merchant), DeviceOutput)


class DeviceCreateApi(MerchantApi):
    permission = "manage_devices"

    class DeviceCreateInput(Serializer):
        store_id = serializers.IntegerField()
        name = serializers.CharField(max_length=100)
        kind = serializers.ChoiceField(choices=DeviceKind.choices, default=DeviceKind.CAMERA)

    @extend_schema(
        request=DeviceCreateInput,
        responses={
            201: inline_serializer(
                "DeviceCreated",
                {
                    "device": DeviceOutput(),
                    "token": serializers.CharField(help_text="Shown once; store it on the device."),
                },
            )
        },
        summary="Register a device; its token is in this answer and nowhere else",
    )
    def post(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        data = self.DeviceCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        device, raw = services.device_create(
            merchant=self.merchant, created_by=cast(User, request.user), **data.validated_data
        )
        return Response({"device": DeviceOutput(device).data, "token": raw}, status=status.HTTP_201_CREATED)


class DeviceRevokeApi(MerchantApi):
    permission = "manage_devices"

    @extend_schema(request=None, responses=DeviceOutput, summary="Revoke a device's token")
    def post(self, request: Request, merchant_id: int, device_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        device = selectors.device_get(merchant=self.merchant, device_id=device_id)
        return Response(DeviceOutput(services.device_revoke(merchant=self.merchant, device_id=device.pk)).data)


class DeviceMeApi(DeviceApi):
    class DeviceMeOutput(Serializer):
        device = DeviceOutput()
        merchant_id = serializers.IntegerField()
        store = StoreOutput()

    @extend_schema(responses=DeviceMeOutput, summary="The device this token belongs to (for the camera agent)")
    def get(self, request: Request) -> Response:  # noqa: ARG002 - DRF calls a handler with the request
        device = self.device
        return Response(
            self.DeviceMeOutput({"device": device, "merchant_id": device.merchant_id, "store": device.store}).data
        )
