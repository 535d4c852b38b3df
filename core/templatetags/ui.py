"""Components that repeat across pages: a status badge read from the model's choices."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

TONES = ("success", "warning", "danger", "info", "neutral")


@register.inclusion_tag("components/badge.html")
def status_badge(obj: Any, field: str = "status") -> dict[str, str]:
    """``{% status_badge order "state" %}``: the field's display label, in the tone the model gives its value.

    A model names its tones in ``BADGE_TONES = {"state": {"draft": "warning", ...}}``; a value it
    does not name is neutral.
    """
    value = getattr(obj, field)
    tone = getattr(type(obj), "BADGE_TONES", {}).get(field, {}).get(value, "neutral")
    if tone not in TONES:
        raise template.TemplateSyntaxError(
            f"{type(obj).__name__}.BADGE_TONES gives {value!r} the unknown tone {tone!r}"
        )
    return {"label": str(getattr(obj, f"get_{field}_display")()), "tone": tone}
