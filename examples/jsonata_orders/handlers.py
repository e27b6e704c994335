"""Lambda handlers for the JSONata order example.

Each function is deployable as an AWS Lambda handler (`handler(event, context)`); the
payment provider is simulated. Money is computed with `Decimal` and returned as JSON numbers
with two decimal places.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# Card tokens the (simulated) payment provider declines, as Stripe's test tokens do.
DECLINED_TOKENS = {"tok_chargeDeclined", "tok_chargeDeclinedInsufficientFunds"}
# The provider answers "busy" to the first attempt for each idempotency key.
_SEEN_KEYS: set[str] = set()


class ProviderBusy(Exception):
    """The payment provider is overloaded (HTTP 503); worth retrying."""


class PaymentDeclined(Exception):
    """The card issuer declined the charge; retrying will not help."""


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def price_line(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One Map iteration: quantity x unit price, less the line's discount."""
    gross = Decimal(str(event["unitPrice"])) * event["quantity"]
    discount = (gross * Decimal(str(event["discountPercent"])) / 100).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    return {
        "lineNumber": event["lineNumber"],
        "sku": event["sku"],
        "lineTotal": _money(gross - discount),
    }


def charge_card(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Charge the order total; busy on the first attempt, declined for declined tokens."""
    key = event["idempotencyKey"]
    if key not in _SEEN_KEYS:
        _SEEN_KEYS.add(key)
        raise ProviderBusy("503 Service Unavailable: try again")
    if event["token"] in DECLINED_TOKENS:
        raise PaymentDeclined(
            f"the issuer declined {event['amount']:.2f} {event['currency']}"
        )
    digest = hashlib.sha256(f"{event['orderId']}|{key}".encode()).hexdigest()
    return {"chargeId": f"ch_{digest[:12]}", "amount": event["amount"]}
