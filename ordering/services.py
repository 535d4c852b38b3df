"""Writes of the ordering app: suggested orders, their life from draft to received, claims.

Every state change is a compare-and-swap (``UPDATE … WHERE state = <the state we checked>``) in
the same transaction as its side rows, and is kept as a transition (who, when, from, to, note).
A second click, a redelivered task or the wholesaler acting at the same moment finds the state
moved on and changes nothing. E-mails are queued after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format

from catalog.models import Category, MovementKind, Product, StoreProduct
from catalog.services.assortment import assortment_add
from catalog.services.stock import Move, stock_moves
from core.money import format_amount
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context
from ordering import forecasting, selectors
from ordering.models import (
    Claim,
    ClaimLine,
    DepotStock,
    OrderState,
    Promotion,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderTransition,
    StoreSupply,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CANCELLABLE_BY_SHOP = (OrderState.DRAFT, OrderState.SUBMITTED)
CANCELLABLE_BY_WHOLESALER = (OrderState.DRAFT, OrderState.SUBMITTED, OrderState.CONFIRMED, OrderState.PICKING)
EDITABLE = (OrderState.DRAFT, OrderState.SUBMITTED)
RECEIVABLE = (OrderState.SHIPPED, OrderState.DELIVERED)

logger = logging.getLogger("lingshou.ordering")


class OrderError(ValidationError):
    """An order change that was refused; nothing was written."""


@dataclass
class DraftOutcome:
    """What drafting did: the draft (new or kept), and what to tell the owner."""

    order: PurchaseOrder | None
    is_new: bool
    message: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SuggestedLine:
    item: StoreProduct
    quantity: int
    explanation: str

    @property
    def product(self) -> Product:
        return cast(Product, self.item.product)


def _zone(store: Store) -> ZoneInfo:
    return ZoneInfo(store.timezone)


def _merchant_id(merchant: Merchant | int) -> int:
    return merchant if isinstance(merchant, int) else merchant.pk


def _day(value: dt.date) -> str:
    return date_format(value, "l j F")


def _money(amount: int, currency: str) -> str:
    return format_amount(amount, currency, locale="en_IE")


def _order_create(**fields: object) -> PurchaseOrder:
    """A new order whose number is its id (taken from the sequence first, so both are set at once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('ordering_purchaseorder', 'id'))")
        order_id = int(cursor.fetchone()[0])
    return PurchaseOrder.objects.create(pk=order_id, number=f"PO-{order_id:06d}", **fields)


def _record(order: PurchaseOrder, *, from_state: str, to_state: str, by: User | None, note: str = "") -> None:
    PurchaseOrderTransition.objects.create(
        merchant_id=order.merchant_id, order=order, from_state=from_state, to_state=to_state, by=by, note=note[:300]
    )


def _move(order: PurchaseOrder, *, to: str, by: User | None, note: str = "", **fields: object) -> PurchaseOrder:
    """Compare-and-swap the order from the state it was read in to ``to``; refuse if it moved meanwhile."""
    changed = PurchaseOrder.objects.filter(merchant_id=order.merchant_id, pk=order.pk, state=order.state).update(
        state=to, **fields
    )
    if not changed:
        current = PurchaseOrder.objects.filter(pk=order.pk).values_list("state", flat=True).first()
        raise OrderError(
            f"Order {order.number} is {OrderState(current).label.lower() if current else 'gone'} now; nothing changed.",
            code="state_changed",
        )
    _record(order, from_state=order.state, to_state=to, by=by, note=note)
    order.state = to
    for name, value in fields.items():
        setattr(order, name, value)
    return order


def _order_locked(merchant_id: int, order_id: int) -> PurchaseOrder:
    order = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("store", "depot")
        .filter(merchant_id=merchant_id, pk=order_id)
        .first()
    )
    if order is None:
        raise OrderError("No such order.", code="not_found")
    return order


def _mail_after_commit(event: str, order: PurchaseOrder) -> None:
    from ordering.tasks import purchase_order_mail

    merchant_id, order_id = order.merchant_id, order.pk
    transaction.on_commit(lambda: purchase_order_mail.delay(merchant_id, order_id, event))


# Drafting --------------------------------------------------------------------------------------


def _promotion_phrase(promotion: Promotion, today: dt.date) -> str:
    """ "promotion Thursday to Sunday, about 2× the usual" (dates beyond a week are written out)."""

    # Weekday names while the whole promotion lies within the coming week, dates otherwise.
    near = (promotion.ends_on - today).days < 7

    def day(value: dt.date) -> str:
        return value.strftime("%A") if near else f"{value.day} {value:%b}"

    start = "from today" if promotion.starts_on <= today else day(promotion.starts_on)
    return f"promotion {start} to {day(promotion.ends_on)}, about {float(promotion.expected_lift):g}× the usual"


