"""Catalog API under /api/v1/merchants/<merchant_id>/: products, assortment, stock, movements,
adjustments and counts. One view per operation; every store id is looked up within the merchant.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import gtin, selectors
from catalog.models import AdjustmentReason, CountSession, Product, StockMovement, StoreProduct
from catalog.services.counts import count_line_set, count_session_close, count_session_start
from catalog.services.prices import price_set
from catalog.services.stock import stock_adjust
from core.api import Pagination, paginated
from core.money import AmountError, parse_amount, to_decimal
from core.serializers import ModelSerializer, Serializer
from merchants.access import MerchantApi
from merchants.models import Store
from merchants.selectors import store_get


class ProductOutput(ModelSerializer[Product]):
    gtin = serializers.SerializerMethodField(
        help_text="GTIN-13 or GTIN-8 where the leading digits are zeros, else GTIN-14."
    )
    category = serializers.CharField(source="category.path", default="")

    class Meta:
        model = Product
        fields = [
            "id", "gtin", "name", "brand", "category", "unit_size", "content_amount", "content_unit", "case_pack",
            "wholesale_cost", "suggested_retail_price", "is_age_restricted", "minimum_age", "tax_class", "is_active",
        ]  # fmt: skip

    def get_gtin(self, product: Product) -> str:
        return gtin.display(product.gtin)


class AssortmentOutput(Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField(allow_null=True, help_text="Null for a store-local product.")
    code = serializers.CharField(source="lookup_code")
    name = serializers.CharField()
    brand = serializers.CharField()
    price = serializers.IntegerField(help_text="Minor units of the store's currency.")
    price_decimal = serializers.SerializerMethodField()
    shelf_location = serializers.CharField()
    is_active = serializers.BooleanField()
    low_stock_threshold = serializers.IntegerField(allow_null=True)
    on_hand = serializers.IntegerField()
    is_low = serializers.BooleanField()

    def get_price_decimal(self, item: StoreProduct) -> str:
        return f"{to_decimal(item.price, item.store.currency):f}"


class MovementOutput(ModelSerializer[StockMovement]):
    class Meta:
        model = StockMovement
        fields = [
            "id",
            "store_product_id",
            "kind",
            "quantity",
            "reason",
            "note",
            "reference",
            "on_hand_after",
            "is_flagged_negative",
            "created_at",
        ]


class StoreScopedApi(MerchantApi):
    """A merchant API view about one of its stores (the store id is checked against the merchant)."""

    store: Store

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.store = store_get(merchant=self.merchant, store_id=kwargs["store_id"])

    def item(self, item_id: int) -> StoreProduct:
        item = selectors.store_product_get(merchant=self.merchant, store_product_id=item_id)
        if item is None or item.store_id != self.store.pk:
            raise NotFound("No such product in this store.")
        item.store = self.store
        return item


class ProductListApi(MerchantApi):
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Name, brand or barcode; typo tolerant.")],
        responses=ProductOutput(many=True),
        summary="Your wholesaler's catalog",
    )
    def get(self, request: Request, merchant_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        query = request.query_params.get("q", "")
        if query:
            products: Any = selectors.product_search(merchant=self.merchant, query=query, limit=100)
        else:
            products = Product.objects.for_merchant(self.merchant).active().select_related("category").order_by("name")
        return paginated(self, request, products, ProductOutput)


class AssortmentListApi(StoreScopedApi):
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Name, brand or barcode; typo tolerant.")],
        responses=AssortmentOutput(many=True),
        summary="What a store sells, with prices and stock",
    )
    def get(self, request: Request, merchant_id: int, store_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        query = request.query_params.get("q", "")
        if query:
            items: Any = selectors.assortment_search(store=self.store, query=query, limit=100, include_inactive=True)
        else:
            items = StoreProduct.objects.for_store(self.store).select_related("product", "store").order_by("pk")
        for item in items if isinstance(items, list) else []:
            item.store = self.store
        return paginated(self, request, items, AssortmentOutput)


class AssortmentDetailApi(StoreScopedApi):
    @extend_schema(responses=AssortmentOutput, summary="One product of a store")
    def get(self, request: Request, merchant_id: int, store_id: int, item_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        return Response(AssortmentOutput(self.item(item_id)).data)


class PriceSetApi(StoreScopedApi):
    permission = "manage_catalog"

    class PriceInput(Serializer):
        price = serializers.CharField(help_text="A decimal amount in the store's currency, e.g. '2.49'.")

    @extend_schema(
        request=PriceInput, responses=AssortmentOutput, summary="Change a store price (kept in the price history)"
    )
    def post(self, request: Request, merchant_id: int, store_id: int, item_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        data = self.PriceInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = self.item(item_id)
        try:
            price = parse_amount(data.validated_data["price"], self.store.currency)
        except AmountError as error:
            raise serializers.ValidationError({"price": [str(error)]}) from error
        price_set(merchant=self.merchant, store_product_id=item.pk, price=price, changed_by=request.user)  # type: ignore[arg-type]
        return Response(AssortmentOutput(self.item(item_id)).data)


class StockListApi(StoreScopedApi):
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["low", "negative"], description="Only low or below-zero stock.")
        ],
        responses=AssortmentOutput(many=True),
        summary="Stock levels of a store",
    )
    def get(self, request: Request, merchant_id: int, store_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        status_filter = request.query_params.get("status", "")
        if status_filter not in ("", "low", "negative"):
            raise serializers.ValidationError({"status": ["Use low or negative."]})
        items = selectors.stock_list(store=self.store, status=status_filter).select_related("store")
        return paginated(self, request, items, AssortmentOutput)


class MovementListApi(StoreScopedApi):
    pagination_class = Pagination

    @extend_schema(responses=MovementOutput(many=True), summary="A product's stock movements, newest first")
    def get(self, request: Request, merchant_id: int, store_id: int, item_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        item = self.item(item_id)
        return paginated(
            self, request, selectors.movement_list(merchant=self.merchant, store_product=item), MovementOutput
        )


class AdjustmentCreateApi(StoreScopedApi):
    permission = "manage_stock"

    class AdjustmentInput(Serializer):
        item_id = serializers.IntegerField()
        quantity = serializers.IntegerField(help_text="Signed; negative removes stock.")
        reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
        note = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(request=AdjustmentInput, responses={201: MovementOutput}, summary="Adjust stock with a reason")
    def post(self, request: Request, merchant_id: int, store_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        data = self.AdjustmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = self.item(data.validated_data["item_id"])
        movement = stock_adjust(
            merchant=self.merchant,
            store_product_id=item.pk,
            quantity=data.validated_data["quantity"],
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            created_by=request.user,  # type: ignore[arg-type]
        )
        return Response(MovementOutput(movement).data, status=status.HTTP_201_CREATED)


class CountOutput(ModelSerializer[CountSession]):
    class Meta:
        model = CountSession
        fields = ["id", "status", "note", "started_at", "closed_at"]


class CountCreateApi(StoreScopedApi):
    permission = "sell"

    class CountInput(Serializer):
        note = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(request=CountInput, responses={201: CountOutput}, summary="Start a stock count")
    def post(self, request: Request, merchant_id: int, store_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        data = self.CountInput(data=request.data)
        data.is_valid(raise_exception=True)
        session = count_session_start(
            merchant=self.merchant,
            store=self.store,
            started_by=cast(User, request.user),
            note=data.validated_data["note"],
        )
        return Response(CountOutput(session).data, status=status.HTTP_201_CREATED)


class CountLineSetApi(StoreScopedApi):
    permission = "sell"

    class CountLineInput(Serializer):
        code = serializers.CharField(required=False, help_text="A barcode or label code; or give item_id.")
        item_id = serializers.IntegerField(required=False)
        counted = serializers.IntegerField(min_value=0)

    class CountLineOutput(Serializer):
        item_id = serializers.IntegerField(source="store_product_id")
        counted = serializers.IntegerField()

    @extend_schema(
        request=CountLineInput, responses=CountLineOutput, summary="Record what is on the shelf of one product"
    )
    def post(self, request: Request, merchant_id: int, store_id: int, count_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        data = self.CountLineInput(data=request.data)
        data.is_valid(raise_exception=True)
        if "item_id" in data.validated_data:
            item = self.item(data.validated_data["item_id"])
        elif "code" in data.validated_data:
            try:
                item = selectors.store_product_by_code(store=self.store, code=data.validated_data["code"]).store_product
            except selectors.LookupError_ as error:
                raise serializers.ValidationError({"code": [str(error)]}) from error
        else:
            raise serializers.ValidationError({"code": ["Give a code or an item_id."]})
        if not CountSession.objects.for_store(self.store).filter(pk=count_id).exists():
            raise NotFound("No such count in this store.")
        line = count_line_set(
            merchant=self.merchant,
            session_id=count_id,
            store_product_id=item.pk,
            counted=data.validated_data["counted"],
        )
        return Response(self.CountLineOutput(line).data)


class CountCloseApi(StoreScopedApi):
    permission = "manage_stock"

    @extend_schema(request=None, responses=MovementOutput(many=True), summary="Close a count and book its differences")
    def post(self, request: Request, merchant_id: int, store_id: int, count_id: int) -> Response:  # noqa: ARG002 - DRF passes the URL kwargs by name
        if not CountSession.objects.for_store(self.store).filter(pk=count_id).exists():
            raise NotFound("No such count in this store.")
        user: User = request.user  # type: ignore[assignment]
        movements = count_session_close(merchant=self.merchant, session_id=count_id, closed_by=user)
        return Response(MovementOutput(movements, many=True).data)
