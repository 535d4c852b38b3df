"""The wholesaler's fulfilment in the Django admin: depots, store supply, orders, pick lists, invoices, claims.

Admin requests run through the audited platform bypass (merchants.middleware); each ModelAdmin is
sealed to the signed-in staff member's wholesaler (its depots) by merchants.admin_sealing, so a
wholesaler's staff neither see, pick nor act on another wholesaler's rows: list, change page,
choices, bulk actions and PDFs all start from ``get_queryset``. Every state change goes through ordering.services (CAS, atomic, kept).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.money import format_amount
from merchants import zones
from merchants.admin import StoreTimesAdmin
from merchants.admin_sealing import WholesalerScopedAdmin, WholesalerScopedInline
from ordering.admin_forms import LineForm, StoreSupplyForm
from ordering.admin_scoping import DepotFilter, actor_of, line_change_note, orders_run
from ordering.invoices import invoice_build
from ordering.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    Depot,
    DepotStock,
    OrderState,
    Promotion,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderTransition,
    StoreSupply,
)
from ordering.pdf import PickGroup, PickRow, invoice_pdf, pick_list_pdf
from ordering.querysets import PurchaseOrderQuerySet
from ordering.services.fulfilment import (
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_deliver,
    purchase_order_pick,
    purchase_order_ship,
)
from ordering.services.receiving import claim_resolve


@admin.register(Depot)
class DepotAdmin(WholesalerScopedAdmin):
    wholesaler_path = "wholesaler"
    list_display = ["name", "wholesaler", "address"]
    search_fields = ["name"]


@admin.register(Promotion)
class PromotionAdmin(WholesalerScopedAdmin):
    """Promotions the wholesaler plans: every supplied store's drafted order stocks up before they start."""

    wholesaler_path = "wholesaler"
    list_display = ["product", "starts_on", "ends_on", "expected_lift", "note"]
    list_filter = ["starts_on"]
    date_hierarchy = "starts_on"
    search_fields = ["product__name", "product__gtin"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]


@admin.register(DepotStock)
class DepotStockAdmin(WholesalerScopedAdmin):
    wholesaler_path = "depot__wholesaler"
    list_display = ["product", "depot", "on_hand", "allocated", "allocatable"]
    list_filter = [DepotFilter]
    search_fields = ["product__name", "product__gtin"]
    list_select_related = ["product", "depot"]
    raw_id_fields = ["product"]
    readonly_fields = ["allocated"]

    @admin.display(description="allocatable")
    def allocatable(self, obj: DepotStock) -> int:
        return obj.allocatable


def _supply_amount(name: str, label: str) -> Any:
    @admin.display(description=label, ordering=name)
    def column(_admin: Any, obj: StoreSupply) -> str:
        value = getattr(obj, name)
        return format_amount(value, obj.depot.wholesaler.currency) if value else "–"

    return column


@admin.register(StoreSupply)
class StoreSupplyAdmin(WholesalerScopedAdmin):
    wholesaler_path = "depot__wholesaler"
    form = StoreSupplyForm
    list_display = [
        "store", "depot", "delivery_weekdays", "cutoff_time", "lead_time_days", "route", "minimum_order",
        "free_delivery_from", "fee", "is_auto_submit",
    ]  # fmt: skip
    list_filter = [DepotFilter]
    minimum_order = _supply_amount("minimum_order_value", "minimum order")
    free_delivery_from = _supply_amount("free_delivery_threshold", "free delivery from")
    fee = _supply_amount("delivery_fee", "delivery fee")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("store", "depot__wholesaler")

    def save_model(self, request: HttpRequest, obj: StoreSupply, form: Any, change: bool) -> None:
        obj.merchant_id = obj.store.merchant_id  # the tenant of the row is the store's
        super().save_model(request, obj, form, change)


NOT_SHARED = "not shared by the shop"


def _is_shared(order: PurchaseOrder) -> bool:
    """The shop's consent, per store: its sales rate and stock are its own business unless it shares them."""
    return bool(order.store.share_with_wholesaler)