def _suggest(
    *,
    supply: StoreSupply,
    delivery: selectors.Delivery,
    history: selectors.History,
    today: dt.date,
    chain: list[selectors.History] | None = None,
) -> tuple[list[SuggestedLine], list[str]]:
    """Run the forecast and the policy over the store's products; one dict per line to order.

    ``chain`` holds the same products' histories in the merchant's other stores: forecast together
    (this store's rows first), a promotion or a launch seen across the chain lifts this store's
    forecast at once, and the chain's promotion weeks are read from all of them.
    """
    items = history.items
    products = [cast(Product, item.product) for item in items]
    lead = max((delivery.date - today).days, 0)
    review = max(delivery.days_to_following, 1)
    categories = {category_id: k for k, category_id in enumerate(sorted({p.category_id or 0 for p in products}))}
    category_of = {p.pk: categories[p.category_id or 0] for p in products}
    pooled = [history, *(other for other in chain or [] if other.first_day == history.first_day)]
    rows = [item for part in pooled for item in part.items]
    # Promotions the wholesaler has planned: the forecast day j is today + j.
    horizon = lead + review
    planned = np.ones((len(rows), horizon))
    promotion_of: dict[int, str] = {}
    promotions = selectors.promotions_planned(
        wholesaler_id=supply.depot.wholesaler_id,
        products={cast(int, item.product_id) for item in items},
        first_day=today,
        days=horizon,
    )
    for promotion in promotions:
        on_days = [
            j for j in range(horizon) if promotion.starts_on <= today + dt.timedelta(days=j) <= promotion.ends_on
        ]
        of_product = [k for k, item in enumerate(rows) if item.product_id == promotion.product_id]
        planned[np.ix_(of_product, on_days)] = np.maximum(
            planned[np.ix_(of_product, on_days)], float(promotion.expected_lift)
        )
        promotion_of.setdefault(promotion.product_id, _promotion_phrase(promotion, today))
    forecast = forecasting.demand_forecast(
        np.concatenate([part.sales for part in pooled]),
        np.concatenate([part.censored for part in pooled]),
        first_weekday=history.first_day.weekday(),
        category=np.array([category_of[cast(int, item.product_id)] for item in rows], dtype=int),
        # One store alone has no chain to pool: its own sales make its level, nothing more.
        product=np.array([item.product_id for item in rows], dtype=int) if len(pooled) > 1 else None,
        store=np.concatenate([np.full(len(part.items), k) for k, part in enumerate(pooled)]).astype(int),
        horizon=horizon,
        planned_lift=planned,
    )
    own = len(items)
    chain_lift = forecast.lift[:own] if forecast.lift is not None and len(pooled) > 1 else np.ones(own)
    forecast = forecasting.Forecast(
        mean=forecast.mean[:own],
        sigma=forecast.sigma[:own],
        method=forecast.method,
        promotion_week_start=forecast.promotion_week_start,
    )
    coming = selectors.on_order(merchant=supply.merchant_id, store=supply.store)
    on_hand = np.array([max(item.on_hand, 0) for item in items], dtype=np.float64)
    ordered = np.array([coming.get(item.pk, 0) for item in items], dtype=np.float64)
    case_pack = np.array([p.case_pack for p in products], dtype=np.float64)
    unit_cost = np.array([p.wholesale_cost for p in products], dtype=np.float64)
    levels = np.array([supply.service_level_for(p.category.path if p.category else "") for p in products])
    capacity = np.array([np.nan if item.shelf_capacity is None else item.shelf_capacity for item in items])
    suggestion = forecasting.order_suggest(
        forecast,
        on_hand=on_hand,
        on_order=ordered,
        case_pack=case_pack,
        lead_time_days=lead,
        days_to_next_delivery=review,
        service_level=levels,
        shelf_capacity=capacity,
        unit_cost=unit_cost,
    )
    currency = supply.depot.wholesaler.currency
    suggestion, notes = forecasting.order_value_adjust(
        suggestion,
        unit_cost=unit_cost,
        case_pack=case_pack,
        minimum_order_value=supply.minimum_order_value,
        free_delivery_threshold=supply.free_delivery_threshold or None,
        on_hand=on_hand,
        on_order=ordered,
        shelf_capacity=capacity,
        money=lambda value: _money(round(value), currency),
    )
    capped = suggestion.capped if suggestion.capped is not None else np.zeros(len(items), dtype=bool)
    lines = []
    for i, item in enumerate(items):
        quantity = round(float(suggestion.quantity[i]))
        if quantity <= 0:
            continue
        explanation = forecasting.line_explain(
            daily_demand=float(suggestion.daily_demand[i]),
            on_hand=int(on_hand[i]),
            on_order=int(ordered[i]),
            next_delivery=delivery.date,
            quantity=quantity,
            case_pack=int(case_pack[i]),
            capped=bool(capped[i]),
            shelf_capacity=None if np.isnan(capacity[i]) else float(capacity[i]),
            chain_lift=float(chain_lift[i]),
            promotion=promotion_of.get(cast(int, item.product_id), ""),
        )
        lines.append(SuggestedLine(item=item, quantity=quantity, explanation=explanation[:300]))
    return lines, [str(note) for note in notes]


