"""Writes of the catalog: assortment, prices and the stock ledger.

The ledger's one rule: a StoreProduct's ``on_hand`` always equals the sum of its movements.
``stock_move`` is the only code that changes ``on_hand``; it adds the movement's quantity with
a single ``UPDATE … SET on_hand = on_hand + q … RETURNING`` (the row lock makes concurrent
movements queue, none is lost) and inserts the movement in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import (
    AdjustmentReason,
    Category,
    CountLine,
    CountSession,
    LocalBarcode,
    MovementKind,
    PriceChange,
    Product,
    ProductLookup,
    ShelfEmptyPeriod,
    StockMovement,
    StoreProduct,
    TaxClass,
)
from merchants.models import Merchant, Store
from merchants.tenancy import merchant_context

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import User

# Which way each kind of movement may go: +1 in, -1 out, 0 either.
_DIRECTION: dict[str, int] = {
    MovementKind.SALE: -1,
    MovementKind.REFUND: +1,
    MovementKind.RECEIPT: +1,
    MovementKind.ADJUSTMENT: 0,
    MovementKind.COUNT: 0,
    MovementKind.SHELF_CORRECTION: 0,
    MovementKind.WRITE_OFF: -1,
}
# A sale may take on-hand below zero (the shelf had what the books did not); it is flagged.
_MAY_GO_NEGATIVE: set[str] = {MovementKind.SALE, MovementKind.SHELF_CORRECTION}
_NEEDS_REASON: set[str] = {MovementKind.ADJUSTMENT, MovementKind.WRITE_OFF}


class _Unchanged:
    """Marks an argument left out (None means 'no threshold', so it cannot mean 'unchanged')."""


UNCHANGED = _Unchanged()


class StockError(ValidationError):
    """A movement the ledger refuses; nothing was written."""


@dataclass(frozen=True)
class Move:
    """One line of a multi-line stock change (a sale of several products, a delivery)."""

    store_product_id: int
    quantity: int


def _validate_move(kind: str, quantity: int, reason: str) -> None:
    if kind not in _DIRECTION:
        raise StockError(f"Unknown movement kind {kind!r}.", code="invalid_kind")
    if quantity == 0:
        raise StockError("A movement needs a quantity other than zero.", code="zero_quantity")
    direction = _DIRECTION[kind]
    if direction and (quantity > 0) != (direction > 0):
        raise StockError(
            f"A {MovementKind(kind).label.lower()} {'adds' if direction > 0 else 'removes'} stock.", code="wrong_sign"
        )
    if kind in _NEEDS_REASON and not reason:
        raise StockError("Give a reason for the adjustment (damaged, expired, theft, …).", code="reason_required")
    if reason and reason not in AdjustmentReason.values:
        raise StockError(f"Unknown reason {reason!r}.", code="invalid_reason")


def _apply(*, merchant_id: int, store_product_id: int, quantity: int, may_go_negative: bool) -> tuple[int, int]:
    """Add ``quantity`` to on_hand atomically; returns (on_hand after, store id). Locks the row."""
    with connection.cursor() as cursor:
        cursor.execute(
            # Adding stock is always allowed (even while on hand is still below zero); taking it
            # away may not go below zero unless the kind allows it. Checked under the row lock.
            "UPDATE catalog_storeproduct SET on_hand = on_hand + %s "
            "WHERE id = %s AND merchant_id = %s AND (%s OR %s > 0 OR on_hand + %s >= 0) "
            "RETURNING on_hand, store_id",
            [quantity, store_product_id, merchant_id, may_go_negative, quantity, quantity],
        )
        row = cursor.fetchone()
    if row is not None:
        return int(row[0]), int(row[1])
    current = (
        StoreProduct.objects.filter(pk=store_product_id, merchant_id=merchant_id)
        .values_list("on_hand", flat=True)
        .first()
    )
    if current is None:
        raise StockError("No such product in this shop.", code="not_found")
    raise StockError(
        f"Only {current} on hand: removing {-quantity} would leave {current + quantity}. Count the shelf first.",
        code="negative_stock",
    )


def stock_moves(
    *,
    merchant: Merchant | int,
    kind: str,
    moves: Sequence[Move],
    reason: str = "",
    note: str = "",
    reference: str = "",
    created_by: User | None = None,
) -> list[StockMovement]:
    """Apply several movements of one kind at once: all or none, atomic, deadlock-free.

    Rows are locked in id order, so two multi-line changes over the same products always take
    their locks in the same order and cannot deadlock each other.
    """
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    for move in moves:
        _validate_move(kind, move.quantity, reason)
    movements = []
    now = timezone.now()
    with merchant_context(merchant_id):
        for move in sorted(moves, key=lambda m: m.store_product_id):
            after, store_id = _apply(
                merchant_id=merchant_id,
                store_product_id=move.store_product_id,
                quantity=move.quantity,
                may_go_negative=kind in _MAY_GO_NEGATIVE,
            )
            movements.append(
                StockMovement(
                    merchant_id=merchant_id,
                    store_id=store_id,
                    store_product_id=move.store_product_id,
                    kind=kind,
                    quantity=move.quantity,
                    reason=reason,
                    note=note[:200],
                    reference=reference[:100],
                    is_flagged_negative=after < 0,
                    on_hand_after=after,
                    created_by=created_by,
                    created_at=now,
                )
            )
        StockMovement.objects.bulk_create(movements)
    return movements


def stock_move(
    *,
    merchant: Merchant | int,
    store_product_id: int,
    kind: str,
    quantity: int,
    reason: str = "",
    note: str = "",
    reference: str = "",
    created_by: User | None = None,
) -> StockMovement:
    """Record one movement and move on_hand with it; atomic, never loses a concurrent update."""
    return stock_moves(
        merchant=merchant,
        kind=kind,
        moves=[Move(store_product_id, quantity)],
        reason=reason,
        note=note,
        reference=reference,
        created_by=created_by,
    )[0]


def stock_adjust(
    *,
    merchant: Merchant,
    store_product_id: int,
    quantity: int,
    reason: str,
    note: str = "",
    created_by: User | None = None,
) -> StockMovement:
    """An owner's adjustment: needs a reason, and may not take stock below zero."""
    kind = (
        MovementKind.WRITE_OFF
        if reason in {AdjustmentReason.DAMAGED, AdjustmentReason.EXPIRED} and quantity < 0
        else MovementKind.ADJUSTMENT
    )
    return stock_move(
        merchant=merchant,
        store_product_id=store_product_id,
        kind=kind,
        quantity=quantity,
        reason=reason,
        note=note,
        created_by=created_by,
    )


