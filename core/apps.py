from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: web plumbing and money that every app stands on; it knows no app above it."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"
