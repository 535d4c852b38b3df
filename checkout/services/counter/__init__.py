"""Counter mode: sales a clerk rings up with a USB barcode scanner, their discounts, and their payment.

The rules that keep the drawer, the orders and the ledger in agreement:
- a counter sale is an ordinary Order (channel COUNTER) without a reservation: the goods are on
  the counter, so the sale never waits for stock; selling below zero is booked and flagged by
  the ledger, as for the shopper flow;
- every change to a sale locks its order row first (``sales``), so scans that arrive together
  queue there and none is lost;
- discounts are checked against the giver's limit where they are written (``discounts``);
- paying and closing lock the shift row first, then the order (``payments``; opening and closing a
  shift: ``checkout.services.shifts``).

Prices and totals come from ``checkout.services.pricing``, the shopper flow's arithmetic; the
reads (``shift_open_get`` …) are in ``checkout.selectors.counter``. The names below are the
counter's services, whichever module holds them.
"""

from checkout.services.counter.discounts import (
    Discount,
    counter_line_discount,
    counter_line_discount_remove,
    counter_sale_discount,
    counter_sale_discount_remove,
    discount_limit,
)
from checkout.services.counter.payments import (
    cash_suggestions,
    counter_card_cancel,
    counter_card_paid,
    counter_card_start,
    counter_pay_cash,
    counter_pay_external_card,
    counter_pay_out,
)
from checkout.services.counter.sales import (
    MAX_BOTTLES_RETURNED,
    MAX_LINE_QUANTITY,
    MAX_OPEN_PRICE,
    ScanOutcome,
    bottles_return_check,
    counter_bottles_return,
    counter_line_open_price,
    counter_line_pick,
    counter_line_scan,
    counter_line_set_quantity,
    counter_line_void,
    counter_lines_scan,
    counter_sale_cancel,
    counter_sale_start,
)

__all__ = [
    "MAX_BOTTLES_RETURNED",
    "MAX_LINE_QUANTITY",
    "MAX_OPEN_PRICE",
    "Discount",
    "ScanOutcome",
    "bottles_return_check",
    "cash_suggestions",
    "counter_bottles_return",
    "counter_card_cancel",
    "counter_card_paid",
    "counter_card_start",
    "counter_line_discount",
    "counter_line_discount_remove",
    "counter_line_open_price",
    "counter_line_pick",
    "counter_line_scan",
    "counter_line_set_quantity",
    "counter_line_void",
    "counter_lines_scan",
    "counter_pay_cash",
    "counter_pay_external_card",
    "counter_pay_out",
    "counter_sale_cancel",
    "counter_sale_discount",
    "counter_sale_discount_remove",
    "counter_sale_start",
    "discount_limit",
]
