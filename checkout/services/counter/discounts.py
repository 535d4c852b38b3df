"""Discounts at the counter: on one line or on the whole sale, by an amount or a percentage, always with a reason.

Owners and managers give any discount; a clerk gives up to the limit the owner sets
(``Merchant.clerk_discount_limit``, per cent of what the discount is taken off). The limit is
checked here, where the discount is written, whatever page or client asked for it. Deposits are
never discounted: a discount is taken off the sale lines (products and open-price items) only.

A discount on the whole sale is shared out over its lines (``pricing.sale_discount_shares``), so
each line's tax is on what was really paid for it; it is given last, and the sale's lines stay as
they are while it stands (``sale_lock(changes_lines=True)`` refuses changes), so it is never worth
more of the sale than when it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from checkout.choices import SALE_KINDS
from checkout.errors import CheckoutError
from checkout.models import Order, OrderLine
from checkout.selectors.counter import counter_sale_lines
from checkout.services import pricing
from checkout.services.counter.sales import sale_lock
from core.money import format_amount
from merchants.models import Merchant, Role
from merchants.selectors import membership_get
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_REASON = 200


@dataclass(frozen=True)
class Discount:
    """A discount as the clerk gives it: an amount in minor units, or a percentage in basis points."""

    amount: int | None = None
    percent: int | None = None
    reason: str = ""

    @classmethod
    def of_percent(cls, text: str, reason: str) -> Discount:
        """'10' or '12,5' per cent; CheckoutError for anything else."""
        try:
            value = Decimal(text.strip().replace(",", ".").rstrip("%").strip())
        except InvalidOperation as error:
            raise CheckoutError(
                f"“{text.strip()}” is not a percentage; give a number such as 10 or 12,5.", code="invalid_discount"
            ) from error
        basis_points = value * 100
        if not value.is_finite() or basis_points != basis_points.to_integral_value():
            raise CheckoutError("Give the percentage with at most two decimals.", code="invalid_discount")
        return cls(percent=int(basis_points), reason=reason)


def discount_limit(*, merchant: Merchant, user: User) -> int:
    """The largest discount ``user`` may give at the counter, in per cent: 100 for owners and managers,
    the owner's limit for clerks, 0 for anyone else; scoped."""
    with merchant_context(merchant.pk):
        membership = membership_get(merchant=merchant, user=user)
    if membership is None:
        return 0
    if membership.role in (Role.OWNER, Role.MANAGER):
        return 100
    return int(merchant.clerk_discount_limit)


def _percent_text(basis_points: int) -> str:
    value = Decimal(basis_points) / 100
    return f"{value.normalize():f}".replace(".", ",") + " %"


def _amount_of(discount: Discount, *, base: int, currency: str, limit: int, what: str) -> int:
    """The discount in minor units off ``base``; CheckoutError when it cannot be given (or not by this person)."""
    reason = " ".join(discount.reason.split())
    if not reason:
        raise CheckoutError("Give a reason for the discount (it is kept on the order).", code="invalid_discount")
    if len(reason) > MAX_REASON:
        raise CheckoutError(f"Say why in at most {MAX_REASON} characters.", code="invalid_discount")
    if (discount.amount is None) == (discount.percent is None):
        raise CheckoutError("Give the discount as an amount or as a percentage.", code="invalid_discount")
    if base <= 0:
        raise CheckoutError(f"There is nothing to discount on {what}.", code="invalid_discount")
    if discount.percent is not None:
        if not 0 < discount.percent <= 10000:
            raise CheckoutError("A discount is more than 0 % and at most 100 %.", code="invalid_discount")
        amount = pricing.percent_of(base, discount.percent)
        if amount <= 0:
            raise CheckoutError(
                f"{_percent_text(discount.percent)} of {what} is less than a cent.", code="invalid_discount"
            )
    else:
        amount = discount.amount or 0
        if isinstance(amount, bool) or amount <= 0:
            raise CheckoutError("A discount is more than zero.", code="invalid_discount")
        if amount > base:
            raise CheckoutError(
                f"A discount of {format_amount(amount, currency)} is more than {what} costs "
                f"({format_amount(base, currency)}).",
                code="invalid_discount",
            )
    # A percentage is held to the limit as given (10 % of 4,98 rounds to 0,50, still 10 %); an amount as
    # what it is of the base, compared in whole numbers: amount / base ≤ limit / 100.
    beyond = discount.percent > limit * 100 if discount.percent is not None else amount * 100 > base * limit
    if beyond:
        given = (
            _percent_text(discount.percent)
            if discount.percent is not None
            else f"{format_amount(amount, currency)} ({_percent_text(amount * 10000 // base)})"
        )
        if limit == 0:
            refusal = "You may not give discounts"
        else:
            refusal = f"A discount of {given} on {what} is more than the {limit} % you may give"
        raise CheckoutError(f"{refusal}: ask the owner or a manager.", code="discount_limit")
    return amount


