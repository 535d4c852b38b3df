from django.urls import path

from merchants import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api_me"),
    path("devices/me/", api.DeviceMeApi.as_view(), name="api_device_me"),
    path("merchants/", api.MerchantListApi.as_view(), name="api_merchant_list"),
    path("merchants/<int:merchant_id>/", api.MerchantDetailApi.as_view(), name="api_merchant_detail"),
    path("merchants/<int:merchant_id>/stores/", api.StoreListApi.as_view(), name="api_store_list"),
    path("merchants/<int:merchant_id>/stores/<int:store_id>/", api.StoreDetailApi.as_view(), name="api_store_detail"),
    path("merchants/<int:merchant_id>/members/", api.MemberListApi.as_view(), name="api_member_list"),
    path("merchants/<int:merchant_id>/invitations/", api.InvitationCreateApi.as_view(), name="api_invitation_create"),
    path("merchants/<int:merchant_id>/devices/", api.DeviceListApi.as_view(), name="api_device_list"),
    path("merchants/<int:merchant_id>/devices/create/", api.DeviceCreateApi.as_view(), name="api_device_create"),
    path(
        "merchants/<int:merchant_id>/devices/<int:device_id>/revoke/",
        api.DeviceRevokeApi.as_view(),
        name="api_device_revoke",
    ),
]