# Assortment and prices ------------------------------------------------------------------


def _price_check(price: int) -> None:
    if not isinstance(price, int) or price < 0:
        raise ValidationError({"price": "A price cannot be negative."})


def assortment_add(
    *,
    merchant: Merchant,
    store: Store,
    product: Product,
    price: int | None = None,
    shelf_location: str = "",
    low_stock_threshold: int | None = None,
    changed_by: User | None = None,
) -> StoreProduct:
    """Start selling a master product in a store, at the suggested price unless given; atomic."""
    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    if product.wholesaler_id != merchant.wholesaler_id:
        raise ValidationError({"product": "This product is not in your wholesaler's catalog."})
    if price is None:
        if product.wholesaler.currency != store.currency:
            raise ValidationError(
                {"price": f"Set a price in {store.currency}: the suggested price is in {product.wholesaler.currency}."}
            )
        price = product.suggested_retail_price
    _price_check(price)
    with merchant_context(merchant.pk):
        try:
            with transaction.atomic():
                item = StoreProduct.objects.create(
                    merchant=merchant,
                    store=store,
                    product=product,
                    price=price,
                    shelf_location=shelf_location,
                    low_stock_threshold=low_stock_threshold,
                )
        except IntegrityError as error:
            raise ValidationError({"product": "This store already sells that product."}) from error
        PriceChange.objects.create(
            merchant=merchant, store_product=item, old_price=None, new_price=price, changed_by=changed_by
        )
    return item


