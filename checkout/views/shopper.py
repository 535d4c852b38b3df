"""Shopper pages: the store's welcome, scan, cart, pay, and the receipt with its exit pass."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.selectors import looks_like_code
from catalog.views.shopper import search_url
from checkout import gateway
from checkout.errors import CheckoutError
from checkout.forms import CheckoutForm
from checkout.models import CartLine, Order, OrderStatus, Visit
from checkout.receipts import cart_totals, order_totals_shown, qr_svg, receipt_order
from checkout.services import shoppers
from checkout.services.carts import MAX_LINE_QUANTITY, cart_set, visit_start
from checkout.services.carts import cart_add as cart_add_service
from checkout.services.exit_passes import exit_pass_token
from checkout.services.orders import available_units, cart_line_sold, order_cancel, order_place_or_resume
from checkout.services.payments import payment_start
from checkout.services.pricing import Sold, deposit_lines_price, order_lines_price
from core.csp import payment_element_allow, scanner_csp
from core.http import is_partial, render_page
from merchants.access import shopper_view
from merchants.models import Device, DeviceKind, Store
from merchants.tenancy import lookup_context, merchant_context, merchant_reads

logger = logging.getLogger("lingshou.checkout")

DAYS = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
]
# Stripe's test cards offered on the demo's pay page (never with live keys).
TEST_CARDS = [
    ("4242424242424242", "Visa that pays"),
    ("4000000000000002", "Card that is declined"),
]


@scanner_csp
@shopper_view
def store_landing(request: HttpRequest, store: Store) -> HttpResponse:
    """The store's welcome page: name, address, opening hours and the privacy notice naming its cameras.

    What is typed into its lookup form opens the product card when it is a code, the search when it is a name.
    """
    typed = request.GET.get("code", "").strip()
    if typed:
        if looks_like_code(typed):
            return redirect(
                "catalog:product_lookup", store_code=store.code, code=typed.replace(" ", "").replace("-", "")
            )
        return redirect(search_url(store, typed))
    with merchant_context(store.merchant_id):
        cameras = list(
            Device.objects.filter(
                merchant_id=store.merchant_id, store=store, kind=DeviceKind.CAMERA, revoked_at__isnull=True
            ).order_by("name")
        )
    hours = [(label, store.opening_hours.get(key, [])) for key, label in DAYS]
    return render(
        request,
        "shopper/store.html",
        {"store": store, "hours": hours, "cameras": cameras, "cart_count": _cart_count(request, store)},
    )


def _visit(request: HttpRequest, store: Store, *, create: bool) -> Visit | None:
    """The shopper's visit of this store, kept in their session (no account, no personal data)."""
    key = f"visit:{store.pk}"
    token = request.session.get(key)
    if token:
        # The store's merchant's rows: inside the view's own context for that merchant, only this SELECT.
        with merchant_reads(store.merchant_id):
            visit = Visit.objects.filter(token=token, store=store).first()
        if visit is not None:
            return visit
    if not create:
        return None
    visit = visit_start(store=store)
    request.session[key] = str(visit.token)
    return visit


def _cart_count(request: HttpRequest, store: Store) -> int:
    visit = _visit(request, store, create=False)
    if visit is None:
        return 0
    with merchant_context(store.merchant_id):
        return sum(CartLine.objects.of_visit(visit).values_list("quantity", flat=True))


@dataclass(frozen=True)
class CartRow:
    """One cart line as the cart shows it: priced as the order will be, with what the shop can still sell."""

    name: str
    quantity: int
    unit_price: int
    line_total: int
    item_id: int
    lookup_code: str
    available: int
    is_sold: bool  # still in the store's assortment (an owner may have taken it out meanwhile)
    code: str = ""  # a scale label's code: the label is a line of its own, priced as it reads
    deposit: int = 0  # the line's deposit (Pfand), all units
    weight_grams: int | None = None

    @property
    def less(self) -> int:
        return self.quantity - 1

    @property
    def more(self) -> int | None:
        return self.quantity + 1 if self.quantity < MAX_LINE_QUANTITY else None

    @property
    def key(self) -> str:
        """What tells the line's buttons apart from another line's (a product, or one of its labels)."""
        return f"{self.item_id}-{self.code}" if self.code else str(self.item_id)


def _cart_sold(store: Store, cart: list[CartLine]) -> list[Sold]:
    """The cart's lines as the order will sell them: a scale label priced as it reads now, or at nothing when
    it no longer reads (the order refuses it; the cart still shows the line so that it can be removed)."""
    sold = []
    for line in cart:
        entry = cart_line_sold(store, line, line.store_product)
        sold.append(
            Sold(item=line.store_product, quantity=line.quantity, code=line.code, label_price=0)
            if isinstance(entry, str)
            else entry
        )
    return sold


