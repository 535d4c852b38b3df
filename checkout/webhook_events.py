"""The parts of a Stripe event that Lingshou reads, checked before anything is recorded or applied.

A signature proves who sent an event, not that its body has the shape we read: ``data`` may be
null, metadata may carry an order id that is no number. ``event_read`` turns the event into typed
values or refuses it with ``EventPayloadError`` naming what is wrong, so the webhook answers 400
with that reason and the event is not marked processed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.inputs import BIGINT, INTEGER

_WHOLE = re.compile(r"-?[0-9]{1,20}")


class EventPayloadError(ValueError):
    """A signed event whose body Lingshou cannot apply; the message says which part is wrong."""


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    object: dict[str, Any]  # data.object: a PaymentIntent, a Charge or a Dispute
    metadata: dict[str, str]
    merchant_id: int | None  # metadata.merchant_id, when given
    order_id: int | None  # metadata.order_id, when given


def _whole(value: object, name: str, low: int, high: int) -> int:
    """A number of the event (an integer, or digits as Stripe's metadata strings hold them) within its column."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise EventPayloadError(f"{name} is not a whole number.")
    text = str(value).strip()
    if not _WHOLE.fullmatch(text):
        raise EventPayloadError(f"{name} {text[:30]!r} is not a whole number.")
    number = int(text)
    if not low <= number <= high:
        raise EventPayloadError(f"{name} {number} is out of range.")
    return number


def event_read(event: dict[str, Any]) -> StripeEvent:
    """The event's id, type, object and ids as Lingshou reads them; EventPayloadError when one has the wrong shape."""
    event_id, kind = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 100:
        raise EventPayloadError("The event has no id.")
    if not isinstance(kind, str) or not kind:
        raise EventPayloadError("The event has no type.")
    data = event.get("data")
    if not isinstance(data, dict):
        raise EventPayloadError("The event's data is not an object.")
    obj = data.get("object")
    if not isinstance(obj, dict):
        raise EventPayloadError("The event's data.object is not an object.")
    if kind.startswith(("payment_intent.", "charge.")) and not (isinstance(obj.get("id"), str) and obj["id"]):
        raise EventPayloadError("The event's object has no id.")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise EventPayloadError("The object's metadata is not an object.")
    ids = {
        key: _whole(metadata[key], f"metadata.{key}", 1, BIGINT[1]) if metadata.get(key) else None
        for key in ("merchant_id", "order_id")
    }
    for amount in ("amount", "amount_received", "amount_refunded"):
        if obj.get(amount) is not None:
            _whole(obj[amount], amount, 0, INTEGER[1])
    return StripeEvent(
        id=event_id,
        type=kind,
        object=obj,
        metadata={str(k): str(v) for k, v in metadata.items()},
        merchant_id=ids["merchant_id"],
        order_id=ids["order_id"],
    )