def local_product_create(
    *,
    merchant: Merchant,
    store: Store,
    name: str,
    price: int,
    brand: str = "",
    tax_class: str = TaxClass.REDUCED,
    is_age_restricted: bool = False,
    barcodes: Sequence[str] = (),
    changed_by: User | None = None,
) -> StoreProduct:
    """A product the store sells that the wholesaler does not (a neighbour's bread); atomic."""
    from catalog import gtin

    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the product a name."})
    if tax_class not in TaxClass.values:
        raise ValidationError({"tax_class": f"Choose one of: {', '.join(TaxClass.values)}."})
    _price_check(price)
    try:
        codes = [gtin.normalize(code) for code in barcodes]
    except gtin.GtinError as error:
        raise ValidationError({"barcodes": str(error)}) from error
    with merchant_context(merchant.pk):
        try:
            with transaction.atomic():
                item = StoreProduct.objects.create(
                    merchant=merchant,
                    store=store,
                    local_name=name[:200],
                    local_brand=brand[:100],
                    local_tax_class=tax_class,
                    local_is_age_restricted=is_age_restricted,
                    price=price,
                )
                LocalBarcode.objects.bulk_create(
                    LocalBarcode(merchant=merchant, store=store, store_product=item, code=code) for code in codes
                )
        except IntegrityError as error:
            raise ValidationError({"barcodes": "Another product of this store already has this barcode."}) from error
        PriceChange.objects.create(
            merchant=merchant, store_product=item, old_price=None, new_price=price, changed_by=changed_by
        )
    return item


def price_set(*, merchant: Merchant, store_product_id: int, price: int, changed_by: User | None = None) -> StoreProduct:
    """Change a store price and keep the change (who, when, old, new); atomic, row-locked."""
    _price_check(price)
    with merchant_context(merchant.pk):
        item = StoreProduct.objects.select_for_update().filter(merchant=merchant, pk=store_product_id).first()
        if item is None:
            raise ValidationError({"store_product": "No such product in this shop."})
        if item.price != price:
            PriceChange.objects.create(
                merchant=merchant, store_product=item, old_price=item.price, new_price=price, changed_by=changed_by
            )
            item.price = price
            item.save(update_fields=["price"])
    return item


def assortment_update(
    *,
    merchant: Merchant,
    store_product_id: int,
    shelf_location: str | None = None,
    is_active: bool | None = None,
    low_stock_threshold: int | _Unchanged | None = UNCHANGED,
    price: int | None = None,
    changed_by: User | None = None,
) -> StoreProduct:
    """Change an assortment row's shelf, status, threshold and price; atomic."""
    with merchant_context(merchant.pk):
        if price is not None:
            price_set(merchant=merchant, store_product_id=store_product_id, price=price, changed_by=changed_by)
        item = StoreProduct.objects.select_for_update().filter(merchant=merchant, pk=store_product_id).first()
        if item is None:
            raise ValidationError({"store_product": "No such product in this shop."})
        fields = []
        if shelf_location is not None:
            item.shelf_location = shelf_location.strip()[:50]
            fields.append("shelf_location")
        if is_active is not None:
            item.is_active = is_active
            fields.append("is_active")
        if not isinstance(low_stock_threshold, _Unchanged):
            if low_stock_threshold is not None and low_stock_threshold < 0:
                raise ValidationError({"low_stock_threshold": "A threshold cannot be negative."})
            item.low_stock_threshold = low_stock_threshold
            fields.append("low_stock_threshold")
        if fields:
            item.save(update_fields=fields)
    return item


