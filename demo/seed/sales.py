"""The demo's sales: 90 days of paid orders in every demo store, ending now, so every page has pictures.

Each store's day: a delivery on Tuesdays and Fridays (the bakery's bread every morning), the till
opened with a float, phone and counter sales spread over the opening hours (a lunch bump, busier
Friday and Saturday evenings), baskets of 1-6 products drawn Pareto-like from the assortment and
only from what is on the shelf, a few refunds, and the till counted at the close. A few products
miss deliveries (the depot was short) and sell out for days; a few prices change, and every two
weeks a count finds some units missing. Sales, refunds and deliveries go through ``SalesLoader``
(bulk, the same rows as checkout's services); price changes and counts through catalog's own
services, dated back. Random but deterministic: the same seeds give the same history.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.models import CountLine, CountSession, PriceChange, Product, StockMovement, StoreProduct
from catalog.services.counts import count_line_set, count_session_close, count_session_start
from catalog.services.prices import price_set
from checkout.models import CounterMethod, Order
from demo.seed.accounts import WHOLESALER_SLUG
from demo.seed.sales_loader import PHONE, Sale, SalesLoader
from merchants.models import WEEKDAYS, Membership, Role, Store
from merchants.tenancy import merchant_context, platform_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DAYS = 90
# Sales on an ordinary Thursday, per store; other weekdays scale by WEEKDAY_FACTOR (Monday first).
DAILY_SALES = {"Lindenstraße": 240, "Bahnhof": 330, "Am Park": 190}
WEEKDAY_FACTOR = (0.85, 0.88, 0.92, 1.0, 1.22, 1.3, 0.8)
PHONE_SHARE = 0.35  # of sales paid in the shopper's phone; the rest at the counter
CARD_SHARE = 0.45  # of counter sales paid by card on the external terminal
BASKET_SIZES = (1, 2, 3, 4, 5, 6)
BASKET_WEIGHTS = (40, 26, 16, 10, 5, 3)
UNITS = (1, 2, 3, 4, 6)
UNIT_WEIGHTS = (76, 16, 5, 2, 1)
TENDER_WEIGHTS = (30, 50, 15, 5)  # exact, next 5, next 10, next 20 (cash_suggestions)
REFUND_RATE = 0.006  # of phone orders
DELIVERY_WEEKDAYS = (1, 4)  # Tuesday and Friday, as the demo's store supply says
COVER_DAYS = 4.5  # a delivery fills each shelf up to this many days of sales
PRICE_CHANGES = 4
STOCK_OUTS = 3
COUNT_EVERY = 14
COUNT_DURATION = dt.timedelta(minutes=25)
OPENING_CASH = 15_000
ANALYZED = [
    "checkout_visit", "checkout_order", "checkout_orderline", "checkout_exitpass", "checkout_shift",
    "checkout_countersale", "checkout_counterpayment", "checkout_refund", "catalog_stockmovement",
    "catalog_storeproduct", "catalog_pricechange", "catalog_countsession", "catalog_countline",
]  # fmt: skip


@dataclass(order=True)
class _Refund:
    at: dt.datetime
    order: Order = field(compare=False)
    full: bool = field(compare=False)


@dataclass
class _Plan:
    """What one store's history holds beyond its sales: when prices change, deliveries miss, counts happen."""

    price_changes: dict[int, list[tuple[int, int]]]  # day -> [(store product, new price)]
    short: dict[int, set[int]]  # day -> store products the delivery leaves out
    count_days: set[int]


