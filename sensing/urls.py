from django.urls import path

from sensing import views

urlpatterns = [
    path("m/<slug:slug>/cameras/", views.cameras, name="cameras"),
    path("m/<slug:slug>/cameras/events/", views.events, name="camera_events"),
    path("m/<slug:slug>/cameras/review/", views.review, name="camera_review"),
    path("m/<slug:slug>/cameras/alerts/", views.alerts, name="camera_alerts"),
    path("m/<slug:slug>/cameras/events/<int:event_id>/review/", views.event_review, name="camera_event_review"),
    path("m/<slug:slug>/cameras/events/<int:event_id>/<str:which>.jpg", views.event_crop, name="camera_event_crop"),
    path("m/<slug:slug>/cameras/frames/<int:frame_id>.jpg", views.frame_picture, name="camera_frame_picture"),
    path("m/<slug:slug>/cameras/<int:camera_id>/", views.camera_detail, name="camera_detail"),
    path("m/<slug:slug>/cameras/<int:camera_id>/settings/", views.camera_settings, name="camera_settings"),
    path("m/<slug:slug>/cameras/<int:camera_id>/calibrate/", views.camera_calibrate, name="camera_calibrate"),
    path("m/<slug:slug>/cameras/<int:camera_id>/reference.jpg", views.camera_reference, name="camera_reference"),
]