def prices_bulk_change(
    *,
    merchant: Merchant,
    store: Store,
    percent: Decimal,
    category: Category | None = None,
    changed_by: User | None = None,
) -> int:
    """Raise or lower the prices of a store (or one category, with its sub-categories) by a percentage.

    Rounded half up to the minor unit; every change is kept. Atomic: all prices or none.
    Returns how many prices changed.
    """
    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    if not Decimal("-90") <= percent <= Decimal("500"):
        raise ValidationError({"percent": "Give a change between -90 % and +500 %."})
    factor = 1 + percent / 100
    changed = 0
    with merchant_context(merchant.pk):
        items = StoreProduct.objects.select_for_update().filter(merchant=merchant, store=store).order_by("pk")
        if category is not None:
            items = items.filter(product__category__path__startswith=category.path).filter(
                product__category__wholesaler=merchant.wholesaler_id
            )
        changes = []
        for item in items:
            new = int((Decimal(item.price) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            if new != item.price:
                changes.append(
                    PriceChange(
                        merchant=merchant,
                        store_product=item,
                        old_price=item.price,
                        new_price=new,
                        changed_by=changed_by,
                    )
                )
                item.price = new
                changed += 1
        StoreProduct.objects.bulk_update([c.store_product for c in changes], ["price"], batch_size=1000)
        PriceChange.objects.bulk_create(changes, batch_size=1000)
    return changed


# Counts -------------------------------------------------------------------------------------


def count_session_start(
    *, merchant: Merchant, store: Store, started_by: User | None = None, note: str = ""
) -> CountSession:
    """Open a count for a store; scoped."""
    if store.merchant_id != merchant.pk:
        raise ValidationError({"store": "No such store."})
    with merchant_context(merchant.pk):
        return CountSession.objects.create(merchant=merchant, store=store, started_by=started_by, note=note[:200])


def count_line_set(*, merchant: Merchant, session_id: int, store_product_id: int, counted: int) -> CountLine:
    """Record (or correct) what was counted of one product; idempotent per product."""
    if counted < 0:
        raise ValidationError({"counted": "A count cannot be negative."})
    with merchant_context(merchant.pk):
        session = CountSession.objects.filter(merchant=merchant, pk=session_id).first()
        if session is None:
            raise ValidationError({"session": "No such count."})
        if session.status != CountSession.Status.OPEN:
            raise ValidationError({"session": "This count is closed."})
        if not StoreProduct.objects.filter(merchant=merchant, store_id=session.store_id, pk=store_product_id).exists():
            raise ValidationError({"store_product": "This product is not sold in the counted store."})
        line, _ = CountLine.objects.update_or_create(
            merchant=merchant,
            session=session,
            store_product_id=store_product_id,
            defaults={"counted": counted, "updated_at": timezone.now()},
        )
    return line


def count_session_close(*, merchant: Merchant, session_id: int, closed_by: User | None = None) -> list[StockMovement]:
    """Close a count: each difference between counted and on hand becomes a count movement.

    Atomic and idempotent: the session is locked and closed once; a second call changes nothing.
    """
    with merchant_context(merchant.pk):
        session = CountSession.objects.select_for_update().filter(merchant=merchant, pk=session_id).first()
        if session is None:
            raise ValidationError({"session": "No such count."})
        if session.status != CountSession.Status.OPEN:
            return []
        lines = list(session.lines.order_by("store_product_id"))
        on_hand = dict(
            StoreProduct.objects.select_for_update()
            .filter(merchant=merchant, pk__in=[line.store_product_id for line in lines])
            .order_by("pk")
            .values_list("pk", "on_hand")
        )
        movements: list[StockMovement] = []
        for line in lines:
            line.expected = on_hand[line.store_product_id]
            line.save(update_fields=["expected"])
            if line.counted != line.expected:
                movements.append(
                    stock_move(
                        merchant=merchant,
                        store_product_id=line.store_product_id,
                        kind=MovementKind.COUNT,
                        quantity=line.counted - line.expected,
                        reference=f"catalog.countsession:{session.pk}",
                        created_by=closed_by,
                    )
                )
        session.status = CountSession.Status.CLOSED
        session.closed_at = timezone.now()
        session.save(update_fields=["status", "closed_at"])
    return movements


def shelf_empty_record(*, merchant_id: int, store_product_id: int, at: datetime, is_empty: bool) -> bool:
    """Open (is_empty) or close the product's shelf-empty period at ``at``; idempotent, scoped. True when it changed.

    At most one period is open per product (a partial unique constraint), so a repeated
    "empty" from a re-run frame finds it open and does nothing.
    """
    with merchant_context(merchant_id):
        open_periods = ShelfEmptyPeriod.objects.filter(
            merchant_id=merchant_id, store_product_id=store_product_id, ended_at__isnull=True
        )
        if not is_empty:
            return bool(open_periods.update(ended_at=at))
        if open_periods.exists():
            return False
        store_id = (
            StoreProduct.objects.filter(merchant_id=merchant_id, pk=store_product_id)
            .values_list("store_id", flat=True)
            .first()
        )
        if store_id is None:
            return False
        try:
            with transaction.atomic():
                ShelfEmptyPeriod.objects.create(
                    merchant_id=merchant_id, store_id=store_id, store_product_id=store_product_id, started_at=at
                )
        except IntegrityError:
            return False  # opened by a concurrent frame a moment ago
    return True


def product_lookup_record(*, store: Store, code: str, store_product: StoreProduct | None) -> None:
    """Remember that a shopper looked a product up here (store, product, time; nothing personal)."""
    with merchant_context(store.merchant_id):
        ProductLookup.objects.create(
            merchant_id=store.merchant_id, store=store, store_product=store_product, code=code[:32]
        )
