"""Catalog's pages: a product looked up or searched for by the shopper; assortment, prices, labels, stock and counts in the
dashboard; the catalog and stock API."""

from django.urls import path

from catalog import api as apis
from catalog.views import dashboard, shopper
from core.urls import audiences

app_name = "catalog"

shopper_pages = [
    path("p/<str:code>/", shopper.product_lookup, name="product_lookup"),
    path("search/", shopper.product_search, name="product_search"),
    path("scan/photo/", shopper.photo_scan, name="photo_scan"),
]

dashboard_pages = [
    path("catalog/", dashboard.catalog, name="section_catalog"),
    path("catalog/add/", dashboard.assortment_add, name="assortment_add"),
    path("catalog/local/", dashboard.local_product_add, name="local_product_add"),
    path("catalog/prices/", dashboard.prices_bulk, name="prices_bulk"),
    path("catalog/export.csv", dashboard.assortment_export, name="assortment_export"),
    path("catalog/import/", dashboard.assortment_import, name="assortment_import"),
    path("catalog/labels.pdf", dashboard.labels_view, name="labels"),
    path("catalog/poster.pdf", dashboard.poster, name="poster"),
    path("catalog/<int:item_id>/", dashboard.item_edit, name="item_edit"),
    path("stock/", dashboard.stock, name="section_stock"),
    path("stock/<int:item_id>/", dashboard.item_stock, name="item_stock"),
    path("stock/counts/", dashboard.counts, name="counts"),
    path("stock/counts/<int:session_id>/", dashboard.count_detail, name="count_detail"),
]

store = "merchants/<int:merchant_id>/stores/<int:store_id>"

api = [
    path("merchants/<int:merchant_id>/products/", apis.ProductListApi.as_view(), name="api_product_list"),
    path(f"{store}/assortment/", apis.AssortmentListApi.as_view(), name="api_assortment_list"),
    path(f"{store}/assortment/<int:item_id>/", apis.AssortmentDetailApi.as_view(), name="api_assortment_detail"),
    path(f"{store}/assortment/<int:item_id>/price/", apis.PriceSetApi.as_view(), name="api_price_set"),
    path(f"{store}/assortment/<int:item_id>/movements/", apis.MovementListApi.as_view(), name="api_movement_list"),
    path(f"{store}/stock/", apis.StockListApi.as_view(), name="api_stock_list"),
    path(f"{store}/adjustments/", apis.AdjustmentCreateApi.as_view(), name="api_adjustment_create"),
    path(f"{store}/counts/", apis.CountCreateApi.as_view(), name="api_count_create"),
    path(f"{store}/counts/<int:count_id>/lines/", apis.CountLineSetApi.as_view(), name="api_count_line_set"),
    path(f"{store}/counts/<int:count_id>/close/", apis.CountCloseApi.as_view(), name="api_count_close"),
]

urlpatterns = audiences(shopper=shopper_pages, dashboard=dashboard_pages, api=api)
