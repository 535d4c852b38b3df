from typing import Any

from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from merchants import rls, sign_in
        from merchants.admin_sealing import platform_only_seal

        # Row-level security is schema, not domain logic: after every migrate, every table
        # with a merchant_id column gets its policy (idempotent), whichever app added it.
        post_migrate.connect(rls.policies_apply, dispatch_uid="lingshou-rls")
        # The admin has discovered every app's admin by now (it is the first installed app): any admin
        # that is not sealed to a wholesaler, a library's included, becomes the platform operator's.
        platform_only_seal(admin.site)
        # Session bookkeeping, not domain logic: every way of signing in (the sign-in page, an accepted
        # invitation, a test's force_login) records which second step the new session owes.
        user_logged_in.connect(sign_in.session_two_step_receive, dispatch_uid="lingshou-two-step")
        connection_created.connect(_first_error_install, dispatch_uid="lingshou-first-error")


def _first_error_install(sender: object, connection: Any, **kwargs: Any) -> None:  # noqa: ARG001 - signal signature
    from merchants import tenancy

    # A reconnection of the same wrapper must not stack a second wrapper.
    if tenancy.first_error_record not in connection.execute_wrappers:
        connection.execute_wrappers.append(tenancy.first_error_record)
