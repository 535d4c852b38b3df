from django.apps import AppConfig


class SensingConfig(AppConfig):
    name = "sensing"
    default_auto_field = "django.db.models.BigAutoField"
