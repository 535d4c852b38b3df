"""Template helpers of the camera pages and the shopper's privacy notice."""

from __future__ import annotations

from django import template

from merchants.models import Store
from merchants.tenancy import merchant_context
from sensing.models import Slot
from sensing.selectors import cameras_for_store

register = template.Library()


@register.filter
def svg_points(polygon: list[list[float]]) -> str:
    """A polygon as the points attribute of an SVG <polygon>."""
    return " ".join(f"{x:g},{y:g}" for x, y in polygon)


@register.filter
def slot_level(slot: Slot) -> str:
    """The slot map's colour class: wrong product, empty, low (a third or less) or stocked."""
    if slot.is_wrong_product:
        return "slot-wrong"
    if slot.units == 0:
        return "slot-empty"
    if slot.units * 3 <= slot.capacity:
        return "slot-low"
    return "slot-stocked"


@register.filter
def fill_opacity(slot: Slot) -> str:
    """How strongly the slot is tinted: its share of capacity on the shelf, at least a trace."""
    return f"{max(0.15, min(1.0, slot.units / slot.capacity)) * 0.55:.2f}"


@register.filter
def label_x(polygon: list[list[float]]) -> str:
    """Where a slot's name is written: just inside the polygon's left edge..."""
    return f"{min(p[0] for p in polygon) + 6:g}"


@register.filter
def label_y(polygon: list[list[float]]) -> str:
    """...and just below its top edge."""
    return f"{min(p[1] for p in polygon) + 22:g}"


@register.simple_tag
def store_cameras(store: Store) -> list[dict[str, object]]:
    """The store's cameras with purpose and retention, read inside the store's merchant context."""
    with merchant_context(store.merchant_id):
        return cameras_for_store(store=store)
