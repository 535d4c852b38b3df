from django.urls import path

from catalog import shop_views, views

urlpatterns = [
    path("s/<str:store_code>/p/<str:code>/", shop_views.product_lookup, name="product_lookup"),
    path("s/<str:store_code>/scan/photo/", shop_views.photo_scan, name="photo_scan"),
    path("m/<slug:slug>/catalog/", views.catalog, name="section_catalog"),
    path("m/<slug:slug>/catalog/add/", views.assortment_add, name="assortment_add"),
    path("m/<slug:slug>/catalog/local/", views.local_product_add, name="local_product_add"),
    path("m/<slug:slug>/catalog/prices/", views.prices_bulk, name="prices_bulk"),
    path("m/<slug:slug>/catalog/export.csv", views.assortment_export, name="assortment_export"),
    path("m/<slug:slug>/catalog/import/", views.assortment_import, name="assortment_import"),
    path("m/<slug:slug>/catalog/labels.pdf", views.labels_view, name="labels"),
    path("m/<slug:slug>/catalog/poster.pdf", views.poster, name="poster"),
    path("m/<slug:slug>/catalog/<int:item_id>/", views.item_edit, name="item_edit"),
    path("m/<slug:slug>/stock/", views.stock, name="section_stock"),
    path("m/<slug:slug>/stock/<int:item_id>/", views.item_stock, name="item_stock"),
    path("m/<slug:slug>/stock/counts/", views.counts, name="counts"),
    path("m/<slug:slug>/stock/counts/<int:session_id>/", views.count_detail, name="count_detail"),
]
