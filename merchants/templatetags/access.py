"""``{% if membership|may:"sensing:camera_event_review" %}``: show a control only to members its view lets in."""

from __future__ import annotations

from django import template

from merchants.access import may_open
from merchants.models import Membership

register = template.Library()


@register.filter
def may(membership: Membership | None, url_name: str) -> bool:
    """Whether the member passes the permission check of the dashboard view ``url_name``."""
    return may_open(membership, url_name)
