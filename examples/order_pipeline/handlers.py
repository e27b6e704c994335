"""Lambda handlers for the order-pipeline example.

Each function is deployable as an AWS Lambda handler (`handler(event, context)`); the
warehouse, payment and e-mail services they would call are simulated here. Money is
computed with `Decimal` and returned as JSON numbers with two decimal places.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# The warehouse API throttles bursts: the first attempts of every reservation get HTTP 429.
WAREHOUSE_BUSY_ATTEMPTS = 2

# Flat shipping per destination country; orders at or above the threshold ship free.
SHIPPING = {"US": Decimal("7.95"), "CA": Decimal("12.50")}
FREE_SHIPPING_FROM = Decimal("250.00")

# Card tokens the (simulated) payment provider declines, as Stripe's test tokens do.
DECLINED_TOKENS = {"tok_chargeDeclined", "tok_chargeDeclinedInsufficientFunds"}


class InvalidOrder(Exception):
    """The order is missing data or has impossible quantities or prices."""


class WarehouseBusy(Exception):
    """The warehouse API is throttling (HTTP 429); worth retrying."""


class PaymentDeclined(Exception):
    """The card issuer declined the charge; retrying will not help."""


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _short_id(prefix: str, *parts: Any) -> str:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}_{digest[:12]}"


def validate_order(event: dict[str, Any], context: Any) -> None:
    """Reject orders that cannot be fulfilled; returns nothing when the order is fine."""
    for field in ("orderId", "customer", "currency", "lines", "payment", "shippingAddress"):
        if field not in event:
            raise InvalidOrder(f"order is missing '{field}'")
    if not event["lines"]:
        raise InvalidOrder(f"order {event['orderId']} has no lines")
    for number, line in enumerate(event["lines"], start=1):
        if not isinstance(line.get("quantity"), int) or line["quantity"] < 1:
            raise InvalidOrder(f"line {number} ({line.get('sku')}) has quantity "
                               f"{line.get('quantity')!r}; expected a positive integer")
        if Decimal(str(line.get("unitPrice", -1))) < 0:
            raise InvalidOrder(f"line {number} ({line.get('sku')}) has no valid unitPrice")


def price_line(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One Map iteration: quantity x unit price, less the line's discount."""
    line = event["line"]
    gross = Decimal(str(line["unitPrice"])) * line["quantity"]
    discount = (gross * Decimal(str(line.get("discountPercent", 0))) / 100).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    return {
        "lineNumber": event["lineNumber"] + 1,
        "sku": line["sku"],
        "quantity": line["quantity"],
        "gross": _money(gross),
        "discount": _money(discount),
        "lineTotal": _money(gross - discount),
    }


def total_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Subtotal of the priced lines plus shipping."""
    subtotal = sum((Decimal(str(line["lineTotal"])) for line in event["pricedLines"]),
                   Decimal(0))
    shipping = Decimal(0) if subtotal >= FREE_SHIPPING_FROM else SHIPPING.get(
        event["shippingCountry"], Decimal("24.00"))
    return {
        "subtotal": _money(subtotal),
        "shipping": _money(shipping),
        "total": _money(subtotal + shipping),
        "currency": event["currency"],
    }


def reserve_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reserve stock for every line; throttled (WarehouseBusy) on the first attempts."""
    if event["attempt"] < WAREHOUSE_BUSY_ATTEMPTS:
        raise WarehouseBusy(f"{event['warehouse']}: 429 Too Many Requests "
                            f"(attempt {event['attempt'] + 1})")
    return {
        "reservationId": _short_id("rsv", event["orderId"], event["warehouse"]),
        "warehouse": event["warehouse"],
        "units": sum(line["quantity"] for line in event["lines"]),
        "attempts": event["attempt"] + 1,
    }


def charge_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Charge the order total to the customer's card."""
    payment = event["payment"]
    if payment["token"] in DECLINED_TOKENS:
        raise PaymentDeclined(f"card ending {payment['last4']} was declined by the issuer "
                              f"(order {event['orderId']}, {event['amount']:.2f} "
                              f"{event['currency']})")
    return {
        "chargeId": _short_id("ch", event["orderId"], payment["token"], event["amount"]),
        "amount": event["amount"],
        "currency": event["currency"],
        "card": f"{payment['brand']} ****{payment['last4']}",
    }


def confirm_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """E-mail the receipt; the execution's output is the confirmation."""
    return {
        "orderId": event["orderId"],
        "status": "CONFIRMED",
        "subtotal": event["totals"]["subtotal"],
        "shipping": event["totals"]["shipping"],
        "total": event["totals"]["total"],
        "currency": event["currency"],
        "reservationId": event["reservationId"],
        "chargeId": event["chargeId"],
        "receiptSentTo": event["email"],
    }


def release_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Compensation: release whatever was reserved for the order (safe to repeat)."""
    return {
        "releaseId": _short_id("rel", event["orderId"], event["warehouse"]),
        "orderId": event["orderId"],
        "status": "RELEASED",
    }


def notify_customer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Tell the customer the order could not be completed, and why."""
    return {
        "messageId": _short_id("msg", event["orderId"], event["reason"]),
        "to": event["email"],
        "template": "order-not-completed",
        "reason": event["reason"],
    }