def _cart_context(store: Store, visit: Visit | None) -> dict[str, object]:
    """The cart's lines and totals at the store's prices of now, the figures the order will have."""
    cart: list[CartLine] = []
    left: dict[int, int] = {}
    sold: list[Sold] = []
    if visit is not None:
        with merchant_context(store.merchant_id):
            cart = list(
                CartLine.objects.of_visit(visit).select_related("store_product__product").order_by("added_at", "pk")
            )
            left = available_units(merchant_id=store.merchant_id, items=[line.store_product for line in cart])
            sold = _cart_sold(store, cart)
    priced = order_lines_price(store=store, sold=sold)
    deposits = deposit_lines_price(store=store, sold=sold, product_lines=priced)
    deposit_of = {id(line.deposit_for): line.line_total for line in deposits}
    rows = [
        CartRow(
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
            item_id=cart_line.store_product_id,
            lookup_code=cart_line.store_product.lookup_code,
            available=left[cart_line.store_product_id],
            is_sold=cart_line.store_product.is_active,
            code=cart_line.code,
            deposit=deposit_of.get(id(line), 0),
            weight_grams=line.weight_grams,
        )
        for cart_line, line in zip(cart, priced, strict=True)
    ]
    totals = cart_totals(priced + deposits, currency=store.currency, prices_include_tax=store.prices_include_tax)
    return {"store": store, "rows": rows, "totals": totals}


@shopper_view
def cart(request: HttpRequest, store: Store) -> HttpResponse:
    """The cart: steppers change quantities (htmx swaps the lines and totals; without JS the form posts), pay.

    Every price is the store's current price, computed as the order will compute it. One transaction.
    """
    with merchant_context(store.merchant_id):
        return _cart(request, store)


def _cart(request: HttpRequest, store: Store) -> HttpResponse:
    visit = _visit(request, store, create=request.method == "POST")
    status = 200
    if request.method == "POST" and visit is not None:
        item_id = request.POST.get("item", "")
        try:
            quantity = int(request.POST.get("quantity", ""))
            if not item_id.isascii() or not item_id.isdigit() or len(item_id) > 18:  # a bigint id at most
                raise CheckoutError("This product is not sold here.", code="unknown_product")
            cart_set(
                visit=visit, store_product_id=int(item_id), quantity=quantity, code=request.POST.get("code", "")[:14]
            )
        except ValueError:
            messages.error(request, "Choose a quantity as a whole number.")
            status = 400
        except ValidationError as error:
            messages.error(request, error.messages[0])
            status = 400
        if status == 200 and not is_partial(request):
            return redirect("checkout:cart", store_code=store.code)
    context = {**_cart_context(store, visit), "is_swap": is_partial(request)}
    return render_page(request, "shopper/cart.html", context, partial="cart", status=status)


@require_POST
@shopper_view
def cart_add(request: HttpRequest, store: Store) -> HttpResponse:
    """Add one (or ``quantity``) of a scanned product to the cart (one transaction: the visit, the line)."""
    try:
        with merchant_context(store.merchant_id):
            visit = _visit(request, store, create=True)
            assert visit is not None
            cart_add_service(
                visit=visit,
                store_product_id=int(request.POST.get("item", "0")),
                quantity=max(1, int(request.POST.get("quantity", "1"))),
                code=request.POST.get("code", "")[:14],
            )
    except (ValueError, ValidationError) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else "Choose a quantity as a whole number."
        messages.error(request, message)
        return redirect("checkout:store_landing", store_code=store.code)
    messages.success(request, "Added to your cart.")
    return redirect("checkout:cart", store_code=store.code)


@require_POST
@shopper_view
def checkout(request: HttpRequest, store: Store) -> HttpResponse:
    """Place the order at the store's prices, hold its units, and open the payment."""
    visit = _visit(request, store, create=False)
    if visit is None:
        messages.error(request, "Your cart is empty.")
        return redirect("checkout:cart", store_code=store.code)
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        for message in form.errors.get("email", []):
            messages.error(request, str(message))
        return render(request, "shopper/cart.html", _cart_context(store, visit), status=400)
    try:
        # A retry after Stripe did not answer takes up the order it placed (one PaymentIntent, one hold).
        order = order_place_or_resume(
            visit=visit, email=form.cleaned_data["email"], shopper=shoppers.shopper_from_request(request)
        )
        order = payment_start(order=order)
    except CheckoutError as error:
        for message in error.messages:
            messages.error(request, message)
        return render(request, "shopper/cart.html", _cart_context(store, visit), status=409)
    except gateway.GatewayError as error:
        # The order stays pending with its idempotency key: trying again never charges twice.
        messages.error(request, "Payments are not answering right now. Please try again in a minute.")
        response = render(request, "shopper/cart.html", _cart_context(store, visit), status=503)
        response["Retry-After"] = str(getattr(error, "retry_after", 60))
        return response
    return redirect("checkout:pay", store_code=store.code, token=order.token)


def _order(store: Store, token: UUID) -> Order:
    # The token reveals the order row alone; the rest is read as its merchant.
    with lookup_context(str(token)):
        found = Order.objects.filter(token=token, store_id=store.pk).values_list("pk", flat=True).first()
    if found is None:
        raise Http404("No such order.")
    with merchant_context(store.merchant_id):
        return Order.objects.select_related("store", "store__merchant").get(pk=found)