def purchase_order_draft(
    *, store: Store, now: dt.datetime | None = None, created_by: User | None = None
) -> DraftOutcome:
    """Draft the store's suggested order for its next delivery; atomic, one draft per store and date.

    An untouched earlier draft is replaced; a draft someone edited is kept as it is. The store's
    supply row is locked first, so the nightly job and the button cannot draft twice at once.
    """
    now = now or timezone.now()
    with merchant_context(store.merchant_id):
        supply = (
            StoreSupply.objects.select_for_update(of=("self",))
            .select_related("depot", "store")
            .filter(merchant_id=store.merchant_id, store=store)
            .first()
        )
        if supply is None:
            raise OrderError(f"{store.name} has no supplying depot yet: your wholesaler sets it up.", code="no_supply")
        delivery = selectors.delivery_next(supply=supply, now=now)
        kept = (
            PurchaseOrder.objects.filter(
                merchant_id=store.merchant_id, store=store, state=OrderState.DRAFT, is_edited=True
            )
            .order_by("delivery_date")
            .first()
        )
        if kept is not None and kept.delivery_date >= delivery.date:
            return DraftOutcome(
                order=kept,
                is_new=False,
                message=f"Your edited draft {kept.number} is kept as it is; submit it, or cancel it to get a new suggestion.",
            )
        today = timezone.localtime(now, timezone=_zone(store)).date()
        carried = set(DepotStock.objects.filter(depot=supply.depot).values_list("product_id", flat=True))
        items = [
            item
            for item in StoreProduct.objects.filter(
                merchant_id=store.merchant_id, store=store, is_active=True, product__isnull=False
            )
            .select_related("product__category")
            .order_by("pk")
            if item.product_id in carried
        ]
        history = selectors.demand_history(store=store, items=items, today=today)
        notes: list[str] = []
        lines: list[SuggestedLine] = []
        if not history.has_sales:
            notes.append(
                "No sales are recorded for this store in the last 26 weeks, so there is nothing to forecast yet. "
                "Add what you need by hand."
            )
        else:
            chain = selectors.chain_histories(store=store, items=items, today=today)
            lines, notes = _suggest(supply=supply, delivery=delivery, history=history, today=today, chain=chain)
        # Replace untouched drafts (their lines and history go with them).
        PurchaseOrder.objects.filter(
            merchant_id=store.merchant_id, store=store, state=OrderState.DRAFT, is_edited=False
        ).delete()
        order = _order_create(
            merchant_id=store.merchant_id,
            store=store,
            depot=supply.depot,
            delivery_date=delivery.date,
            currency=supply.depot.wholesaler.currency,
            notes=notes,
            is_auto=True,
            created_by=created_by,
        )
        PurchaseOrderLine.objects.bulk_create(
            PurchaseOrderLine(
                merchant_id=store.merchant_id,
                order=order,
                store_product=line.item,
                product=line.product,
                case_pack=line.product.case_pack,
                unit_cost=line.product.wholesale_cost,
                suggested_quantity=line.quantity,
                quantity=line.quantity,
                explanation=line.explanation,
            )
            for line in lines
        )
        _record(order, from_state="", to_state=OrderState.DRAFT, by=created_by, note="Suggested by Lingshou")
        if created_by is None:
            # Drafted by the nightly job: tell the owner. A person who pressed the button is looking at it.
            _mail_after_commit("ready", order)
    deadline = timezone.localtime(delivery.deadline, timezone=_zone(store))
    message = (
        f"Suggested order {order.number} for delivery on {_day(delivery.date)}: {len(lines)} "
        f"line{'s' if len(lines) != 1 else ''}. Submit by {deadline:%H:%M} on {_day(deadline.date())}."
    )
    return DraftOutcome(order=order, is_new=True, message=message, notes=notes)


# Editing ---------------------------------------------------------------------------------------


def _editable(order: PurchaseOrder) -> None:
    if order.state not in EDITABLE:
        raise OrderError(
            f"Order {order.number} is {order.get_state_display().lower()}: the wholesaler has taken it on, so it "
            "can no longer be changed here. Note differences when you receive it.",
            code="not_editable",
        )


