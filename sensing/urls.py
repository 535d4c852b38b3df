"""Sensing's pages: cameras, their slot maps, events, review queue and alerts in the dashboard; the camera
agent's frame and heartbeat API and the events and alerts API."""

from django.urls import path

from core.urls import audiences
from sensing import api as apis
from sensing import views

app_name = "sensing"

dashboard_pages = [
    path("cameras/", views.cameras, name="cameras"),
    path("cameras/events/", views.events, name="camera_events"),
    path("cameras/review/", views.review, name="camera_review"),
    path("cameras/review/decide/", views.events_review, name="camera_events_review"),
    path("cameras/alerts/", views.alerts, name="camera_alerts"),
    path("cameras/events/<int:event_id>/review/", views.event_review, name="camera_event_review"),
    path("cameras/events/<int:event_id>/<str:which>.jpg", views.event_crop, name="camera_event_crop"),
    path("cameras/frames/<int:frame_id>.jpg", views.frame_picture, name="camera_frame_picture"),
    path("cameras/<int:camera_id>/", views.camera_detail, name="camera_detail"),
    path("cameras/<int:camera_id>/settings/", views.camera_settings, name="camera_settings"),
    path("cameras/<int:camera_id>/calibrate/", views.camera_calibrate, name="camera_calibrate"),
    path("cameras/<int:camera_id>/reference.jpg", views.camera_reference, name="camera_reference"),
]

store = "merchants/<int:merchant_id>/stores/<int:store_id>"

api = [
    path("sensing/frames", apis.FrameUploadApi.as_view(), name="api_sensing_frames"),
    path("sensing/heartbeat", apis.HeartbeatApi.as_view(), name="api_sensing_heartbeat"),
    path(f"{store}/sensing/events/", apis.ShelfEventListApi.as_view(), name="api_sensing_events"),
    path(f"{store}/sensing/alerts/", apis.AlertListApi.as_view(), name="api_sensing_alerts"),
]

urlpatterns = audiences(dashboard=dashboard_pages, api=api)
