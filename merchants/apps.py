from typing import Any

from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from merchants import rls

        # Row-level security is schema, not domain logic: after every migrate, every table
        # with a merchant_id column gets its policy (idempotent), whichever app added it.
        post_migrate.connect(rls.policies_apply, dispatch_uid="lingshou-rls")
        connection_created.connect(_first_error_install, dispatch_uid="lingshou-first-error")


def _first_error_install(sender: object, connection: Any, **kwargs: Any) -> None:  # noqa: ARG001 - signal signature
    from merchants import tenancy

    # A reconnection of the same wrapper must not stack a second wrapper.
    if tenancy.first_error_record not in connection.execute_wrappers:
        connection.execute_wrappers.append(tenancy.first_error_record)
