from typing import Any

from django.core.management.base import BaseCommand

from merchants.demo import PASSWORD, demo_seed, logins


class Command(BaseCommand):
    help = "Seed the demo (wholesaler, merchants, stores, staff) once; later runs change nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_seed():
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        else:
            self.stdout.write("Demo data already there; left as it is.")
        self.stdout.write(f"\nLogins (password for all: {PASSWORD}):")
        for who, email, where in logins():
            self.stdout.write(f"  {who:<32} {email:<34} {where}")
