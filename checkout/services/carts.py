"""Shopper visits and their carts: one statement per cart change, validated against the visit's store.

A scale label (a weighed piece of cheese, a priced cake) is a line of its own, keyed by its code:
its price is read from the label again when the order is placed, never taken from the cart.
"""

from __future__ import annotations

from django.db import connection

from catalog.models import StoreProduct
from catalog.selectors import LookupError_, store_product_by_code
from checkout.errors import CheckoutError
from checkout.models import CartLine, Order, Visit
from merchants.models import Store
from merchants.tenancy import merchant_context

MAX_LINE_QUANTITY = 99


def visit_start(*, store: Store) -> Visit:
    """A new anonymous visit (cart) in a store."""
    with merchant_context(store.merchant_id, savepoint=False):  # one insert: nothing before it to undo
        return Visit.objects.create(merchant_id=store.merchant_id, store=store)


# One statement per cart change: the product must be an active one of the visit's store; the line
# is inserted or updated in place (a second scan adds to it) and the visit is touched. Data-
# modifying CTEs always run to completion, so the visit is touched only when a line was written.
_CART_UPSERT = """
WITH item AS (
    SELECT id FROM catalog_storeproduct
    WHERE merchant_id = %(merchant)s AND store_id = %(store)s AND id = %(item)s AND is_active
), line AS (
    INSERT INTO checkout_cartline (merchant_id, visit_id, store_product_id, code, quantity, added_at)
    SELECT %(merchant)s, %(visit)s, item.id, %(code)s, %(quantity)s, now() FROM item
    ON CONFLICT (merchant_id, visit_id, store_product_id, code) DO UPDATE
        SET quantity = {new_quantity}
        WHERE {new_quantity} <= %(maximum)s
    RETURNING id, quantity
), touched AS (
    UPDATE checkout_visit SET last_seen_at = now()
    WHERE id = %(visit)s AND merchant_id = %(merchant)s AND EXISTS (SELECT 1 FROM line)
)
SELECT (SELECT id FROM item), (SELECT id FROM line), (SELECT quantity FROM line)
"""
_CART_SET = _CART_UPSERT.format(new_quantity="EXCLUDED.quantity")
_CART_ADD = _CART_UPSERT.format(new_quantity="checkout_cartline.quantity + EXCLUDED.quantity")


def _label_check(*, visit: Visit, store_product_id: int, code: str) -> None:
    """Refuse (CheckoutError) a code that is not a readable scale label of this product in the visit's store."""
    store = visit.store
    try:
        found = store_product_by_code(store=store, code=code)
    except LookupError_ as error:
        raise CheckoutError(str(error), code="invalid_label") from error
    if found.variable is None or found.store_product.pk != store_product_id:
        raise CheckoutError("This is not a scale label of that product.", code="invalid_label")


def _cart_write(*, visit: Visit, store_product_id: int, quantity: int, add: bool, code: str = "") -> CartLine | None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < (1 if add else 0):
        raise CheckoutError("Choose a quantity of 0 or more.", code="invalid_quantity")
    too_many = CheckoutError(f"At most {MAX_LINE_QUANTITY} of one product per purchase.", code="invalid_quantity")
    if quantity > MAX_LINE_QUANTITY:
        raise too_many
    code = code.strip()
    # No savepoint: the one write comes last, and what it finds is raised after the block.
    with merchant_context(visit.merchant_id, savepoint=False):
        if code and quantity:
            _label_check(visit=visit, store_product_id=store_product_id, code=code)
        if quantity == 0:
            deleted, _ = CartLine.objects.of_visit(visit).filter(store_product_id=store_product_id, code=code).delete()
            sold_here = (
                deleted
                or StoreProduct.objects.filter(
                    merchant_id=visit.merchant_id, store_id=visit.store_id, pk=store_product_id
                ).exists()
            )
        else:
            with connection.cursor() as cursor:
                cursor.execute(
                    _CART_ADD if add else _CART_SET,
                    {
                        "merchant": visit.merchant_id,
                        "store": visit.store_id,
                        "visit": visit.pk,
                        "item": store_product_id,
                        "code": code,
                        "quantity": quantity,
                        "maximum": MAX_LINE_QUANTITY,
                    },
                )
                item_id, line_id, line_quantity = cursor.fetchone()
    if quantity == 0:
        if not sold_here:
            raise CheckoutError("This product is not sold here.", code="unknown_product")
        return None
    if item_id is None:
        raise CheckoutError("This product is not sold here.", code="unknown_product")
    if line_id is None:
        raise too_many  # the line would pass the limit: left as it was
    return CartLine(
        pk=line_id,
        merchant_id=visit.merchant_id,
        visit_id=visit.pk,
        store_product_id=store_product_id,
        code=code,
        quantity=line_quantity,
    )


def cart_set(*, visit: Visit, store_product_id: int, quantity: int, code: str = "") -> CartLine | None:
    """Set how many of a product (or of one scale label of it) are in the cart (0 removes it); validated, one
    atomic statement, scoped."""
    return _cart_write(visit=visit, store_product_id=store_product_id, quantity=quantity, add=False, code=code)


def cart_add(*, visit: Visit, store_product_id: int, quantity: int = 1, code: str = "") -> CartLine | None:
    """Add units to the cart (a second scan of the same product adds one more); a scale label's ``code`` must
    read as a label of that product. One atomic statement, scoped."""
    return _cart_write(visit=visit, store_product_id=store_product_id, quantity=quantity, add=True, code=code)


_CART_TAKE_OUT = """
WITH paid AS (
    SELECT unnest(%(products)s::bigint[]) AS product, unnest(%(codes)s::text[]) AS code,
           unnest(%(units)s::int[]) AS units
),
gone AS (
    DELETE FROM checkout_cartline line USING paid
    WHERE line.merchant_id = %(merchant)s AND line.visit_id = %(visit)s
      AND line.store_product_id = paid.product AND line.code = paid.code AND line.quantity <= paid.units
)
UPDATE checkout_cartline line SET quantity = line.quantity - paid.units FROM paid
WHERE line.merchant_id = %(merchant)s AND line.visit_id = %(visit)s
  AND line.store_product_id = paid.product AND line.code = paid.code AND line.quantity > paid.units
"""


def cart_take_out(*, order: Order, bought: dict[tuple[int, str], int]) -> None:
    """Take what the order paid for, by product and scale label, out of its visit's cart (one statement); what
    was added meanwhile stays."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CART_TAKE_OUT,
            {
                "products": [product for product, _code in bought],
                "codes": [code for _product, code in bought],
                "units": list(bought.values()),
                "merchant": order.merchant_id,
                "visit": order.visit_id,
            },
        )
