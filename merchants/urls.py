from django.urls import path

from merchants import views

urlpatterns = [
    path("m/<slug:slug>/", views.dashboard, name="dashboard"),
    path("m/<slug:slug>/stores/", views.stores, name="stores"),
    path("m/<slug:slug>/staff/", views.staff, name="staff"),
    path("m/<slug:slug>/staff/invite/", views.staff_invite, name="staff_invite"),
    path(
        "m/<slug:slug>/staff/invitations/<int:invitation_id>/revoke/",
        views.staff_invitation_revoke,
        name="staff_invitation_revoke",
    ),
    path("m/<slug:slug>/staff/<int:membership_id>/", views.staff_member_update, name="staff_member_update"),
    path("m/<slug:slug>/devices/", views.devices, name="devices"),
    path("m/<slug:slug>/devices/<int:device_id>/revoke/", views.device_revoke, name="device_revoke"),
    *[path(f"m/<slug:slug>/{key}/", views.section_view(key), name=f"section_{key}") for key in views.PLANNED],
    path("account/tokens/", views.api_tokens, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
