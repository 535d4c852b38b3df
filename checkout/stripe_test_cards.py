"""Stripe's test cards: the ready-made test PaymentMethods, and how localstripe declines (data only)."""

from __future__ import annotations

# Stripe's test cards as its ready-made test PaymentMethods: Stripe asks test code to use these
# rather than raw card numbers (https://docs.stripe.com/testing).
TEST_CARD_PAYMENT_METHODS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "4000056655665556": "pm_card_visa_debit",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "4000000000000002": "pm_card_visa_chargeDeclined",
    "4000000000009995": "pm_card_visa_chargeDeclinedInsufficientFunds",
    "4000000000009987": "pm_card_visa_chargeDeclinedLostCard",
    "4000000000009979": "pm_card_visa_chargeDeclinedStolenCard",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000000000000127": "pm_card_chargeDeclinedIncorrectCvc",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
    "4000000000000341": "pm_card_chargeCustomerFail",
    "4000002500003155": "pm_card_authenticationRequiredOnSetup",
    "4000002760003184": "pm_card_authenticationRequired",
    "4000000000003220": "pm_card_threeDSecure2Required",
}
# localstripe declines these only when attached to a customer and lets a payment succeed; its one
# generic charge-time decline is 0341, so the demo's decline cards are sent as that.
LOCALSTRIPE_CHARGE_DECLINE = "4000000000000341"
LOCALSTRIPE_DECLINES_ONLY_ON_ATTACH = frozenset(
    {
        "4000000000000002",
        "4000000000009995",
        "4000000000009987",
        "4000000000009979",
        "4000000000000069",
        "4000000000000127",
        "4000000000000119",
    }
)
