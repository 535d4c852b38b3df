import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.seed.accounts import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = (
        "Print the current two-step sign-in code of a demo account whose authenticator key is the demo's "
        "published one (the seeded platform operator); refuses every other account."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ARG002 - BaseCommand.handle's signature
        user = get_user_model().objects.filter(username=options["email"]).first()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() if user else None
        # Only the demo's published key: this must never read out a real person's code.
        if device is None or device.key != DEMO_TOTP_KEY:
            raise CommandError(f"{options['email']} has no demo authenticator (only the seeded demo operator has one).")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        left = device.step - int(totp.time - device.t0) % device.step
        code = f"{totp.token():0{device.digits}d}"
        self.stdout.write(f"{code}  (valid for another {left} s; each code signs in once)")