def _whole_cases(product: Product, quantity: int) -> None:
    if quantity < 0:
        raise OrderError("A quantity cannot be negative.", code="negative_quantity")
    if quantity % product.case_pack:
        lower = quantity // product.case_pack * product.case_pack
        upper = lower + product.case_pack
        choices = f"{lower} or {upper}" if lower else f"{upper}"
        raise OrderError(
            f"{product.name} comes in cases of {product.case_pack}: {quantity} is not whole cases ({choices}).",
            code="not_whole_cases",
        )


def _carried(order: PurchaseOrder, product: Product) -> None:
    if not DepotStock.objects.filter(depot_id=order.depot_id, product=product).exists():
        raise OrderError(f"{order.depot.name} does not carry {product.name}.", code="not_carried")


def purchase_order_line_set(
    *, merchant: Merchant | int, order_id: int, line_id: int, quantity: int, by: User | None = None
) -> PurchaseOrderLine | None:
    """Set a line's units (whole cases; 0 removes it) on a draft or submitted order; atomic."""
    return _line_change(_merchant_id(merchant), order_id, line_id, lambda line: quantity, by=by)


MAX_CASE_STEP = 100  # cases one step may add or take off


def purchase_order_line_step(
    *, merchant: Merchant | int, order_id: int, line_id: int, cases: int, by: User | None = None
) -> PurchaseOrderLine | None:
    """Add (negative: take off) whole cases on a line, read and written under the order's lock so
    that two people stepping the same line both count; the last case off removes it; atomic."""
    if not cases or abs(cases) > MAX_CASE_STEP:
        raise OrderError(f"Change a line by 1 to {MAX_CASE_STEP} cases at a time.", code="bad_step")
    return _line_change(
        _merchant_id(merchant),
        order_id,
        line_id,
        lambda line: max(line.quantity + cases * line.product.case_pack, 0),
        by=by,
    )


def _line_change(
    merchant_id: int,
    order_id: int,
    line_id: int,
    quantity_of: Callable[[PurchaseOrderLine], int],
    *,
    by: User | None,
) -> PurchaseOrderLine | None:
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        _editable(order)
        line = (
            PurchaseOrderLine.objects.select_related("product")
            .filter(merchant_id=merchant_id, order=order, pk=line_id)
            .first()
        )
        if line is None:
            raise OrderError("No such line on this order.", code="not_found")
        quantity = quantity_of(line)
        _whole_cases(line.product, quantity)  # type: ignore[arg-type]
        if not order.is_edited:
            PurchaseOrder.objects.filter(pk=order.pk).update(is_edited=True)
        _line_history(order, label=str(line.product), before=line.quantity, after=quantity, by=by)
        if quantity == 0:
            line.delete()
            return None
        line.quantity = quantity
        line.save(update_fields=["quantity"])
        return line


_RUN_START = (
    (re.compile(r"added, \d+ units"), lambda match: None),
    (re.compile(r"(\d+) → \d+ units"), lambda match: int(match[1])),
    (re.compile(r"removed \(was (\d+) units\)"), lambda match: int(match[1])),
)


def _line_note(label: str, before: int | None, after: int) -> str:
    if before is None:
        return f"{label}: added, {after} units"
    if after == 0:
        return f"{label}: removed (was {before} units)"
    return f"{label}: {before} → {after} units"


def _line_history(order: PurchaseOrder, *, label: str, before: int | None, after: int, by: User | None) -> None:
    """Keep a change to one line in the order's history, with who made it.

    A submitted order gets an entry per change: the wholesaler may already be reading it. In a
    draft, one person's run of changes to the same line is one entry that runs from where the run
    started, so a review of many clicks reads "24 → 60 units", not one case at a time; a run that
    ends where it started leaves no entry.
    """
    if before == after:
        return
    if order.state == OrderState.DRAFT:
        last = order.transitions.order_by("-at", "-pk").first()
        prefix = f"{label}: "
        if (
            last is not None
            and last.from_state == last.to_state == OrderState.DRAFT
            and last.by_id == (by.pk if by else None)
            and last.note.startswith(prefix)
        ):
            for pattern, start in _RUN_START:
                match = pattern.fullmatch(last.note[len(prefix) :])
                if match:
                    before = start(match)
                    if before == after or (before is None and after == 0):
                        last.delete()
                    else:
                        last.note = _line_note(label, before, after)[:300]
                        last.at = timezone.now()
                        last.save(update_fields=["note", "at"])
                    return
    _record(order, from_state=order.state, to_state=order.state, by=by, note=_line_note(label, before, after))