def counter_line_discount(*, order: Order, line_id: int, discount: Discount, given_by: User) -> OrderLine:
    """Take a discount off one sale line, with its reason and who gave it; atomic, scoped, limit checked.

    Replaces a discount the line had. Refuses (CheckoutError, nothing changed) a deposit line, a
    discount without a reason, one above the line's price or above the giver's limit.
    """
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        line = OrderLine.objects.of_order(locked).filter(pk=line_id).first()
        if line is None:
            raise CheckoutError("This line is no longer on the sale.", code="unknown_line")
        if line.kind not in SALE_KINDS:
            raise CheckoutError("Deposits are not discounted.", code="invalid_discount")
        limit = discount_limit(merchant=locked.store.merchant, user=given_by)
        amount = _amount_of(
            discount,
            base=line.gross_total,
            currency=locked.currency,
            limit=limit,
            what=f"{line.quantity} × {line.name}",
        )
        line.discount = amount
        line.discount_percent = discount.percent
        line.discount_reason = " ".join(discount.reason.split())
        line.discount_by = given_by
        pricing.line_price(line, prices_include_tax=locked.prices_include_tax)
        line.save(
            update_fields=[
                "discount",
                "discount_percent",
                "discount_reason",
                "discount_by",
                "line_total",
                "tax_amount",
            ]
        )
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))
    return line


def counter_line_discount_remove(*, order: Order, line_id: int) -> OrderLine:
    """Give the line its full price back; atomic, scoped."""
    with merchant_context(order.merchant_id):
        locked = sale_lock(order, changes_lines=True)
        line = OrderLine.objects.of_order(locked).filter(pk=line_id).first()
        if line is None:
            raise CheckoutError("This line is no longer on the sale.", code="unknown_line")
        line.discount = 0
        line.discount_percent = None
        line.discount_reason = ""
        line.discount_by = None
        pricing.line_price(line, prices_include_tax=locked.prices_include_tax)
        line.save(
            update_fields=["discount", "discount_percent", "discount_reason", "discount_by", "line_total", "tax_amount"]
        )
        pricing.order_totals_write(order=locked, lines=counter_sale_lines(order=locked))
    return line


def _shares_write(locked: Order, lines: list[OrderLine], amount: int) -> None:
    shares = pricing.sale_discount_shares(lines, amount)
    changed = []
    for position, line in enumerate(lines):
        share = shares.get(position, 0)
        if share != line.sale_discount:
            line.sale_discount = share
            pricing.line_price(line, prices_include_tax=locked.prices_include_tax)
            changed.append(line)
    if changed:
        OrderLine.objects.bulk_update(changed, ["sale_discount", "line_total", "tax_amount"])


def counter_sale_discount(*, order: Order, discount: Discount, given_by: User) -> Order:
    """Take a discount off the whole sale (its products and open-price items), shared out over its lines.

    Atomic, scoped, limit checked; replaces a sale discount given before. Refuses (CheckoutError,
    nothing changed) a discount without a reason, above what the sale's goods cost, or above the limit.
    """
    with merchant_context(order.merchant_id):
        locked = sale_lock(order)
        lines = counter_sale_lines(order=locked)
        limit = discount_limit(merchant=locked.store.merchant, user=given_by)
        amount = _amount_of(
            discount,
            base=pricing.sale_discount_base(lines),
            currency=locked.currency,
            limit=limit,
            what="this sale",
        )
        _shares_write(locked, lines, amount)
        locked.sale_discount = amount
        locked.sale_discount_percent = discount.percent
        locked.sale_discount_reason = " ".join(discount.reason.split())
        locked.sale_discount_by = given_by
        locked.save(
            update_fields=["sale_discount", "sale_discount_percent", "sale_discount_reason", "sale_discount_by"]
        )
        pricing.order_totals_write(order=locked, lines=lines)
    return locked


def counter_sale_discount_remove(*, order: Order) -> Order:
    """Take the discount off the whole sale: every line back at its price; atomic, scoped."""
    with merchant_context(order.merchant_id):
        locked = sale_lock(order)
        lines = counter_sale_lines(order=locked)
        _shares_write(locked, lines, 0)
        locked.sale_discount = 0
        locked.sale_discount_percent = None
        locked.sale_discount_reason = ""
        locked.sale_discount_by = None
        locked.save(
            update_fields=["sale_discount", "sale_discount_percent", "sale_discount_reason", "sale_discount_by"]
        )
        pricing.order_totals_write(order=locked, lines=lines)
    return locked
