from django.urls import path

from sensing import api

store = "merchants/<int:merchant_id>/stores/<int:store_id>"

urlpatterns = [
    path("sensing/frames", api.FrameUploadApi.as_view(), name="api_sensing_frames"),
    path("sensing/heartbeat", api.HeartbeatApi.as_view(), name="api_sensing_heartbeat"),
    path(f"{store}/sensing/events/", api.ShelfEventListApi.as_view(), name="api_sensing_events"),
    path(f"{store}/sensing/alerts/", api.AlertListApi.as_view(), name="api_sensing_alerts"),
]
