from django.urls import path

from checkout import api

urlpatterns = [
    path("devices/exit-passes/check/", api.ExitPassCheckApi.as_view(), name="api_exit_pass_check"),
    path("devices/exit-passes/used/", api.ExitPassUsedApi.as_view(), name="api_exit_pass_used"),
    path("exit-passes/public-key/", api.ExitPassKeyApi.as_view(), name="api_exit_pass_key"),
]
