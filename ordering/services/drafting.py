"""Drafting: the store's suggested order for its next delivery, from the forecast and the order
rule over its sales history (and its chain's), by the nightly job or the owner's button."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np
from django.utils import timezone

from catalog.models import Product, StoreProduct
from merchants.models import Store
from merchants.tenancy import merchant_context
from merchants.zones import store_zone
from ordering import forecasting, selectors
from ordering.models import DepotStock, OrderState, Promotion, PurchaseOrder, PurchaseOrderLine, StoreSupply
from ordering.services.base import (
    OrderError,
    amount_label,
    day_label,
    mail_after_commit,
    order_create,
    transition_record,
)
from ordering.services.forecasts import demand_forecasts_keep

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class DraftOutcome:
    """What drafting did: the draft (new or kept), and what to tell the owner."""

    order: PurchaseOrder | None
    is_new: bool
    message: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SuggestedLine:
    """One line the forecast suggests: the store product, whole-case units, and why."""

    item: StoreProduct
    quantity: int
    explanation: str

    @property
    def product(self) -> Product:
        return cast(Product, self.item.product)


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
) -> tuple[list[SuggestedLine], list[str], forecasting.Forecast]:
    """Run the forecast and the policy over the store's products: the lines to order, notes, and the forecast.

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
    coming = selectors.on_order(merchant=supply.merchant, store=supply.store)
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
        delivery_fee=supply.delivery_fee,
        on_hand=on_hand,
        on_order=ordered,
        shelf_capacity=capacity,
        money=lambda value: amount_label(round(value), currency),
    )
    capped = suggestion.capped if suggestion.capped is not None else np.zeros(len(items), dtype=bool)
    topped_up = suggestion.topped_up if suggestion.topped_up is not None else np.zeros(len(items), dtype=np.int64)
    holding = suggestion.holding_cost if suggestion.holding_cost is not None else np.zeros(len(items))
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
            top_up=forecasting.top_up_explain(
                cases=int(topped_up[i] // case_pack[i]),
                holding_cost=float(holding[i]),
                top_up_holding_cost=float(holding.sum()),
                delivery_fee=supply.delivery_fee,
                money=lambda value: amount_label(round(value), currency),
            )
            if topped_up[i]
            else "",
        )
        lines.append(SuggestedLine(item=item, quantity=quantity, explanation=explanation[:300]))
    return lines, [str(note) for note in notes], forecast


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
            StoreSupply.objects.for_store(store)
            .select_for_update(of=("self",))
            .select_related("depot", "store", "merchant")
            .first()
        )
        if supply is None:
            raise OrderError(f"{store.name} has no supplying depot yet: your wholesaler sets it up.", code="no_supply")
        delivery = selectors.delivery_next(supply=supply, now=now)
        kept = PurchaseOrder.objects.for_store(store).drafts().edited().order_by("delivery_date").first()
        if kept is not None and kept.delivery_date >= delivery.date:
            return DraftOutcome(
                order=kept,
                is_new=False,
                message=f"Your edited draft {kept.number} is kept as it is; submit it, or cancel it to get a new suggestion.",
            )
        today = timezone.localtime(now, timezone=store_zone(store)).date()
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
            lines, notes, forecast = _suggest(
                supply=supply, delivery=delivery, history=history, today=today, chain=chain
            )
            # Kept day by day, so that what was expected can be held against what sold.
            demand_forecasts_keep(
                store=store, items=items, made_on=today, units=forecast.mean.tolist(), sigma=forecast.sigma.tolist()
            )
        # Replace untouched drafts (their lines and history go with them).
        PurchaseOrder.objects.for_store(store).drafts().edited(is_edited=False).delete()
        order = order_create(
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
        transition_record(order, from_state="", to_state=OrderState.DRAFT, by=created_by, note="Suggested by Lingshou")
        if created_by is None:
            # Drafted by the nightly job: tell the owner. A person who pressed the button is looking at it.
            mail_after_commit("ready", order)
    deadline = timezone.localtime(delivery.deadline, timezone=store_zone(store))
    message = (
        f"Suggested order {order.number} for delivery on {day_label(delivery.date)}: {len(lines)} "
        f"line{'s' if len(lines) != 1 else ''}. Submit by {deadline:%H:%M} on {day_label(deadline.date())}."
    )
    return DraftOutcome(order=order, is_new=True, message=message, notes=notes)
