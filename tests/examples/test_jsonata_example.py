"""examples/jsonata_orders, run the way a user runs it: through the `stepline` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "examples" / "jsonata_orders"


def stepline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run(input_file: str, history: bool = False) -> tuple[int, dict[str, Any], list[Any]]:
    """Exit code, the `--json` result and (with `history`) the history events."""
    args = [
        "run",
        str(FOLDER / "definition.asl.json"),
        "--input",
        f"@{FOLDER / input_file}",
        "--handlers",
        str(FOLDER / "handlers.py"),
        "--json",
        "--time-scale",
        "0.01",
    ]
    if history:
        args.append("--history")
    done = stepline(*args)
    assert done.stdout, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()] if history else []
    return done.returncode, json.loads(done.stdout), events


def test_the_definition_is_valid_jsonata() -> None:
    done = stepline("validate", str(FOLDER / "definition.asl.json"))
    assert done.returncode == 0, done.stderr
    definition = json.loads((FOLDER / "definition.asl.json").read_text())
    assert definition["QueryLanguage"] == "JSONata"


def test_an_order_is_priced_charged_and_confirmed() -> None:
    code, result, events = run("input_order.json", history=True)
    assert code == 0, result
    assert result == {
        "status": "SUCCEEDED",
        "output": {
            "orderId": "ORD-2024-11-0042",
            "status": "CONFIRMED",
            "total": 89.32,
            "currency": "EUR",
            "chargeId": "ch_2ccc0b0eccab",
            "receiptTo": "ana.costa@example.com",
            "lines": [
                {"sku": "TEA-001", "lineTotal": 37.5},
                {"sku": "MUG-010", "lineTotal": 17.82},
                {"sku": "POT-200", "lineTotal": 34},
            ],
            "parcels": [["TEA-001", "MUG-010"], ["POT-200"]],
        },
    }
    assigned = {
        event["stateExitedEventDetails"]["name"]: event["stateExitedEventDetails"].get(
            "assignedVariables", {}
        )
        for event in events
        if "stateExitedEventDetails" in event
    }
    assert set(assigned["ReadOrder"]) == {"orderId", "email", "currency", "payment", "lines"}
    assert assigned["PriceLines"]["total"] == "89.32"
    charges = [
        e
        for e in events
        if e["type"] == "LambdaFunctionScheduled"
        and e["lambdaFunctionScheduledEventDetails"]["resource"].endswith(":charge_card")
    ]
    assert len(charges) == 2  # ProviderBusy once, then retried
    assert charges[0]["lambdaFunctionScheduledEventDetails"]["timeoutInSeconds"] == 13


def test_a_big_order_is_held_by_the_choice_rule_output() -> None:
    code, result, _ = run("input_review.json")
    assert code == 0
    assert result["output"] == {
        "orderId": "ORD-2024-11-0044",
        "status": "HELD_FOR_REVIEW",
        "total": 1324,
    }


def test_a_declined_card_is_caught_into_a_fail_with_an_expression_cause() -> None:
    code, result, _ = run("input_declined.json")
    assert code == 1
    assert result == {
        "status": "FAILED",
        "error": "PaymentDeclined",
        "cause": "Order ORD-2024-11-0043 was not charged: the issuer declined 12.50 EUR",
    }


def test_an_invalid_line_fails_with_the_choice_rule_assignment() -> None:
    code, result, _ = run("input_invalid.json")
    assert code == 1
    assert result == {
        "status": "FAILED",
        "error": "InvalidOrder",
        "cause": "Order ORD-2024-11-0045: line TEA-001 has no quantity",
    }
