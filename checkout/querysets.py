"""Read vocabulary of checkout: which orders wait for payment, are sold, rang up at the counter, ..."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

from checkout.choices import Channel, OrderStatus
from merchants.querysets import TenantQuerySet

if TYPE_CHECKING:
    # Typed by the base model: the models import this module.
    from merchants.models import TenantModel


class OrderQuerySet(TenantQuerySet):
    def pending(self) -> Self:
        """Placed (or rung up) and not paid, cancelled nor expired."""
        return self.filter(status=OrderStatus.PENDING)

    def awaiting_payment(self, now: datetime) -> Self:
        """Pending and still holding their units: the reservation has not run out at ``now``."""
        return self.pending().filter(reserved_until__gt=now)

    def reservation_over(self, now: datetime) -> Self:
        """Pending past their reservation without ever reaching Stripe: what expiry lets go."""
        return self.pending().filter(reserved_until__lt=now, payment_intent="")

    def waiting_for_stripe(self, placed_before: datetime) -> Self:
        """Sent to Stripe (a PaymentIntent) before ``placed_before`` and not booked yet: what reconciliation asks about."""
        return self.filter(status__in=[OrderStatus.PENDING, OrderStatus.EXPIRED], created_at__lt=placed_before).exclude(
            payment_intent=""
        )

    def paid(self) -> Self:
        """Paid and not refunded (in part or in full)."""
        return self.filter(status=OrderStatus.PAID)

    def sold(self) -> Self:
        """Ever paid, whatever happened afterwards (refunds included): what a receipt exists for."""
        return self.filter(paid_at__isnull=False)

    def counter(self) -> Self:
        """Rung up by a clerk at the counter."""
        return self.filter(channel=Channel.COUNTER)

    def of_shift(self, shift: TenantModel) -> Self:
        """The counter sales of one shift."""
        return self.filter(merchant_id=shift.merchant_id, counter_sale__shift=shift)


class CartLineQuerySet(TenantQuerySet):
    def of_visit(self, visit: TenantModel) -> Self:
        """The cart of one visit, within its merchant."""
        return self.filter(merchant_id=visit.merchant_id, visit_id=visit.pk)


class OrderPartQuerySet(TenantQuerySet):
    """Rows that belong to one order: its lines, its exit pass, its counter sale and payment."""

    def of_order(self, order: TenantModel) -> Self:
        """The rows of one order, within its merchant."""
        return self.filter(merchant_id=order.merchant_id, order_id=order.pk)


class ShiftPartQuerySet(OrderPartQuerySet):
    """Counter sales and payments: rows of one order that also belong to one shift."""

    def of_shift(self, shift: TenantModel) -> Self:
        """The rows of one shift, within its merchant."""
        return self.filter(merchant_id=shift.merchant_id, shift_id=shift.pk)


class OrderLineQuerySet(OrderPartQuerySet):
    def held(self, now: datetime) -> Self:
        """Lines of orders that still hold their units at ``now`` (see OrderQuerySet.awaiting_payment)."""
        return self.filter(order__status=OrderStatus.PENDING, order__reserved_until__gt=now)


class ShiftQuerySet(TenantQuerySet):
    def open(self) -> Self:
        """Shifts not closed yet (at most one per store)."""
        return self.filter(closed_at__isnull=True)

    def closed(self) -> Self:
        """Shifts closed with their cash count."""
        return self.filter(closed_at__isnull=False)
