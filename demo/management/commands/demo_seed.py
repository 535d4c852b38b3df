from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from demo.seed import accounts, cameras, catalog, restock, rollups, sales

# What the demo seeds, in dependency order (label as printed, seeder); each seeds its part once.
# Sales come before restocking: the first suggested order and the planned promotion read them.
SEEDERS: list[tuple[str, Callable[[], bool]]] = [
    ("merchants", accounts.demo_seed),
    ("catalog", catalog.demo_seed),
    ("sensing", cameras.demo_seed),
    ("sales", sales.sales_seed),
    ("counter goods", catalog.counter_goods_seed),
    ("ordering", restock.demo_seed),
    # Last: the rollups read every sale, refund, lookup and stock-out seeded before.
    ("analytics", rollups.demo_seed),
]


class Command(BaseCommand):
    help = "Seed the demo once (people and shops, then each capability's data); later runs change nothing."

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ARG002 - BaseCommand.handle's signature
        # Each part skips what is already there, so what the owner changed since is never seeded over.
        with transaction.atomic():
            for label, seed in SEEDERS:
                created = seed()
                self.stdout.write(f"{label}: {'created' if created else 'already there, left as it is'}")
        self.stdout.write(f"\nLogins (password for all: {accounts.PASSWORD}):")
        for who, email, where in accounts.logins():
            self.stdout.write(f"  {who:<32} {email:<34} {where}")
        self.stdout.write(
            f"\nThe platform operator also types a code after the password: run `manage.py totp_code "
            f"{accounts.PLATFORM_ADMIN}`, or add the key {accounts.demo_totp_secret()} to an authenticator app."
        )
