from django.urls import path

from catalog import api

store = "merchants/<int:merchant_id>/stores/<int:store_id>"

urlpatterns = [
    path("merchants/<int:merchant_id>/products/", api.ProductListApi.as_view(), name="api_product_list"),
    path(f"{store}/assortment/", api.AssortmentListApi.as_view(), name="api_assortment_list"),
    path(f"{store}/assortment/<int:item_id>/", api.AssortmentDetailApi.as_view(), name="api_assortment_detail"),
    path(f"{store}/assortment/<int:item_id>/price/", api.PriceSetApi.as_view(), name="api_price_set"),
    path(f"{store}/assortment/<int:item_id>/movements/", api.MovementListApi.as_view(), name="api_movement_list"),
    path(f"{store}/stock/", api.StockListApi.as_view(), name="api_stock_list"),
    path(f"{store}/adjustments/", api.AdjustmentCreateApi.as_view(), name="api_adjustment_create"),
    path(f"{store}/counts/", api.CountCreateApi.as_view(), name="api_count_create"),
    path(f"{store}/counts/<int:count_id>/lines/", api.CountLineSetApi.as_view(), name="api_count_line_set"),
    path(f"{store}/counts/<int:count_id>/close/", api.CountCloseApi.as_view(), name="api_count_close"),
]
