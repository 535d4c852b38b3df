from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from merchants.demo import PASSWORD, logins


class Command(BaseCommand):
    help = "Seed the demo once (people and shops, then each capability's data); later runs change nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        # Each app seeds its own part (settings.DEMO_SEEDERS, in dependency order) and skips
        # what is already there, so what the owner changed since is never seeded over.
        with transaction.atomic():
            for dotted in settings.DEMO_SEEDERS:
                created = import_string(dotted)()
                label = dotted.rsplit(".", 2)[0]
                self.stdout.write(f"{label}: {'created' if created else 'already there, left as it is'}")
        self.stdout.write(f"\nLogins (password for all: {PASSWORD}):")
        for who, email, where in logins():
            self.stdout.write(f"  {who:<32} {email:<34} {where}")
