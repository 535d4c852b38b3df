import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from checkout.gateway import GatewayError
from demo.seed.stripe_objects import RECENT_ORDERS, stripe_objects_ensure


class Command(BaseCommand):
    help = (
        f"Back the newest {RECENT_ORDERS} seeded phone orders of each demo store with PaymentIntents at "
        "localstripe, so that they can be refunded; those already there are left alone."
    )

    def handle(self, *args: Any, **options: Any) -> None:  # noqa: ARG002 - BaseCommand.handle's signature
        # Sixty orders are a few hundred Stripe calls: the demo's output says what was done, not each call.
        logging.getLogger("stripe").setLevel(logging.WARNING)
        try:
            made = stripe_objects_ensure()
        except GatewayError as error:
            raise CommandError(f"localstripe: {error.message}") from error
        if made:
            orders = "order now has its" if made == 1 else "orders now have their"
            self.stdout.write(f"stripe: {made} seeded {orders} payment at localstripe")