class LineInline(WholesalerScopedInline):
    """Allocation and substitution per line, while the order waits for confirmation.

    The shop's own figures on a line (stock now, and the sales rate and stock the suggestion was
    made from) show only when the store shares them with the wholesaler.
    """

    model = PurchaseOrderLine
    form = LineForm
    extra = 0
    can_delete = False
    raw_id_fields = ["substitute"]
    fields = [
        "product", "case_pack", "quantity", "allocated_quantity", "substitute", "backordered_quantity",
        "shipped_quantity", "received_quantity", "damaged_quantity", "is_over_received", "stock_at_shop",
        "reason",
    ]  # fmt: skip
    readonly_fields = [
        "product", "case_pack", "quantity", "backordered_quantity", "shipped_quantity", "received_quantity",
        "damaged_quantity", "is_over_received", "stock_at_shop", "reason",
    ]  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("order__store", "store_product", "product")

    @admin.display(description="on hand at the shop")
    def stock_at_shop(self, obj: PurchaseOrderLine) -> str:
        if not obj.pk or not _is_shared(obj.order):
            return NOT_SHARED
        return str(obj.store_product.on_hand)

    @admin.display(description="why this quantity")
    def reason(self, obj: PurchaseOrderLine) -> str:
        if not obj.pk or not _is_shared(obj.order):
            return NOT_SHARED
        return obj.explanation or "–"

    def has_add_permission(self, _request: HttpRequest, _obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and obj.state == OrderState.SUBMITTED and super().has_change_permission(request, obj)


class TransitionInline(WholesalerScopedInline):
    model = PurchaseOrderTransition
    extra = 0
    can_delete = False
    fields = ["at", "from_state", "to_state", "by", "note"]
    readonly_fields = ["at", "from_state", "to_state", "by", "note"]

    def has_add_permission(self, _request: HttpRequest, _obj: Any = None) -> bool:
        return False

    def has_change_permission(self, _request: HttpRequest, _obj: Any = None) -> bool:
        return False


ORDER_FIELDS = (
    "number",
    "store",
    "depot",
    "state",
    "delivery_date",
    "backorder_of",
    "submitted_at",
    "received_at",
    "suggestion_notes",
    "invoice",
)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(StoreTimesAdmin, WholesalerScopedAdmin):
    wholesaler_path = "depot__wholesaler"
    store_zone_path = "store__timezone"
    list_display = ["number", "store", "depot", "delivery_date", "state", "line_count", "has_claim", "submitted_at"]
    list_filter = [DepotFilter, "delivery_date", "state"]
    date_hierarchy = "delivery_date"
    search_fields = ["number", "store__name", "store__code"]
    inlines = [LineInline, TransitionInline]
    # The order itself is the shop's: the wholesaler works on its lines and, by the actions, its state.
    fields = ORDER_FIELDS
    readonly_fields = ORDER_FIELDS
    actions = ["confirm", "confirm_cancel_short", "pick_list", "mark_shipped", "mark_delivered", "cancel"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Save the lines' allocation and substitution, and keep each change in the order's history."""
        notes = [note for line_form in formset.forms if (note := line_change_note(line_form))]
        super().save_formset(request, form, formset, change)
        order = form.instance
        for note in notes:
            PurchaseOrderTransition.objects.create(
                merchant_id=order.merchant_id,
                order=order,
                from_state=order.state,
                to_state=order.state,
                by=actor_of(request),
                note=note[:300],
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Drafts are the shop's own business until submitted.
        return (
            cast(PurchaseOrderQuerySet, super().get_queryset(request))
            .sent()
            .select_related("store", "depot", "claim", "merchant")
            .annotate(lines_count=Count("lines"))
        )

    def has_add_permission(self, _request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, _request: HttpRequest, _obj: Any = None) -> bool:
        return False

    @admin.display(description="lines", ordering="lines_count")
    def line_count(self, obj: Any) -> int:
        return int(obj.lines_count)

    @admin.display(description="claim", boolean=True)
    def has_claim(self, obj: PurchaseOrder) -> bool:
        return hasattr(obj, "claim")

    @admin.display(description="notes of the suggestion")
    def suggestion_notes(self, obj: PurchaseOrder) -> str:
        if not _is_shared(obj):
            return NOT_SHARED
        return "; ".join(str(note) for note in obj.notes) or "–"

    @admin.display(description="invoice")
    def invoice(self, obj: PurchaseOrder) -> str:
        if obj.state not in (OrderState.SHIPPED, OrderState.DELIVERED, OrderState.RECEIVED):
            return "after shipping"
        url = reverse("admin:ordering_purchaseorder_invoice", args=[obj.pk])
        return format_html('<a href="{}">Invoice PDF</a>', url)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:order_id>/invoice.pdf",
                self.admin_site.admin_view(self.invoice_view),
                name="ordering_purchaseorder_invoice",
            ),
            *super().get_urls(),
        ]

    def invoice_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """The invoice of a shipped order; another wholesaler's order is 404."""
        if not self.has_view_permission(request):
            raise Http404
        order = self.get_queryset(request).filter(pk=order_id).select_related("merchant", "depot__wholesaler").first()
        if order is None or order.state not in (OrderState.SHIPPED, OrderState.DELIVERED, OrderState.RECEIVED):
            raise Http404("No such shipped order.")
        # The day on the buyer's calendar: an invoice printed at 00:30 in Berlin is of that day.
        issued = timezone.localdate(timezone=zones.store_zone(order.store))
        document = invoice_pdf(invoice=invoice_build(order=order, issued=issued))
        response = HttpResponse(document, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="invoice-{order.number}.pdf"'
        return response

    @admin.action(description="Confirm (allocate depot stock; backorder short lines)", permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        orders_run(
            self,
            request,
            queryset,
            "Confirmed",
            lambda o: purchase_order_confirm(merchant=o.merchant, order_id=o.pk, by=actor_of(request)),
        )

    @admin.action(description="Confirm (allocate depot stock; cancel short lines)", permissions=["change"])
    def confirm_cancel_short(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        orders_run(
            self,
            request,
            queryset,
            "Confirmed",
            lambda o: purchase_order_confirm(
                merchant=o.merchant, order_id=o.pk, by=actor_of(request), backorder_short=False
            ),
        )

    @admin.action(description="Pick list PDF per delivery day and route (starts picking)", permissions=["change"])
    def pick_list(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> HttpResponse | None:
        orders = list(queryset.filter(state__in=[OrderState.CONFIRMED, OrderState.PICKING]).order_by("pk"))
        if not orders:
            self.message_user(request, "Pick lists are printed for confirmed orders; none is selected.", messages.ERROR)
            return None
        for order in orders:
            if order.state == OrderState.CONFIRMED:
                purchase_order_pick(merchant=order.merchant, order_id=order.pk, by=actor_of(request))
        routes = dict(
            StoreSupply.objects.filter(store_id__in=[o.store_id for o in orders]).values_list("store_id", "route")
        )
        rows: dict[tuple[Any, str, str], list[PickRow]] = defaultdict(list)
        lines = (
            PurchaseOrderLine.objects.filter(order__in=orders)
            .select_related("order", "order__store", "order__depot", "product", "substitute")
            .order_by("pk")
        )
        for line in lines:
            units = line.allocated_quantity or 0
            if not units:
                continue
            product = line.shipped_product
            order = line.order
            rows[(order.delivery_date, routes.get(order.store_id, ""), order.depot.name)].append(
                PickRow(
                    product=str(product),
                    gtin=product.gtin,
                    store=order.store.name,
                    order_number=order.number,
                    cases=units // max(product.case_pack, 1),
                    case_pack=product.case_pack,
                    units=units,
                )
            )
        groups = [
            PickGroup(delivery_date=day, route=route, depot=depot, rows=group)
            for (day, route, depot), group in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1]))
        ]
        response = HttpResponse(pick_list_pdf(groups=groups), content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="pick-list.pdf"'
        return response

    @admin.action(description="Mark shipped", permissions=["change"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        orders_run(
            self,
            request,
            queryset,
            "Shipped",
            lambda o: purchase_order_ship(merchant=o.merchant, order_id=o.pk, by=actor_of(request)),
        )

    @admin.action(description="Mark delivered", permissions=["change"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        orders_run(
            self,
            request,
            queryset,
            "Delivered",
            lambda o: purchase_order_deliver(merchant=o.merchant, order_id=o.pk, by=actor_of(request)),
        )

    @admin.action(description="Cancel (releases allocated stock)", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        orders_run(
            self,
            request,
            queryset,
            "Cancelled",
            lambda o: purchase_order_cancel(
                merchant=o.merchant,
                order_id=o.pk,
                by=actor_of(request),
                by_wholesaler=True,
                note="Cancelled by the wholesaler",
            ),
        )


class ClaimLineInline(WholesalerScopedInline):
    model = ClaimLine
    extra = 0
    can_delete = False
    fields = ["line", "shipped", "received", "damaged"]
    readonly_fields = ["line", "shipped", "received", "damaged"]

    def has_add_permission(self, _request: HttpRequest, _obj: Any = None) -> bool:
        return False


@admin.register(Claim)
class ClaimAdmin(StoreTimesAdmin, WholesalerScopedAdmin):
    wholesaler_path = "order__depot__wholesaler"
    store_zone_path = "order__store__timezone"
    list_display = ["order", "store", "status", "created_at", "note"]
    list_filter = ["status"]
    inlines = [ClaimLineInline]
    fields = ["order", "status", "note", "created_at", "resolution", "resolved_at"]
    readonly_fields = ["order", "status", "note", "created_at", "resolved_at"]
    actions = ["resolve"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("order", "order__store", "merchant")

    def has_add_permission(self, _request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, _request: HttpRequest, _obj: Any = None) -> bool:
        return False

    @admin.display(description="store")
    def store(self, obj: Claim) -> str:
        return obj.order.store.name

    @admin.action(description="Mark resolved", permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
        for claim in queryset.filter(status=ClaimStatus.OPEN):
            claim_resolve(
                merchant=claim.merchant,
                claim_id=claim.pk,
                resolution=claim.resolution or "Resolved",
            )
        self.message_user(request, "Claims resolved.", messages.SUCCESS)
