"""Camera pages of the dashboard: cameras and health, calibration, the live slot map, events, review, alerts.

Pictures (reference, evidence crops) are served through views that check the merchant, never as
public media URLs: they show the inside of a shop.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.http import MerchantRequest, error_message, is_partial, render_page
from merchants import zones
from merchants.access import PERMISSION_MESSAGES, merchant_view
from merchants.selectors import store_list
from sensing import selectors
from sensing.forms import CalibrationForm, CameraRegisterForm, CameraSettingsForm, slots_read
from sensing.models import Camera, ShelfEvent
from sensing.services import cameras as camera_services
from sensing.services import review as review_services


def _section(request: MerchantRequest) -> None:
    request.dashboard_section = "cameras"


def _camera_rows(request: MerchantRequest) -> list[dict[str, object]]:
    rows = []
    for camera in selectors.camera_list(merchant=request.merchant):
        cursor = getattr(camera, "cursor", None)
        health = cursor.health if cursor is not None else {}
        rows.append(
            {
                "camera": camera,
                "is_online": selectors.camera_is_online(camera),
                "problems": sorted(k for k, v in health.items() if v),
                "processed_frames": cursor.processed_frames if cursor is not None else 0,
                "processed_at": cursor.processed_at if cursor is not None else None,
            }
        )
    return rows


@merchant_view()
def cameras(request: MerchantRequest) -> HttpResponse:
    """The cameras with their health; owners and managers register new ones here (token shown once)."""
    _section(request)
    merchant = request.merchant
    may_manage = request.membership.has_permission("manage_devices")
    form = CameraRegisterForm(request.POST or None, stores=store_list(merchant=merchant)) if may_manage else None
    new_token = None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(PERMISSION_MESSAGES["manage_devices"])
        if form.is_valid():
            try:
                camera, new_token = camera_services.camera_register(
                    merchant=merchant,
                    store_id=form.cleaned_data["store"].pk,
                    name=form.cleaned_data["name"],
                    purpose=form.cleaned_data["purpose"],
                    retention_hours=form.cleaned_data["retention_hours"],
                    created_by=request.user,
                )
            except ValidationError as error:
                messages.error(request, error_message(error))
                status = 400
            else:
                messages.success(request, f"{camera.name} registered. Copy its token now: it is shown only once.")
                form = CameraRegisterForm(stores=store_list(merchant=merchant))
        else:
            status = 400
    context = {
        "rows": _camera_rows(request),
        "form": form,
        "new_token": new_token,
        "camera_command": (
            f"manage.py camera_agent --source 0 --server {request.scheme}://{request.get_host()} --token {new_token}"
            if new_token
            else ""
        ),
        "review_count": len(selectors.review_queue(merchant=merchant)),
        "open_alerts": selectors.alert_list(merchant=merchant, is_active=True),
    }
    return render_page(request, "dashboard/sensing/cameras.html", context, partial="health", status=status)


@merchant_view()
def camera_detail(request: MerchantRequest, camera_id: int) -> HttpResponse:
    """One camera: the live slot map over its reference, health, events and alerts (htmx refreshes the map)."""
    _section(request)
    camera = selectors.camera_get(merchant=request.merchant, camera_id=camera_id)
    form = CameraSettingsForm(initial={"purpose": camera.purpose, "retention_hours": camera.retention_hours})
    return render_page(request, "dashboard/sensing/camera.html", _camera_context(request, camera, form), partial="live")


def _camera_context(request: MerchantRequest, camera: Camera, settings_form: CameraSettingsForm) -> dict[str, object]:
    merchant = request.merchant
    zones.activate_store(camera.store)
    return {
        "camera": camera,
        "cursor": getattr(camera, "cursor", None),
        "is_online": selectors.camera_is_online(camera),
        "slots": list(selectors.slot_list(merchant=merchant, camera=camera)),
        "events": selectors.event_list(merchant=merchant, camera=camera, limit=30),
        "alerts": selectors.alert_list(merchant=merchant, camera=camera),
        "settings_form": settings_form,
    }


@require_POST
@merchant_view("manage_devices")
def camera_settings(request: MerchantRequest, camera_id: int) -> HttpResponse:
    """Save what shoppers are told about a camera and how long it keeps pictures (for its whole store if asked)."""
    merchant = request.merchant
    camera = selectors.camera_get(merchant=merchant, camera_id=camera_id)
    form = CameraSettingsForm(request.POST)
    if form.is_valid():
        try:
            camera_services.camera_settings_save(
                merchant=merchant,
                camera_id=camera.pk,
                purpose=form.cleaned_data["purpose"],
                retention_hours=form.cleaned_data["retention_hours"],
                is_for_store=form.cleaned_data["apply_to_store"],
            )
        except ValidationError as error:
            messages.error(request, error_message(error))
        else:
            messages.success(request, "Saved. Shoppers see the new purpose and retention at the entrance page.")
            return redirect("sensing:camera_detail", slug=merchant.slug, camera_id=camera.pk)
    else:
        messages.error(request, "; ".join(str(m) for errors in form.errors.values() for m in errors))
    _section(request)
    context = _camera_context(request, camera, form)
    return render(request, "dashboard/sensing/camera.html", context, status=400)


@merchant_view("manage_devices")
def camera_calibrate(request: MerchantRequest, camera_id: int) -> HttpResponse:
    """Upload or pick a reference picture, draw slot polygons on it (calibrate.js), link products."""
    _section(request)
    merchant = request.merchant
    camera = selectors.camera_get(merchant=merchant, camera_id=camera_id)
    zones.activate_store(camera.store)
    frames = selectors.frames_for_reference(merchant=merchant, camera=camera)
    form = CalibrationForm(request.POST or None, request.FILES or None, frames=frames)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            reference = form.cleaned_data["reference"]
            picked = form.cleaned_data["reference_frame"]
            try:
                camera_services.camera_calibrate(
                    merchant=merchant,
                    camera_id=camera.pk,
                    slots=form.cleaned_data["slots"],
                    reference=reference.read() if reference else None,
                    reference_frame_id=picked.pk if picked and not reference else None,
                )
            except ValidationError as error:
                messages.error(request, error_message(error))
                status = 400
            else:
                messages.success(request, "Calibration saved. The camera's next frames are read against it.")
                return redirect("sensing:camera_detail", slug=merchant.slug, camera_id=camera.pk)
        else:
            status = 400
    products = selectors.slot_products(merchant=merchant, camera=camera)
    slots = [
        {
            "key": s.key,
            "store_product": s.store_product_id,
            "polygon": s.polygon,
            "capacity": s.capacity,
            "units": s.units,
        }
        for s in selectors.slot_list(merchant=merchant, camera=camera)
    ]
    context = {
        "camera": camera,
        "form": form,
        "frames": frames,
        "products": [{"id": p.pk, "name": p.name} for p in products],
        "slots_json": _posted_slots(form.data.get("slots", "")) if form.is_bound else slots,
    }
    return render(request, "dashboard/sensing/calibrate.html", context, status=status)


def _posted_slots(raw: str) -> list[object]:
    """What the owner drew, handed back to calibrate.js after a refused save (so nothing is redrawn)."""
    return slots_read(raw or "[]") or []


# The event feed and the ended alerts show the latest this many, and say so when there are more.
FEED_SHOWN = 100


@merchant_view()
def events(request: MerchantRequest) -> HttpResponse:
    """The shelf-event feed of every camera, newest first, with before/after crops."""
    _section(request)
    context = {"events": selectors.event_list(merchant=request.merchant, limit=FEED_SHOWN), "shown": FEED_SHOWN}
    return render_page(request, "dashboard/sensing/events.html", context, partial="feed")


@merchant_view()
def review(request: MerchantRequest) -> HttpResponse:
    """Events the pipeline was unsure of, waiting for a person to confirm or reject them (one or many at once)."""
    _section(request)
    return _review_page(request)


def _review_page(
    request: MerchantRequest, *, status: int = 200, selected: frozenset[int] = frozenset()
) -> HttpResponse:
    context = {"events": selectors.review_queue(merchant=request.merchant), "selected": selected}
    return render(request, "dashboard/sensing/review.html", context, status=status)


@require_POST
@merchant_view("manage_stock")
def event_review(request: MerchantRequest, event_id: int) -> HttpResponse:
    """Confirm or reject one event of the review queue: htmx swaps the event for the decision, a form redirects."""
    merchant = request.merchant
    event = selectors.shelf_event_get(merchant=merchant, event_id=event_id)
    decision = request.POST.get("decision")
    if decision not in ("confirm", "reject"):
        messages.error(request, "Choose confirm or reject.")
        _section(request)
        return _review_page(request, status=400)
    event = review_services.shelf_event_review(
        merchant=merchant, event_id=event.pk, user=request.user, is_confirmed=decision == "confirm"
    )
    if is_partial(request):
        return render(request, "dashboard/sensing/review.html#decided", {"event": event})
    messages.success(request, f"Event {event.get_review_display().lower()}.")
    return redirect("sensing:camera_review", slug=merchant.slug)


@require_POST
@merchant_view("manage_stock")
def events_review(request: MerchantRequest) -> HttpResponse:
    """Confirm or reject every ticked event of the review queue in one go: all of them or none."""
    _section(request)
    merchant = request.merchant
    decision = request.POST.get("decision")
    raw = request.POST.getlist("event")
    if decision not in ("confirm", "reject") or not all(value.isdigit() for value in raw):
        messages.error(request, "Tick the events and choose confirm or reject.")
        return _review_page(request, status=400)
    ids = [int(value) for value in raw]
    try:
        decided = review_services.shelf_events_review(
            merchant=merchant, event_ids=ids, user=request.user, is_confirmed=decision == "confirm"
        )
    except ShelfEvent.DoesNotExist as error:
        raise Http404("No such event.") from error
    except ValidationError as error:
        messages.error(request, error_message(error))
        # Refused because someone decided first (409), or nothing was ticked (400); the ticks stay.
        status = 400 if not ids or len(set(ids)) > review_services.BULK_MAX else 409
        return _review_page(request, status=status, selected=frozenset(ids))
    verb = "Confirmed" if decision == "confirm" else "Rejected"
    if decided:
        messages.success(request, f"{verb} {decided} event{'s' if decided != 1 else ''}.")
    else:
        messages.info(request, f"Nothing left to decide: those events were already {verb.lower()}.")
    return redirect("sensing:camera_review", slug=merchant.slug)


@merchant_view()
def alerts(request: MerchantRequest) -> HttpResponse:
    """Open alerts of every camera, and those that ended, newest first."""
    _section(request)
    merchant = request.merchant
    return render(
        request,
        "dashboard/sensing/alerts.html",
        {
            "open_alerts": selectors.alert_list(merchant=merchant, is_active=True),
            "closed_alerts": selectors.alert_list(merchant=merchant, is_active=False, limit=FEED_SHOWN),
            "shown": FEED_SHOWN,
        },
    )


def _picture(field: object) -> FileResponse:
    """A stored picture as a private JPEG response; 404 when it is gone."""
    if not field:
        raise Http404("No such picture.")
    response = FileResponse(field.open("rb"), content_type="image/jpeg")  # type: ignore[attr-defined]
    # Pictures of the inside of a shop: never kept by shared caches.
    response["Cache-Control"] = "private, max-age=300"
    return response


@merchant_view()
def camera_reference(request: MerchantRequest, camera_id: int) -> FileResponse:
    """The camera's calibration reference picture."""
    camera: Camera = selectors.camera_get(merchant=request.merchant, camera_id=camera_id)
    return _picture(camera.reference_image)


@merchant_view()
def event_crop(request: MerchantRequest, event_id: int, which: str) -> FileResponse:
    """An event's before or after crop."""
    event: ShelfEvent = selectors.shelf_event_get(merchant=request.merchant, event_id=event_id)
    if which not in ("before", "after"):
        raise Http404("No such picture.")
    return _picture(event.before_crop if which == "before" else event.after_crop)


@merchant_view("manage_devices")
def frame_picture(request: MerchantRequest, frame_id: int) -> FileResponse:
    """A stored (redacted) frame, for picking a calibration reference."""
    return _picture(selectors.reference_frame_get(merchant=request.merchant, frame_id=frame_id).image)