def purchase_order_line_add(
    *,
    merchant: Merchant | int,
    order_id: int,
    store_product_id: int,
    quantity: int,
    by: User | None = None,
) -> PurchaseOrderLine:
    """Add a store product to a draft or submitted order (or set its quantity); atomic, validated."""
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        _editable(order)
        item = (
            StoreProduct.objects.select_related("product")
            .filter(merchant_id=merchant_id, store_id=order.store_id, pk=store_product_id)
            .first()
        )
        if item is None:
            raise OrderError("This store does not sell that product.", code="not_found")
        if item.product is None:
            raise OrderError(f"{item.name} is your own product: the wholesaler cannot deliver it.", code="not_carried")
        _carried(order, item.product)
        if quantity <= 0:
            raise OrderError("Order at least one case.", code="zero_quantity")
        _whole_cases(item.product, quantity)
        before = (
            PurchaseOrderLine.objects.filter(merchant_id=merchant_id, order=order, product=item.product)
            .values_list("quantity", flat=True)
            .first()
        )
        line, _ = PurchaseOrderLine.objects.update_or_create(
            merchant_id=merchant_id,
            order=order,
            product=item.product,
            defaults={
                "store_product": item,
                "quantity": quantity,
                "case_pack": item.product.case_pack,
                "unit_cost": item.product.wholesale_cost,
            },
        )
        PurchaseOrder.objects.filter(pk=order.pk).update(is_edited=True)
        _line_history(order, label=str(item.product), before=before, after=quantity, by=by)
        return line


# Life of an order ------------------------------------------------------------------------------


def order_value(order: PurchaseOrder) -> int:
    """What the order's lines cost at the wholesale prices they were ordered at."""
    return sum(line.quantity * line.unit_cost for line in order.lines.all())


def purchase_order_submit(
    *, merchant: Merchant | int, order_id: int, by: User | None, now: dt.datetime | None = None, note: str = ""
) -> tuple[PurchaseOrder, str]:
    """Send a draft to the wholesaler; atomic, CAS. After the cut-off it moves to the next delivery and says so."""
    merchant_id = _merchant_id(merchant)
    now = now or timezone.now()
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        if order.state != OrderState.DRAFT:
            raise OrderError(f"Order {order.number} is already {order.get_state_display().lower()}.", code="not_draft")
        lines = list(order.lines.select_related("product"))
        if not lines:
            raise OrderError("The order has no lines: add products before submitting.", code="empty")
        supply = selectors.supply_get(merchant=merchant_id, store=order.store)
        if supply is None:
            raise OrderError(f"{order.store.name} has no supplying depot any more.", code="no_supply")
        for line in lines:
            _whole_cases(line.product, line.quantity)  # type: ignore[arg-type]
        carried = set(
            DepotStock.objects.filter(
                depot=supply.depot, product_id__in=[line.product_id for line in lines]
            ).values_list("product_id", flat=True)
        )
        missing = [line.product.name for line in lines if line.product_id not in carried]  # type: ignore[union-attr]
        if missing:
            raise OrderError(
                f"{supply.depot.name} does not carry {', '.join(missing)}: remove "
                f"{'it' if len(missing) == 1 else 'them'} first.",
                code="not_carried",
            )
        total = sum(line.quantity * line.unit_cost for line in lines)
        if supply.minimum_order_value and total < supply.minimum_order_value:
            raise OrderError(
                f"The order is worth {_money(total, order.currency)}; the wholesaler delivers from "
                f"{_money(supply.minimum_order_value, order.currency)}. Add more before submitting.",
                code="below_minimum",
            )
        message = f"Order {order.number} is submitted for delivery on {_day(order.delivery_date)}."
        fields: dict[str, object] = {"submitted_at": now}
        deadline = selectors.order_deadline(supply=supply, delivery_date=order.delivery_date)
        if now >= deadline:
            moved = selectors.delivery_next(supply=supply, now=now)
            local = timezone.localtime(deadline, timezone=_zone(order.store))
            message = (
                f"Orders for {_day(order.delivery_date)} closed at {local:%H:%M} on {_day(local.date())}: "
                f"order {order.number} moved to the next delivery, {_day(moved.date)}."
            )
            fields["delivery_date"] = moved.date
            note = (note + " " + message).strip()
        _move(order, to=OrderState.SUBMITTED, by=by, note=note, **fields)
        _mail_after_commit("submitted", order)
    return order, message