def _intervals(store: Store, day: dt.date, zone: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    """The store's open intervals on a day, as aware times."""
    spans = (store.opening_hours or {}).get(WEEKDAYS[day.weekday()], [])
    result = []
    for start, end in spans:
        opens = dt.datetime.combine(day, dt.time.fromisoformat(start), tzinfo=zone)
        closes = dt.datetime.combine(day, dt.time.fromisoformat(end), tzinfo=zone)
        if closes <= opens:  # open past midnight
            closes += dt.timedelta(days=1)
        result.append((opens, closes))
    return result


def _busyness(at: dt.datetime, weekday: int) -> float:
    """How busy the shop is at a local time: a base, a morning coffee, a lunch bump, an evening peak."""
    hour = at.hour + at.minute / 60
    evening_peak, evening_weight = (20.0, 2.6) if weekday in (4, 5) else (18.5, 1.6)
    return (
        0.5
        + 0.5 * math.exp(-(((hour - 8.0) / 0.8) ** 2))
        + 1.1 * math.exp(-(((hour - 12.9) / 0.9) ** 2))
        + evening_weight * math.exp(-(((hour - evening_peak) / 1.8) ** 2))
    )


def _sale_times(
    rng: random.Random, intervals: list[tuple[dt.datetime, dt.datetime]], weekday: int, count: int
) -> list[dt.datetime]:
    """``count`` payment times over the open intervals, following the hour pattern; sorted."""
    slots = []
    for opens, closes in intervals:
        at = opens
        while at < closes:
            slots.append(at)
            at += dt.timedelta(minutes=15)
    if not slots:
        return []
    weights = list(accumulate(_busyness(slot, weekday) for slot in slots))
    chosen = rng.choices(slots, cum_weights=weights, k=count)
    return sorted(slot + dt.timedelta(seconds=rng.randrange(15 * 60)) for slot in chosen)


def _plan(rng: random.Random, ranked: list[int], prices: dict[int, int], days: int) -> _Plan:
    price_changes: dict[int, list[tuple[int, int]]] = {}
    # Within the history, clear of its first days and of the last week (so before and after show).
    latest = max(days - 7, days // 6 + 1)
    for item in rng.sample(ranked[5:60], PRICE_CHANGES):
        day = rng.randrange(days // 6, latest)
        change = rng.choice([-15, -10, 8, 10, 12, 20])
        # Prices end in 9, as shops set them.
        new = max(9, round(prices[item] * (100 + change) / 100 / 10) * 10 - 1)
        if new != prices[item]:
            price_changes.setdefault(day, []).append((item, new))
    short: dict[int, set[int]] = {}
    for item in rng.sample(ranked[3:40], STOCK_OUTS):
        first = rng.randrange(days // 10, max(days - 10, days // 10 + 1))
        for day in range(first, first + rng.randint(5, 9)):
            short.setdefault(day, set()).add(item)
    return _Plan(price_changes, short, set(range(COUNT_EVERY - 1, days, COUNT_EVERY)))


class _StoreHistory:
    """One store's days, booked in time order through the loader (and catalog's services)."""

    def __init__(self, *, store: Store, rng: random.Random, days: int, now: dt.datetime) -> None:
        self.store, self.rng, self.days, self.now = store, rng, days, now
        self.zone = ZoneInfo(store.timezone)
        self.today = now.astimezone(self.zone).date()
        self.first_day = self.today - dt.timedelta(days=days - 1)
        _backdate_opening(store, self._time(self.first_day, 6) - dt.timedelta(days=1))
        memberships = Membership.objects.filter(merchant_id=store.merchant_id).select_related("user")
        people = {m.role: m.user for m in memberships}
        self.clerk: User = people[Role.CLERK]
        self.owner: User = people[Role.OWNER]
        self.loader = SalesLoader(store=store, clerk=self.clerk)
        items = StoreProduct.objects.filter(store=store, is_active=True).select_related("product").order_by("pk")
        self.case_pack = {item.pk: item.product.case_pack if item.product else 1 for item in items}
        self.bread = [item.pk for item in items if item.product is None]
        ranked = [item.pk for item in items]
        rng.shuffle(ranked)
        # Popular and slow products: the n-th most popular sells about 1/n^0.9 of the first.
        shares = [1 / (rank + 1) ** 0.9 for rank in range(len(ranked))]
        total = sum(shares)
        self.ranked = ranked
        self.cum_weights = list(accumulate(shares))
        daily = DAILY_SALES.get(store.name, 200)
        lines = sum(s * w for s, w in zip(BASKET_SIZES, BASKET_WEIGHTS, strict=True)) / sum(BASKET_WEIGHTS)
        units = sum(u * w for u, w in zip(UNITS, UNIT_WEIGHTS, strict=True)) / sum(UNIT_WEIGHTS)
        self.daily_sales = daily
        self.rate = {pk: daily * lines * units * share / total for pk, share in zip(ranked, shares, strict=True)}
        self.plan = _plan(rng, ranked, {item.pk: item.price for item in items}, days)
        self.refunds: list[_Refund] = []
        self.refund_number = 0

    def _time(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)

    def run(self) -> None:
        self._deliver(self._time(self.first_day, 6) - dt.timedelta(hours=23), index=-1, every_product=True)
        for index in range(self.days):
            day = self.first_day + dt.timedelta(days=index)
            intervals = _intervals(self.store, day, self.zone)
            if not intervals:
                continue
            opens, closes = intervals[0][0], intervals[-1][1]
            if opens >= self.now:
                break
            # Refunds made overnight are booked before the morning's deliveries: the ledger stays in time order.
            self._refunds_due(opens - dt.timedelta(hours=1))
            for item, price in self.plan.price_changes.get(index, []):
                self._price_change(item, price, opens - dt.timedelta(minutes=20))
            if day.weekday() in DELIVERY_WEEKDAYS:
                self._deliver(opens - dt.timedelta(minutes=45), index=index)
            if self.bread:
                self.loader.receive(
                    moves=[(pk, self.rng.randint(10, 14)) for pk in self.bread],
                    reference="demo:bakery",
                    at=opens - dt.timedelta(minutes=30),
                )
            self.loader.shift_open(at=opens - dt.timedelta(minutes=5), opening_cash=OPENING_CASH)
            self._sales(day, intervals, index)
            if closes < self.now:
                self._refunds_due(closes)
                self.loader.shift_close(at=closes + dt.timedelta(minutes=10), difference=self._till_difference())
                if index in self.plan.count_days:
                    self._refunds_due(closes + COUNT_DURATION + dt.timedelta(minutes=20))
                    self._count(closes + dt.timedelta(minutes=20))
        self._refunds_due(self.now)
        self.loader.flush()

    def _sales(self, day: dt.date, intervals: list[tuple[dt.datetime, dt.datetime]], index: int) -> None:
        growth = 0.92 + 0.12 * index / max(self.days - 1, 1)  # the shop got a little busier
        count = round(self.daily_sales * WEEKDAY_FACTOR[day.weekday()] * growth * self.rng.gauss(1, 0.07))
        for at in _sale_times(self.rng, intervals, day.weekday(), max(count, 0)):
            if at >= self.now:
                break
            self._refunds_due(at)
            lines = self._basket()
            if not lines:
                continue  # what they came for was sold out: a lost sale
            roll = self.rng.random()
            if roll < PHONE_SHARE:
                method = PHONE
            elif self.rng.random() < CARD_SHARE:
                method = CounterMethod.EXTERNAL_CARD
            else:
                method = CounterMethod.CASH
            tender = self.rng.choices(range(4), weights=TENDER_WEIGHTS)[0] if method == CounterMethod.CASH else 0
            order = self.loader.sell(Sale(at=at, method=method, lines=lines, tender=tender))
            if method == PHONE and self.rng.random() < REFUND_RATE:
                later = at + dt.timedelta(minutes=self.rng.randint(20, 26 * 60))
                heapq.heappush(self.refunds, _Refund(later, order, full=self.rng.random() < 0.6))
            if self.loader.pending >= 3000:
                self.loader.flush()

    def _basket(self) -> tuple[tuple[int, int], ...]:
        size = self.rng.choices(BASKET_SIZES, weights=BASKET_WEIGHTS)[0]
        picked: dict[int, int] = {}
        for item in self.rng.choices(self.ranked, cum_weights=self.cum_weights, k=size):
            if item in picked:
                continue
            units = self.rng.choices(UNITS, weights=UNIT_WEIGHTS)[0]
            on_hand = self.loader.on_hand(item)
            if on_hand <= 0:
                continue
            picked[item] = min(units, on_hand)
        return tuple(picked.items())

    def _refunds_due(self, until: dt.datetime) -> None:
        while self.refunds and self.refunds[0].at <= until:
            due = heapq.heappop(self.refunds)
            self.refund_number += 1
            amount = due.order.total if due.full else min(due.order.total, max(1, due.order.total // 3))
            self.loader.refund(
                order=due.order,
                amount_refunded=amount,
                reference=f"re_demo{self.store.pk:02d}{self.refund_number:05d}",
                at=due.at,
                by=self.owner,
            )

    def _till_difference(self) -> int:
        roll = self.rng.random()
        if roll < 0.8:
            return 0
        return self.rng.choice([-500, -200, -100, -50, -20, 10, 50, 100])

    def _deliver(self, at: dt.datetime, *, index: int, every_product: bool = False) -> None:
        """The depot's delivery: each product filled up to COVER_DAYS of sales in whole cases."""
        left_out = self.plan.short.get(index, set())
        moves = []
        for item, rate in self.rate.items():
            if item in left_out or item in self.bread:
                continue
            target = math.ceil(rate * COVER_DAYS) + 2
            on_hand = self.loader.on_hand(item)
            if on_hand < target or (every_product and on_hand < self.case_pack[item]):
                cases = math.ceil((target - on_hand) / self.case_pack[item])
                moves.append((item, max(cases, 1) * self.case_pack[item]))
        self.loader.receive(moves=moves, reference="demo:delivery", at=at)

    def _price_change(self, item: int, price: int, at: dt.datetime) -> None:
        price_set(merchant=self.store.merchant, store_product_id=item, price=price, changed_by=self.owner)
        with merchant_context(self.store.merchant_id):
            latest = PriceChange.objects.filter(store_product_id=item).order_by("-pk").values_list("pk", flat=True)[0]
            PriceChange.objects.filter(pk=latest).update(changed_at=at)
        self.loader.reload()

    def _count(self, at: dt.datetime) -> None:
        """A shelf count of a fifth of the assortment, through catalog's services; a few units are missing."""
        self.loader.flush()
        merchant = self.store.merchant
        session = count_session_start(merchant=merchant, store=self.store, started_by=self.clerk, note="Shelf count")
        counted = sorted(self.rng.sample(self.ranked, max(1, len(self.ranked) // 5)))
        for item in counted:
            on_hand = max(self.loader.on_hand(item), 0)
            roll = self.rng.random()
            missing = 0 if roll < 0.8 else (1 if roll < 0.93 else (2 if roll < 0.98 else -1))
            count_line_set(
                merchant=merchant, session_id=session.pk, store_product_id=item, counted=max(on_hand - missing, 0)
            )
        movements = count_session_close(merchant=merchant, session_id=session.pk, closed_by=self.clerk)
        closed = at + COUNT_DURATION
        with merchant_context(self.store.merchant_id):
            CountSession.objects.filter(pk=session.pk).update(started_at=at, closed_at=closed)
            CountLine.objects.filter(session_id=session.pk).update(updated_at=at + dt.timedelta(minutes=15))
            StockMovement.objects.filter(pk__in=[m.pk for m in movements]).update(created_at=closed)
        self.loader.reload()


def _backdate_opening(store: Store, at: dt.datetime) -> None:
    """The assortment, its first prices and the opening stock date from before the first sale."""
    with merchant_context(store.merchant_id):
        items = StoreProduct.objects.filter(store=store)
        items.update(created_at=at)
        PriceChange.objects.filter(store_product__store=store, old_price__isnull=True).update(changed_at=at)
        StockMovement.objects.filter(store=store, reference="demo:opening-stock").update(created_at=at)
        # What a unit cost the shop: the wholesaler's price, until deliveries and the owner say otherwise.
        items.filter(product__isnull=False, average_cost__isnull=True).update(
            average_cost=Subquery(Product.objects.filter(pk=OuterRef("product_id")).values("wholesale_cost")[:1])
        )


def sales_seed(*, days: int = DAYS, now: dt.datetime | None = None) -> bool:
    """Seed ``days`` of paid sales in every demo store, ending ``now``; once (False when any store has orders)."""
    now = now or timezone.now()
    with transaction.atomic(), platform_access(reason="demo seed: sales", actor="command:demo_seed"):
        stores = list(Store.objects.filter(merchant__wholesaler__slug=WHOLESALER_SLUG).select_related("merchant"))
        if not stores or Order.objects.filter(store__in=stores).exists():
            return False
        for number, store in enumerate(sorted(stores, key=lambda s: s.pk)):
            with merchant_context(store.merchant_id):
                _StoreHistory(store=store, rng=random.Random(2024 + number), days=days, now=now).run()  # noqa: S311 - demo data, not security  # nosec B311
        # The tables just grew from nothing to a few hundred thousand rows: without fresh statistics
        # the planner still takes them for empty, and the seeders and pages after this crawl (ANALYZE
        # counts this transaction's own rows).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(ANALYZED)}")
    return True
