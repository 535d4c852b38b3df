"""The floor of each hot path: a minimal Django view that runs only the SQL the path cannot do without.

Mounted by bench/floor_urls.py alone (the benches' settings, bench/floor_settings.py), never by
production's URL configuration. Each view runs behind the same middleware on the same gunicorn as
the real path, in one transaction, under the same row-level security: it sets the merchant with one
``set_config(..., true)`` (SET LOCAL) before its own statements, so a policy still hides every other
merchant's rows. What a floor leaves out is what the real path adds on top of the necessary SQL
(tenancy bookkeeping, session reads, re-reads, side records): the ratio of the two is that overhead.

- add to cart: the cart line's upsert (bench/floor_views._CART_ADD is checkout.services.carts' own
  statement). The visit is kept in a signed cookie instead of the session; a new visit inserts its row.
- product page: the store product by GTIN with its product, rendered with the real template and
  context. The lookup the real page records (a write and a task) is not a read, so not in the floor.
- webhook: the signature checked by the real parser, the event id claimed, the order marked paid by
  compare-and-swap and its sale movements written. No exit pass, cart take-out or analytics task.
- frame ingest: the device by its token hash, the JPEG checked and stored, its row inserted and
  the camera's processing task enqueued after commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core import signing
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from catalog import presentation
from checkout import gateway
from checkout.services.carts import _CART_ADD, MAX_LINE_QUANTITY
from checkout.webhook_events import EventPayloadError, event_read
from merchants.models import Store
from merchants.selectors import store_get_by_code

VISIT_COOKIE = "floor_visit"
_SALT = "bench.floor.visit"


def _tenant(cursor: Any, merchant_id: int, *, lookup_key: str = "") -> None:
    """The transaction's merchant (and the one row a public key reveals), set once, as tenancy sets it."""
    cursor.execute(
        "SELECT set_config('app.merchant_id', %s, true), set_config('app.lookup_key', %s, true)",
        [str(merchant_id), lookup_key],
    )


@require_GET
def product_page(request: HttpRequest, store_code: str, code: str) -> HttpResponse:
    """The product card by GTIN: one read of the store product and its product, the real template."""
    from catalog.models import StoreProduct

    store: Store = store_get_by_code(code=store_code)  # cached in the process, as on the real page
    with transaction.atomic(), connection.cursor() as cursor:
        _tenant(cursor, store.merchant_id)
        item = (
            StoreProduct.objects.select_related("product")
            .filter(
                merchant_id=store.merchant_id,
                store_id=store.pk,
                product__wholesaler_id=store.merchant.wholesaler_id,
                product__gtin=code,
            )
            .first()
        )
        if item is None:
            raise Http404("This shop does not sell a product with this code.")
        item.store = store
        context = {
            "store": store,
            "item": item,
            "price": presentation.price_text(item) + ("/kg" if item.is_sold_by_weight else ""),
            "unit_price": "" if item.is_sold_by_weight else presentation.unit_price_text(item),
            "label_code": "",
            "weight_grams": None,
            "needs_label": item.is_sold_by_weight,
            "deposit": "",
            "age_note": presentation.age_note(item),
            "in_stock": item.on_hand > 0 and item.is_active,
            "quantity": 1,
            "pack_price": "",
        }
        return render(request, "shopper/product.html", context)


@require_POST
def cart_add(request: HttpRequest, store_code: str) -> HttpResponse:
    """One unit more of a product in the cart: the upsert alone (plus the visit's row for a new visit)."""
    try:
        item_id = int(request.POST.get("item", ""))
        quantity = max(1, int(request.POST.get("quantity", "1")))
    except ValueError:
        return HttpResponseBadRequest("item and quantity are whole numbers")
    try:
        merchant_id, store_id, visit_id = (
            signing.get_cookie_signer(salt=_SALT).unsign(request.COOKIES.get(VISIT_COOKIE, "")).split(":")
        )
        known = True
    except (signing.BadSignature, ValueError):
        store = store_get_by_code(code=store_code)
        merchant_id, store_id, visit_id, known = str(store.merchant_id), str(store.pk), "", False
    with transaction.atomic(), connection.cursor() as cursor:
        _tenant(cursor, int(merchant_id))
        if not known:
            cursor.execute(
                "INSERT INTO checkout_visit (merchant_id, store_id, token, started_at, last_seen_at) "
                "VALUES (%s, %s, %s, now(), now()) RETURNING id",
                [merchant_id, store_id, uuid.uuid4()],
            )
            visit_id = str(cursor.fetchone()[0])
        cursor.execute(
            _CART_ADD,
            {
                "merchant": int(merchant_id),
                "store": int(store_id),
                "visit": int(visit_id),
                "item": item_id,
                "code": "",
                "quantity": quantity,
                "maximum": MAX_LINE_QUANTITY,
            },
        )
        found, line, _ = cursor.fetchone()
    if found is None or line is None:
        return HttpResponseBadRequest("This product is not sold here, or the line is full.")
    response = redirect("checkout:cart", store_code=store_code)
    if not known:
        value = signing.get_cookie_signer(salt=_SALT).sign(f"{merchant_id}:{store_id}:{visit_id}")
        response.set_cookie(VISIT_COOKIE, value, secure=True, httponly=True, samesite="Lax")
    return response