def purchase_order_confirm(
    *,
    merchant: Merchant | int,
    order_id: int,
    by: User | None,
    allocations: Mapping[int, int] | None = None,
    backorder_short: bool = True,
) -> PurchaseOrder:
    """The wholesaler accepts the order and allocates depot stock per line; short lines are backordered or cancelled.

    ``allocations`` (line id → units) lowers what a line gets; it never exceeds what was ordered or
    what the depot has free. Depot rows are locked in product order, so confirmations cannot deadlock.
    """
    merchant_id = _merchant_id(merchant)
    allocations = allocations or {}
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        if order.state != OrderState.SUBMITTED:
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}: only submitted orders are confirmed.",
                code="not_submitted",
            )
        lines = list(order.lines.select_related("product", "substitute").order_by("pk"))
        wanted_products = sorted({line.shipped_product.pk for line in lines})
        stock = {
            row.product_id: row
            for row in DepotStock.objects.select_for_update()
            .filter(depot_id=order.depot_id, product_id__in=wanted_products)
            .order_by("product_id")
        }
        short = []
        for line in lines:
            row = stock.get(line.shipped_product.pk)
            wanted = line.quantity
            if line.pk in allocations:
                wanted = allocations[line.pk]
                if not 0 <= wanted <= line.quantity:
                    raise OrderError(
                        f"{line.product}: allocate between 0 and the {line.quantity} ordered.", code="bad_allocation"
                    )
            elif line.allocated_quantity is not None:
                wanted = min(line.allocated_quantity, line.quantity)
            free = row.allocatable if row else 0
            allocated = min(wanted, free)
            if allocated < wanted and line.case_pack > 1 and line.substitute_id is None:
                allocated -= allocated % line.case_pack  # the depot ships whole cases
            if row and allocated:
                DepotStock.objects.filter(pk=row.pk).update(allocated=F("allocated") + allocated)
                row.allocated += allocated
            missing = line.quantity - allocated
            line.allocated_quantity = allocated
            line.backordered_quantity = missing if backorder_short else 0
            line.save(update_fields=["allocated_quantity", "backordered_quantity"])
            if missing:
                short.append(f"{line.product}: {allocated} of {line.quantity}")
        note = (
            ("Short: " + "; ".join(short) + (" (backordered)" if backorder_short else " (cancelled)")) if short else ""
        )
        _move(order, to=OrderState.CONFIRMED, by=by, note=note)
    return order


def purchase_order_pick(*, merchant: Merchant | int, order_id: int, by: User | None) -> PurchaseOrder:
    """Confirmed → picking (the pick list is printed); atomic, CAS."""
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        if order.state != OrderState.CONFIRMED:
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}, not confirmed.", code="state"
            )
        return _move(order, to=OrderState.PICKING, by=by, note="Pick list printed")


def purchase_order_ship(
    *, merchant: Merchant | int, order_id: int, by: User | None, now: dt.datetime | None = None
) -> PurchaseOrder:
    """Confirmed or picking → shipped: allocated units leave the depot, backordered ones go on a
    backorder for the next delivery; atomic, CAS; the owner is mailed."""
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        if order.state not in (OrderState.CONFIRMED, OrderState.PICKING):
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}: only confirmed orders ship.",
                code="state",
            )
        lines = list(order.lines.select_related("product", "substitute").order_by("pk"))
        rows = {
            row.product_id: row
            for row in DepotStock.objects.select_for_update()
            .filter(depot_id=order.depot_id, product_id__in=sorted({line.shipped_product.pk for line in lines}))
            .order_by("product_id")
        }
        for line in lines:
            units = line.allocated_quantity or 0
            row = rows.get(line.shipped_product.pk)
            if units and row is not None:
                DepotStock.objects.filter(pk=row.pk).update(
                    on_hand=F("on_hand") - units, allocated=F("allocated") - units
                )
            line.shipped_quantity = units
            line.save(update_fields=["shipped_quantity"])
        backorder = _backorder_create(order, lines, by=by, now=now or timezone.now())
        _move(
            order,
            to=OrderState.SHIPPED,
            by=by,
            note=f"Backordered units follow in {backorder.number}" if backorder else "",
        )
        _mail_after_commit("shipped", order)
    return order


def _backorder_create(
    order: PurchaseOrder, lines: list[PurchaseOrderLine], *, by: User | None, now: dt.datetime
) -> PurchaseOrder | None:
    """What the depot could not send goes on an order of its own for the store's next delivery,
    already submitted (the shop ordered it once), so the wholesaler confirms it like any other."""
    owed = [line for line in lines if line.backordered_quantity]
    if not owed:
        return None
    supply = selectors.supply_get(merchant=order.merchant_id, store=order.store)
    delivery_date = (
        selectors.delivery_next(supply=supply, now=now, after=order.delivery_date).date
        if supply
        else order.delivery_date + dt.timedelta(days=7)
    )
    backorder = _order_create(
        merchant_id=order.merchant_id,
        store_id=order.store_id,
        depot_id=order.depot_id,
        state=OrderState.SUBMITTED,
        delivery_date=delivery_date,
        currency=order.currency,
        notes=[f"Backorder of {order.number}: the units its depot could not send on {_day(order.delivery_date)}."],
        created_by=by,
        submitted_at=now,
        backorder_of=order,
    )
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(
            merchant_id=order.merchant_id,
            order=backorder,
            store_product_id=line.store_product_id,
            product_id=line.product_id,
            case_pack=line.case_pack,
            unit_cost=line.unit_cost,
            quantity=line.backordered_quantity,
            explanation=f"backordered from {order.number}",
        )
        for line in owed
    )
    _record(backorder, from_state="", to_state=OrderState.SUBMITTED, by=by, note=f"Backorder of {order.number}")
    return backorder


