from django.urls import path

from sensing import api

urlpatterns = [
    path("sensing/frames", api.FrameUploadApi.as_view(), name="api_sensing_frames"),
    path("sensing/heartbeat", api.HeartbeatApi.as_view(), name="api_sensing_heartbeat"),
]
