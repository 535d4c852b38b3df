"""Merchants' pages: the dashboard's home, stores, staff and devices; the signed-in person's API tokens,
two-step sign-in and invitations; the merchant, store, member and device API."""

from django.urls import path

from core.urls import audiences
from merchants import api as apis
from merchants import data_views, sign_in, views

app_name = "merchants"

dashboard_pages = [
    path("stores/", views.stores, name="stores"),
    path("stores/new/", views.store_new, name="store_new"),
    path("stores/<int:store_id>/", views.store_edit, name="store_edit"),
    path("staff/", views.staff, name="staff"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/analytics/", views.staff_analytics, name="staff_analytics"),
    path("staff/two-step/", views.staff_two_step, name="staff_two_step"),
    path(
        "staff/invitations/<int:invitation_id>/revoke/", views.staff_invitation_revoke, name="staff_invitation_revoke"
    ),
    path("staff/<int:membership_id>/", views.staff_member_update, name="staff_member_update"),
    path("devices/", views.devices, name="devices"),
    path("devices/<int:device_id>/revoke/", views.device_revoke, name="device_revoke"),
    path("data/", data_views.data, name="data"),
    path("data/export.zip", data_views.data_export, name="data_export"),
    path("data/close/", data_views.data_close_request, name="data_close_request"),
    path("data/close/<int:closure_id>/withdraw/", data_views.data_close_withdraw, name="data_close_withdraw"),
]

# The signed-in person's own pages, across merchants.
account_pages = [
    path("", views.home, name="home"),
    path("account/tokens/", views.api_tokens, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("account/two-step/", sign_in.two_step_page, name="two_step"),
    path("account/two-step/enrol/", sign_in.two_step_enrol, name="two_step_enrol"),
    path("account/two-step/off/", sign_in.two_step_disable, name="two_step_disable"),
    path("account/two-step/recovery-codes/", sign_in.recovery_codes_renew, name="recovery_codes_renew"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

store = "merchants/<int:merchant_id>/stores/<int:store_id>"

api = [
    path("me/", apis.MeApi.as_view(), name="api_me"),
    path("devices/me/", apis.DeviceMeApi.as_view(), name="api_device_me"),
    path("merchants/", apis.MerchantListApi.as_view(), name="api_merchant_list"),
    path("merchants/<int:merchant_id>/", apis.MerchantDetailApi.as_view(), name="api_merchant_detail"),
    path("merchants/<int:merchant_id>/stores/", apis.StoreListApi.as_view(), name="api_store_list"),
    path(f"{store}/", apis.StoreDetailApi.as_view(), name="api_store_detail"),
    path("merchants/<int:merchant_id>/members/", apis.MemberListApi.as_view(), name="api_member_list"),
    path("merchants/<int:merchant_id>/invitations/", apis.InvitationCreateApi.as_view(), name="api_invitation_create"),
    path("merchants/<int:merchant_id>/devices/", apis.DeviceListApi.as_view(), name="api_device_list"),
    path("merchants/<int:merchant_id>/devices/create/", apis.DeviceCreateApi.as_view(), name="api_device_create"),
    path(
        "merchants/<int:merchant_id>/devices/<int:device_id>/revoke/",
        apis.DeviceRevokeApi.as_view(),
        name="api_device_revoke",
    ),
]

urlpatterns = audiences(dashboard=dashboard_pages, api=api, site=account_pages)