def purchase_order_deliver(*, merchant: Merchant | int, order_id: int, by: User | None) -> PurchaseOrder:
    """Shipped → delivered (the driver handed it over); atomic, CAS."""
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        if order.state != OrderState.SHIPPED:
            raise OrderError(f"Order {order.number} is {order.get_state_display().lower()}, not shipped.", code="state")
        return _move(order, to=OrderState.DELIVERED, by=by)


@dataclass(frozen=True)
class Count:
    """What the store counted of one line: units that arrived (damaged ones included), and of those damaged."""

    received: int
    damaged: int = 0


def _store_product_for(order: PurchaseOrder, line: PurchaseOrderLine) -> StoreProduct:
    if line.substitute_id is None:
        return line.store_product  # type: ignore[return-value]
    item = StoreProduct.objects.filter(
        merchant_id=order.merchant_id, store_id=order.store_id, product_id=line.substitute_id
    ).first()
    if item is not None:
        return item
    merchant = Merchant.objects.get(pk=order.merchant_id)
    return assortment_add(merchant=merchant, store=order.store, product=line.substitute)  # type: ignore[arg-type]


def purchase_order_receive(
    *, merchant: Merchant | int, order_id: int, counts: Mapping[int, Count], by: User | None, note: str = ""
) -> PurchaseOrder:
    """Book a delivery into stock: receipt movements of the good units, a claim for every difference.

    Atomic and CAS: the ledger moves, the order becomes received and the claim is opened together,
    or nothing happens. More than shipped is booked (the goods are there) and flagged in the claim.
    """
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        if order.state not in RECEIVABLE:
            raise OrderError(
                f"Order {order.number} is {order.get_state_display().lower()}: only a shipped order can be received.",
                code="state",
            )
        lines = list(order.lines.select_related("product", "substitute", "store_product").order_by("pk"))
        unknown = set(counts) - {line.pk for line in lines}
        if unknown:
            raise OrderError("A counted line is not on this order.", code="not_found")
        moves: list[Move] = []
        differences: list[ClaimLine] = []
        for line in lines:
            count = counts.get(line.pk, Count(received=line.shipped_quantity or 0))
            if count.received < 0 or count.damaged < 0:
                raise OrderError(f"{line.product}: counts cannot be negative.", code="negative_quantity")
            if count.damaged > count.received:
                raise OrderError(
                    f"{line.product}: {count.damaged} damaged is more than the {count.received} that arrived.",
                    code="damaged_exceeds_received",
                )
            shipped = line.shipped_quantity or 0
            line.received_quantity = count.received
            line.damaged_quantity = count.damaged
            line.is_over_received = count.received > shipped
            line.save(update_fields=["received_quantity", "damaged_quantity", "is_over_received"])
            good = count.received - count.damaged
            if good:
                moves.append(Move(_store_product_for(order, line).pk, good))
            if count.received != shipped or count.damaged:
                differences.append(
                    ClaimLine(
                        merchant_id=merchant_id,
                        line=line,
                        shipped=shipped,
                        received=count.received,
                        damaged=count.damaged,
                    )
                )
        if moves:
            stock_moves(
                merchant=order.merchant,
                kind=MovementKind.RECEIPT,
                moves=moves,
                note=f"Delivery {order.number}",
                reference=f"ordering.purchaseorder:{order.pk}",
                created_by=by,
            )
        summary = note
        if differences:
            over = [d for d in differences if d.received > d.shipped]
            claim = Claim.objects.create(merchant_id=merchant_id, order=order, note=note[:300], created_by=by)
            for difference in differences:
                difference.claim = claim
            ClaimLine.objects.bulk_create(differences)
            summary = (
                f"Claim opened: {len(differences)} line{'s' if len(differences) != 1 else ''} differ"
                + (f", {len(over)} with more than shipped" if over else "")
                + (f". {note}" if note else "")
            )
        _move(order, to=OrderState.RECEIVED, by=by, note=summary, received_at=timezone.now())
    return order


