from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from merchants import rls

        # Row-level security is schema, not domain logic: after every migrate, every table
        # with a merchant_id column gets its policy (idempotent), whichever app added it.
        post_migrate.connect(rls.policies_apply, dispatch_uid="lingshou-rls")