def _pay_result(request: HttpRequest, store: Store, order: Order, intent: gateway.Intent) -> HttpResponse:
    """After a server-side confirmation: the receipt page, or back to the cart after a decline."""
    if intent.status == "succeeded":
        return redirect("checkout:order_status", store_code=store.code, token=order.token)
    if intent.status in ("processing", "requires_action"):
        # The bank wants the shopper (3-D Secure) or is still deciding: the webhook settles it.
        messages.info(request, "Your bank is confirming the payment; this page updates by itself.")
        return redirect("checkout:order_status", store_code=store.code, token=order.token)
    # Declined: the order lets go of its units and the cart stays as it was; paying again places a
    # new order (a late success of this one would still be booked, never lost).
    reason = intent.last_error or "The payment did not go through."
    order_cancel(order=order, reason=reason)
    messages.error(request, f"{reason} Try again or use another card.")
    return redirect("checkout:cart", store_code=store.code)


@shopper_view
def pay(request: HttpRequest, store: Store, token: UUID) -> HttpResponse:
    """Pay an order: Stripe's Payment Element with real keys; saved cards of a signed-in shopper; test cards in test mode.

    The browser never marks anything paid: the webhook (or the reconciliation task) does.
    """
    order = _order(store, token)
    if order.status != OrderStatus.PENDING:
        return redirect("checkout:order_status", store_code=store.code, token=order.token)
    test_mode = gateway.test_cards_enabled()
    account = order.stripe_account or None
    shopper = shoppers.shopper_from_request(request)
    if shopper is not None and order.shopper_id != shopper.pk:
        shopper = None  # saved cards pay only the shopper's own orders
    cards = (
        shoppers.shopper_cards(shopper=shopper, merchant_id=order.merchant_id, stripe_account=account or "")
        if shopper is not None
        else []
    )
    unavailable: gateway.GatewayUnavailable | None = None
    if request.method == "POST":
        saved = request.POST.get("saved_card", "")
        card = request.POST.get("card", "")
        try:
            if saved and shopper is not None and saved in {known.id for known in cards}:
                customer = shoppers.shopper_customer_get(
                    shopper=shopper, merchant_id=order.merchant_id, stripe_account=account or "", create=False
                )
                assert customer is not None  # the card was listed from this customer
                intent = gateway.intent_confirm_with_saved_card(
                    intent_id=order.payment_intent, payment_method=saved, customer=customer, connected_account=account
                )
            elif test_mode and card in dict(TEST_CARDS):
                save_card = shopper is not None and shopper.saves_cards
                customer = (
                    shoppers.shopper_customer_get(
                        shopper=shopper, merchant_id=order.merchant_id, stripe_account=account or "", create=True
                    )
                    if save_card and shopper is not None
                    else None
                )
                intent = gateway.intent_confirm_with_test_card(
                    intent_id=order.payment_intent,
                    card_number=card,
                    connected_account=account,
                    customer=customer,
                    save_card=save_card,
                )
            else:
                messages.error(request, "Choose one of the cards shown.")
                intent = None
        except gateway.GatewayUnavailable as error:
            messages.error(request, "Payments are not answering right now. Please try again in a minute.")
            unavailable = error
            intent = None
        except gateway.GatewayError as error:
            messages.error(request, str(error))
            intent = None
        if intent is not None:
            return _pay_result(request, store, order, intent)
        order = _order(store, token)
    with merchant_context(order.merchant_id):
        lines = receipt_order(order.lines.all())
    element = None
    if gateway.payment_element_enabled():
        intent_now = gateway.intent_retrieve(intent_id=order.payment_intent, connected_account=account)
        element = {
            "publishable_key": gateway.publishable_key_get(),
            "client_secret": intent_now.client_secret,
            "account": account or "",
            "return_url": request.build_absolute_uri(reverse("checkout:order_status", args=[store.code, order.token])),
            "js_url": gateway.js_url_get(),
        }
    response = render(
        request,
        "shopper/pay.html",
        {
            "store": store,
            "order": order,
            "lines": lines,
            "totals": order_totals_shown(order, lines),
            "test_cards": TEST_CARDS if test_mode else [],
            "saved_cards": cards,
            "element": element,
            "shopper": shopper,
        },
        status=503 if unavailable is not None else 200,
    )
    if unavailable is not None:
        response["Retry-After"] = str(unavailable.retry_after)
    return payment_element_allow(response) if element else response


@shopper_view
def order_status(request: HttpRequest, store: Store, token: UUID) -> HttpResponse:
    """The order's state; once the webhook marked it paid: the receipt and the exit pass QR code."""
    order = _order(store, token)
    with merchant_context(order.merchant_id):
        lines = receipt_order(order.lines.all())
    pass_token = exit_pass_token(order=order) if order.status == OrderStatus.PAID else None
    context = {
        "store": store,
        "order": order,
        "lines": lines,
        "totals": order_totals_shown(order, lines),
        "exit_qr": qr_svg(pass_token) if pass_token else None,
    }
    return render_page(request, "shopper/order.html", context, partial="status")
