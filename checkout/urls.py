from django.urls import path

from checkout import views

urlpatterns = [
    path("s/<str:code>/", views.store_landing, name="store_landing"),
]