def purchase_order_cancel(
    *, merchant: Merchant | int, order_id: int, by: User | None, by_wholesaler: bool = False, note: str = ""
) -> PurchaseOrder:
    """Cancel an order where its state allows; allocated depot stock is released; atomic, CAS.

    The shop may cancel drafts and submitted orders; once the wholesaler confirmed, only the
    wholesaler may, until the goods ship. Shipped goods are not cancelled: they are received and claimed.
    """
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        allowed = CANCELLABLE_BY_WHOLESALER if by_wholesaler else CANCELLABLE_BY_SHOP
        if order.state not in allowed:
            if not by_wholesaler and order.state in CANCELLABLE_BY_WHOLESALER:
                reason = "it is confirmed by the wholesaler: ask them to cancel it"
            else:
                reason = f"it is {order.get_state_display().lower()}; note problems when you receive it"
            raise OrderError(f"Order {order.number} cannot be cancelled: {reason}.", code="not_cancellable")
        if order.state in (OrderState.CONFIRMED, OrderState.PICKING):
            lines = list(order.lines.select_related("product", "substitute").order_by("pk"))
            rows = {
                row.product_id: row
                for row in DepotStock.objects.select_for_update()
                .filter(depot_id=order.depot_id, product_id__in=sorted({line.shipped_product.pk for line in lines}))
                .order_by("product_id")
            }
            for line in lines:
                row = rows.get(line.shipped_product.pk)
                if row is not None and line.allocated_quantity:
                    DepotStock.objects.filter(pk=row.pk).update(allocated=F("allocated") - line.allocated_quantity)
        return _move(order, to=OrderState.CANCELLED, by=by, note=note)


def purchase_order_line_substitute(
    *, merchant: Merchant | int, order_id: int, line_id: int, product_id: int | None, by: User | None
) -> PurchaseOrderLine:
    """The wholesaler sends another product for a line (or undoes that) before confirming; atomic."""
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        order = _order_locked(merchant_id, order_id)
        if order.state != OrderState.SUBMITTED:
            raise OrderError("Substitute products before confirming the order.", code="state")
        line = PurchaseOrderLine.objects.filter(merchant_id=merchant_id, order=order, pk=line_id).first()
        if line is None:
            raise OrderError("No such line on this order.", code="not_found")
        substitute = None
        if product_id is not None:
            substitute = Product.objects.filter(pk=product_id, wholesaler_id=order.depot.wholesaler_id).first()
            if substitute is None or substitute.pk == line.product_id:
                raise OrderError("Choose another product of the catalog.", code="bad_substitute")
            _carried(order, substitute)
        line.substitute = substitute
        line.save(update_fields=["substitute"])
        return line


def claim_resolve(*, merchant: Merchant | int, claim_id: int, resolution: str, by: User | None) -> Claim:
    """The wholesaler closes a claim (credit note, redelivery…); idempotent."""
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id):
        Claim.objects.filter(merchant_id=merchant_id, pk=claim_id, status="open").update(
            status="resolved", resolution=resolution[:300], resolved_at=timezone.now()
        )
        claim = Claim.objects.filter(merchant_id=merchant_id, pk=claim_id).first()
        if claim is None:
            raise OrderError("No such claim.", code="not_found")
        return claim


def supply_preferences_set(
    *,
    merchant: Merchant | int,
    store: Store,
    by: User | None,
    is_auto_submit: bool,
    default_service_level: float,
    service_levels: Mapping[str, float],
) -> StoreSupply:
    """The owner's choices for a store's suggested orders: submit them without review or not, and
    how rarely each category may run out (a service level per category path, else the default).

    The wholesaler sets the depot, calendar and terms; these two are the shop's. All or nothing:
    a category the wholesaler does not have or a level outside 50-99.9 % changes nothing.
    """
    merchant_id = _merchant_id(merchant)
    with merchant_context(merchant_id), transaction.atomic():
        supply = (
            StoreSupply.objects.select_for_update(of=("self",))
            .select_related("depot")
            .filter(merchant_id=merchant_id, store=store)
            .first()
        )
        if supply is None:
            raise ValidationError(
                f"{store.name} has no supplying depot yet: your wholesaler sets it up first.", code="no_supply"
            )
        known = set(
            Category.objects.filter(
                wholesaler_id=supply.depot.wholesaler_id, path__in=list(service_levels)
            ).values_list("path", flat=True)
        )
        unknown = sorted(set(service_levels) - known)
        if unknown:
            raise ValidationError(f"Your wholesaler has no category {', '.join(unknown)}.", code="unknown_category")
        before = (supply.is_auto_submit, supply.default_service_level, dict(supply.service_levels))
        supply.is_auto_submit = is_auto_submit
        supply.default_service_level = float(default_service_level)
        supply.service_levels = {path: float(level) for path, level in sorted(service_levels.items())}
        supply.full_clean()
        supply.save(update_fields=["is_auto_submit", "default_service_level", "service_levels"])
    logger.info(
        "supply_preferences_set",
        extra={
            "merchant_id": merchant_id,
            "store_id": store.pk,
            "user_id": by.pk if by else None,
            "before": before,
            "after": (supply.is_auto_submit, supply.default_service_level, supply.service_levels),
        },
    )
    return supply