# The order paid once (compare-and-swap on its status, amount and currency), its products' rows locked
# in id order, on hand moved and one sale movement per product written: one statement.
_ORDER_PAID = """
WITH paid AS (
    UPDATE checkout_order SET status = 'paid', paid_at = now(), payment_intent = %(intent)s, payment_error = ''
    WHERE id = %(order)s AND merchant_id = %(merchant)s AND status IN ('pending', 'expired', 'cancelled')
      AND payment_intent IN ('', %(intent)s) AND total = %(amount)s AND currency = %(currency)s
    RETURNING id
), units AS (
    SELECT line.store_product_id AS product, SUM(line.quantity * COALESCE(line.weight_grams, 1)) AS units
    FROM checkout_orderline line JOIN paid ON line.order_id = paid.id
    WHERE line.merchant_id = %(merchant)s AND line.store_product_id IS NOT NULL
    GROUP BY line.store_product_id
), locked AS (
    SELECT item.id FROM catalog_storeproduct item JOIN units ON item.id = units.product
    WHERE item.merchant_id = %(merchant)s ORDER BY item.id FOR UPDATE OF item
), moved AS (
    UPDATE catalog_storeproduct item SET on_hand = item.on_hand - units.units
    FROM units JOIN locked ON locked.id = units.product
    WHERE item.id = units.product AND item.merchant_id = %(merchant)s
    RETURNING item.id, item.store_id, item.on_hand, units.units
), written AS (
    INSERT INTO catalog_stockmovement (merchant_id, store_id, store_product_id, kind, quantity, reason, note,
                                       reference, is_flagged_negative, on_hand_after, created_at)
    SELECT %(merchant)s, moved.store_id, moved.id, 'sale', -moved.units, '', '', %(reference)s,
           moved.on_hand < 0, moved.on_hand, now()
    FROM moved
    RETURNING is_flagged_negative
), flagged AS (
    UPDATE checkout_order SET is_oversold = true
    WHERE id = %(order)s AND merchant_id = %(merchant)s AND EXISTS (SELECT 1 FROM written WHERE is_flagged_negative)
)
SELECT count(*) FROM paid
"""


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """payment_intent.succeeded: verified, the event id claimed, the order paid with its movements, once."""
    try:
        event = gateway.webhook_event_parse(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature")
        )
        read = event_read(event)
    except (gateway.WebhookSignatureError, EventPayloadError) as error:
        return JsonResponse({"error": {"code": "bad_event", "message": str(error)}}, status=400)
    if read.type != "payment_intent.succeeded" or read.merchant_id is None or read.order_id is None:
        return JsonResponse({"error": {"code": "bad_event", "message": "Only a shopper's payment."}}, status=400)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO checkout_webhookevent (event_id, type, received_at, processed_at, summary) "
            "VALUES (%s, %s, now(), now(), '') ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            [read.id, read.type],
        )
        if cursor.fetchone() is None:
            return JsonResponse({"received": True, "applied": False})
        _tenant(cursor, read.merchant_id)
        cursor.execute(
            _ORDER_PAID,
            {
                "merchant": read.merchant_id,
                "order": read.order_id,
                "intent": str(read.object["id"]),
                "amount": int(read.object.get("amount_received") or read.object.get("amount") or 0),
                "currency": str(read.object.get("currency", "")).upper(),
                "reference": f"checkout.order:{read.order_id}",
            },
        )
        applied = cursor.fetchone()[0] == 1
    return JsonResponse({"received": True, "applied": applied})


@csrf_exempt
@require_POST
def frame_ingest(request: HttpRequest) -> HttpResponse:
    """A camera's frame: the device by its token, the JPEG checked and stored, its row, its task after commit."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils.dateparse import parse_datetime

    from merchants.services import token_hash
    from sensing.services.ingest import FrameRejected, jpeg_check
    from sensing.tasks import camera_process

    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    upload = request.FILES.get("image")
    captured_at = parse_datetime(request.POST.get("captured_at", ""))
    sequence = request.POST.get("sequence", "")
    if scheme.lower() != "device" or upload is None or captured_at is None or not sequence.isdigit():
        return JsonResponse(
            {"error": {"code": "invalid", "message": "token, sequence, captured_at, image"}}, status=400
        )
    data = upload.read()
    try:
        jpeg_check(data)
    except FrameRejected as error:
        return JsonResponse({"error": {"code": str(error.code), "message": error.messages[0]}}, status=400)
    digest = token_hash(raw)
    with transaction.atomic(), connection.cursor() as cursor:
        # The token's hash reveals its device row alone; the camera is read as the device's merchant.
        cursor.execute("SELECT set_config('app.lookup_key', %s, true)", [digest])
        cursor.execute(
            "SELECT merchant_id, id FROM merchants_device WHERE token_hash = %s AND revoked_at IS NULL", [digest]
        )
        device = cursor.fetchone()
        if device is None:
            return JsonResponse({"error": {"code": "unknown_device", "message": "Unknown device."}}, status=401)
        merchant_id, device_id = device
        _tenant(cursor, merchant_id)
        name = default_storage.save(f"floor/{device_id}/{int(sequence):012d}.jpg", ContentFile(data))
        cursor.execute(
            "INSERT INTO sensing_frame (merchant_id, camera_id, sequence, captured_at, received_at, size, image, "
            "status, flag_reason, is_evidence, is_redacted) "
            "SELECT camera.merchant_id, camera.id, %s, %s, now(), %s, %s, 'received', '', false, false "
            "FROM sensing_camera camera WHERE camera.merchant_id = %s AND camera.device_id = %s "
            "ON CONFLICT DO NOTHING RETURNING camera_id",
            [int(sequence), captured_at, len(data), name, merchant_id, device_id],
        )
        row = cursor.fetchone()
        if row is None:
            transaction.on_commit(lambda: default_storage.delete(name))
            return JsonResponse({"received": False}, status=200)
        transaction.on_commit(lambda: camera_process.delay(merchant_id, row[0]))
    return JsonResponse({"received": True, "at": timezone.now().isoformat()}, status=202)
