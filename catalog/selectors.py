"""Reads of the catalog: barcode lookup, typo-tolerant search, stock and movement lists."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest

from catalog import gtin
from catalog.models import PLU_MAX_LENGTH, Barcode, LocalBarcode, Product, StockMovement, StoreProduct, search_text
from catalog.querysets import StoreProductQuerySet
from merchants.models import Merchant, Store

# Below this word similarity a product does not match a search (0..1; pg_trgm's default is 0.6).
SEARCH_THRESHOLD = 0.35


@dataclass(frozen=True)
class ScanResult:
    """What a scanned code means in a store: the product, how many units, and any measured value.

    A scale label (``variable``) is priced from the label: ``label_price`` is what the labelled item
    costs, and ``weight_grams`` what it weighs when the product is sold by weight (its stock is in grams).
    """

    store_product: StoreProduct
    quantity: int = 1
    variable: gtin.VariableMeasure | None = None
    label_price: int | None = None
    weight_grams: int | None = None


class LookupError_(LookupError):
    """A code that names no product of this store; the message says why."""


def _per_kilogram(price: int, grams: int) -> int:
    return int((Decimal(price) * grams / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def label_priced(item: StoreProduct, variable: gtin.VariableMeasure) -> ScanResult:
    """A scale label's item and price: the price printed on it, or its weight times the price per kilogram.

    Raises LookupError_ for a label that cannot be sold as printed (no weight, no price, no price per kilogram).
    """
    if variable.kind == "weight":
        if variable.value <= 0:
            raise LookupError_(f"{item.name}: the scale label shows no weight (0 g). Weigh it again.")
        if item.price <= 0:
            raise LookupError_(f"{item.name} has no price per kilogram in this shop; the owner sets one first.")
        grams = variable.value
        price = _per_kilogram(item.price, grams)
    else:
        if variable.value <= 0:
            raise LookupError_(f"{item.name}: the scale label shows no price (0). Weigh it again.")
        price = variable.value
        # The weight a printed price stands for, so that stock kept in grams moves by about what was sold.
        grams = round(variable.value * 1000 / item.price) if item.price > 0 else 0
    weighed = item.is_sold_by_weight and grams > 0
    return ScanResult(item, 1, variable, label_price=price, weight_grams=grams if weighed else None)


def _assortment(store: Store) -> StoreProductQuerySet:
    return StoreProduct.objects.for_store(store).select_related("product")


def looks_like_code(text: str) -> bool:
    """Whether typed text is a code to look up (barcode digits, or a shelf label's L<id>) rather than a name."""
    code = text.strip().replace(" ", "").replace("-", "")
    if code[:1] in {"L", "l"}:
        code = code[1:]
    return code.isascii() and code.isdigit()


# The store product a scanned code names (``column``: its id, or the units the code stands for), best match first.
# Only placeholders are filled in, and ``column`` is one of those two names.
_CODE_FOUND = """
SELECT {column} FROM (
    SELECT lb.store_product_id, lb.quantity, 0 AS rank
      FROM catalog_localbarcode lb
     WHERE lb.merchant_id = %s AND lb.store_id = %s AND lb.code = %s
    UNION ALL
    SELECT sp.id, 1, 1
      FROM catalog_product p
      JOIN catalog_storeproduct sp ON sp.product_id = p.id AND sp.merchant_id = %s AND sp.store_id = %s
     WHERE p.wholesaler_id = %s AND p.gtin = %s
    UNION ALL
    SELECT sp.id, b.quantity, 2
      FROM catalog_barcode b
      JOIN catalog_storeproduct sp ON sp.product_id = b.product_id AND sp.merchant_id = %s AND sp.store_id = %s
     WHERE b.wholesaler_id = %s AND b.code = %s
) found ORDER BY rank LIMIT 1
"""


def store_product_by_code(*, store: Store, code: str) -> ScanResult:
    """Any of a product's barcodes, its label QR code (GTIN or L<id>), or a variable-measure code.

    Call inside the store's merchant context. Raises LookupError_ with a message for people.
    """
    code = code.strip()
    if code[:1] in {"L", "l"} and code[1:].isdigit():
        item = _assortment(store).filter(pk=int(code[1:]), product__isnull=True).first()
        if item is None:
            raise LookupError_("This shop does not sell a product with this code.")
        return ScanResult(item)
    if code.isascii() and code.isdigit() and len(code) <= PLU_MAX_LENGTH:
        item = _assortment(store).filter(plu=code).first()
        if item is None:
            raise LookupError_(f"No product of this shop has the PLU {code}.")
        return ScanResult(item)
    try:
        normalized = gtin.normalize(code)
    except gtin.GtinError as error:
        raise LookupError_(str(error)) from error
    # One round trip finds the store product, with its product, and the units the code stands for: a store's
    # own barcode first, then the product's GTIN, then its other barcodes (multipack, case).
    found = [
        store.merchant_id,
        store.pk,
        normalized,
        *[store.merchant_id, store.pk, store.merchant.wholesaler_id, normalized] * 2,
    ]
    item = (
        _assortment(store)
        .filter(pk=RawSQL(_CODE_FOUND.format(column="store_product_id"), found))  # noqa: S611  # nosec B611
        .annotate(code_units=RawSQL(_CODE_FOUND.format(column="quantity"), found))  # noqa: S611  # nosec B611
        .first()
    )
    if item is not None:
        return ScanResult(item, int(item.code_units))
    # In-store codes (prefix 02, 20-29) name a product exactly or carry a scale's price/weight.
    variable = gtin.parse_variable(code)
    if variable is not None:
        barcode = Barcode.objects.filter(wholesaler_id=store.merchant.wholesaler_id, code=variable.key).first()
        local = LocalBarcode.objects.for_store(store).filter(code=variable.key).first()
        item = (
            local.store_product
            if local
            else _assortment(store).filter(product_id=barcode.product_id).first()
            if barcode
            else None
        )
        if item is None:
            raise LookupError_("This shop does not sell the product of this scale label.")
        return label_priced(item, variable)
    raise LookupError_("This shop does not sell a product with this barcode.")


def assortment_search(
    *, store: Store, query: str, limit: int = 20, include_inactive: bool = False
) -> list[StoreProduct]:
    """A store's products matching ``query`` by name, brand or barcode, best first; typo tolerant.

    Digits are looked up as a barcode (exact, any GTIN form), and up to five of them as a PLU first.
    """
    query = query.replace("\x00", "").strip()  # PostgreSQL text holds no NUL: typed or pasted, it is noise
    items = _assortment(store)
    if not include_inactive:
        items = items.active()
    if not query:
        return list(items.order_by("product__name", "local_name")[:limit])
    if query.isdigit() and len(query) >= 8:
        try:
            return [store_product_by_code(store=store, code=query).store_product]
        except LookupError_:
            return []
    if query.isascii() and query.isdigit() and len(query) <= PLU_MAX_LENGTH:
        by_plu = list(items.filter(plu=query)[:1])
        if by_plu:
            return by_plu
    # Candidates come from the trigram indexes (master brands and names, local names); only
    # those are scored, so a store of thousands of products is not scored row by row.
    found: list[StoreProduct] = list(
        items.filter(product_id__in=_master_matches(store.merchant, query).values("id"))
        .annotate(score=TrigramWordSimilarity(query, search_text("product__")))
        .order_by("-score", "product__name")[:limit]
    )
    found.extend(
        items.filter(product__isnull=True, local_name__trigram_word_similar=query)
        .annotate(score=TrigramWordSimilarity(query, "local_name"))
        .order_by("-score")[:limit]
    )
    return sorted(found, key=lambda item: -item.score)[:limit]  # type: ignore[attr-defined]


def assortment_list(*, store: Store, query: str = "", include_inactive: bool = False) -> QuerySet[StoreProduct]:
    """Every product of a store matching ``query`` (all of them without one), best match first, for a pager.

    The same matching as ``assortment_search`` (typo tolerant, digits as a barcode or PLU), as one queryset with
    no limit: the page counts it and reads one page of it, so a list never stops short without saying so.
    """
    query = query.replace("\x00", "").strip()  # PostgreSQL text holds no NUL: typed or pasted, it is noise
    items = _assortment(store)
    if not include_inactive:
        items = items.active()
    if not query:
        return items.order_by("product__name", "local_name", "pk")
    if query.isdigit() and len(query) >= 8:
        try:
            found = store_product_by_code(store=store, code=query).store_product
        except LookupError_:
            return items.none()
        return items.filter(pk=found.pk)
    if query.isascii() and query.isdigit() and len(query) <= PLU_MAX_LENGTH and items.filter(plu=query).exists():
        return items.filter(plu=query)
    master = _master_matches(store.merchant, query)
    # A local product has no master row: its similarity is NULL there, and GREATEST skips NULLs.
    return (
        items.filter(
            Q(product_id__in=master.values("id")) | Q(product__isnull=True, local_name__trigram_word_similar=query)
        )
        .annotate(
            score=Greatest(
                TrigramWordSimilarity(query, search_text("product__")), TrigramWordSimilarity(query, "local_name")
            )
        )
        .order_by("-score", "product__name", "local_name", "pk")
    )


def product_search(*, merchant: Merchant, query: str, limit: int = 20) -> list[Product]:
    """Master products of the merchant's wholesaler matching ``query``, best first; typo tolerant."""
    products = Product.objects.for_merchant(merchant).active().select_related("category")
    query = query.replace("\x00", "").strip()  # PostgreSQL text holds no NUL: typed or pasted, it is noise
    if query.isdigit() and len(query) >= 8:
        try:
            code = gtin.normalize(query)
        except gtin.GtinError:
            return []
        return list(products.filter(Q(gtin=code) | Q(barcodes__code=code)).distinct()[:limit])
    return list(
        _master_matches(merchant, query, products)
        .annotate(score=TrigramWordSimilarity(query, search_text()))
        .order_by("-score", "name")[:limit]
    )


def _master_matches(merchant: Merchant, query: str, products: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """The merchant's master products whose brand and name hold words like ``query`` (the trigram index on
    ``catalog.models.search_text``)."""
    products = Product.objects.for_merchant(merchant) if products is None else products
    return products.alias(search=search_text()).filter(search__trigram_word_similar=query)


def stock_list(*, store: Store, status: str = "", query: str = "") -> QuerySet[StoreProduct]:
    """A store's stock; ``status`` 'out' (nothing on hand), 'low' (at or below the threshold) or 'negative'."""
    items = _assortment(store).active()
    if status == "out":
        items = items.out_of_stock()
    elif status == "low":
        items = items.low_stock()
    elif status == "negative":
        items = items.negative()
    if query:
        items = items.filter(
            Q(product__name__icontains=query) | Q(local_name__icontains=query) | Q(product__gtin__endswith=query)
        )
    return items.order_by("product__name", "local_name")


def store_product_get(*, merchant: Merchant, store_product_id: int) -> StoreProduct | None:
    """One of the merchant's store products with its product, category and store; None when not theirs."""
    return (
        StoreProduct.objects.for_merchant(merchant)
        .filter(pk=store_product_id)
        .select_related("product", "product__category", "store")
        .first()
    )


def movement_list(*, merchant: Merchant, store_product: StoreProduct) -> QuerySet[StockMovement]:
    """A store product's movements, newest first, scoped to the merchant."""
    return (
        StockMovement.objects.for_merchant(merchant)
        .filter(store_product=store_product)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def ledger_violations(*, merchant: Merchant) -> list[tuple[int, int, int]]:
    """(store product, on_hand, sum of movements) wherever they differ: always empty unless broken."""
    from django.db.models import Sum
    from django.db.models.functions import Coalesce

    rows = (
        StoreProduct.objects.for_merchant(merchant)
        .annotate(total=Coalesce(Sum("movements__quantity"), 0))
        .exclude(on_hand=F("total"))
        .values_list("pk", "on_hand", "total")
    )
    return list(rows)
