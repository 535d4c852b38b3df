"""Checkout's models: shoppers, carts and orders (``orders``), and the till (``counter``)."""

# The choices were always importable from here; callers keep doing so.
from checkout.choices import Channel, LineKind, OrderStatus, RefundMethod
from checkout.models.counter import CounterMethod, CounterPayment, CounterSale, OfflineSale, Shift
from checkout.models.orders import (
    CartLine,
    Dispute,
    ExitPass,
    Order,
    OrderLine,
    Refund,
    Shopper,
    ShopperCustomer,
    ShopperSignIn,
    Visit,
    WebhookEvent,
)

__all__ = [
    "CartLine",
    "Channel",
    "CounterMethod",
    "CounterPayment",
    "CounterSale",
    "Dispute",
    "ExitPass",
    "LineKind",
    "OfflineSale",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Refund",
    "RefundMethod",
    "Shift",
    "Shopper",
    "ShopperCustomer",
    "ShopperSignIn",
    "Visit",
    "WebhookEvent",
]
