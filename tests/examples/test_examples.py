"""The examples in `examples/`, run the way a user runs them: through the `stepline` CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FILES = EXAMPLES / "file_processing"
ORDERS = EXAMPLES / "order_pipeline"


def stepline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
    )


def run_example(
    folder: Path, input_file: str, history: bool = False
) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """Exit code, the `--json` result and (with `history`) the history events."""
    args = [
        "run", str(folder / "definition.asl.json"),
        "--input", f"@{folder / input_file}",
        "--handlers", str(folder / "handlers.py"),
        "--json", "--time-scale", "0.01",
    ]
    if history:
        args.append("--history")
    done = stepline(*args)
    result = json.loads(done.stdout)
    events = [json.loads(line) for line in done.stderr.splitlines()] if history else []
    return done.returncode, result, events


def scheduled(events: list[dict[str, Any]], function: str) -> list[dict[str, Any]]:
    """The LambdaFunctionScheduled events for the Lambda function named `function`."""
    return [
        e for e in events
        if e["type"] == "LambdaFunctionScheduled"
        and e["lambdaFunctionScheduledEventDetails"]["resource"].endswith(f":function:{function}")
    ]


def entered(events: list[dict[str, Any]]) -> list[str]:
    """The names of the states entered, in order."""
    return [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]


def max_in_flight(events: list[dict[str, Any]]) -> int:
    """The most Map iterations running at once, from the order of the history events."""
    running = peak = 0
    for event in events:
        if event["type"] == "MapIterationStarted":
            running += 1
            peak = max(peak, running)
        elif event["type"] in ("MapIterationSucceeded", "MapIterationFailed"):
            running -= 1
    return peak


def load(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text())


@pytest.mark.parametrize("folder", [FILES, ORDERS], ids=lambda p: p.name)
def test_definition_is_valid(folder: Path) -> None:
    done = stepline("validate", str(folder / "definition.asl.json"))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("folder", [FILES, ORDERS], ids=lambda p: p.name)
def test_tasks_call_lambda_arns(folder: Path) -> None:
    """Every Task is written as it deploys on AWS: a Lambda function ARN."""

    def resources(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["Resource"]] if node.get("Type") == "Task" else []
            return found + [r for value in node.values() for r in resources(value)]
        if isinstance(node, list):
            return [r for value in node for r in resources(value)]
        return []

    found = resources(load(folder, "definition.asl.json"))
    assert found
    for resource in found:
        assert resource.startswith("arn:aws:lambda:us-east-1:123456789012:function:")


# --- file processing ------------------------------------------------------------------


def test_valid_file_is_stored() -> None:
    code, result, _ = run_example(FILES, "input_valid.json")
    assert (code, result["status"]) == (0, "SUCCEEDED")
    assert result["output"] == {
        "source": "s3://acme-data-uploads/incoming/2024/06/03/sales-eu-west.csv",
        "bucket": "acme-data-processed",
        "key": "processed/csv/2024/06/03/sales-eu-west.csv",
        "fileType": "csv",
        "records": 3,
        "sha256": result["output"]["sha256"],
    }
    assert len(result["output"]["sha256"]) == 64


def test_invalid_file_fails_with_invalid_file_type() -> None:
    code, result, events = run_example(FILES, "input_invalid.json", history=True)
    assert code == 1
    assert result == {
        "status": "FAILED",
        "error": "InvalidFileType",
        "cause": "s3://acme-data-uploads/incoming/2024/06/03/invoice-viewer.exe has "
                 "unsupported file type executable (expected csv or json)",
    }
    assert entered(events) == ["ProcessFile", "CheckFileType", "RejectFile"]
    assert not scheduled(events, "store_file")


# --- order pipeline -------------------------------------------------------------------


def expected_subtotal(order: dict[str, Any]) -> Decimal:
    """The order's subtotal, worked out here independently of the handlers."""
    total = Decimal(0)
    for line in order["lines"]:
        gross = Decimal(str(line["unitPrice"])) * line["quantity"]
        discount = gross * Decimal(str(line.get("discountPercent", 0))) / 100
        total += gross - discount.quantize(Decimal("0.01"))
    return total


def test_order_is_priced_reserved_after_retries_and_charged() -> None:
    order = load(ORDERS, "input_order.json")
    code, result, events = run_example(ORDERS, "input_order.json", history=True)
    assert (code, result["status"]) == (0, "SUCCEEDED")
    output = result["output"]
    assert output["orderId"] == "ORD-2024-06-118734"
    assert output["status"] == "CONFIRMED"
    assert Decimal(str(output["subtotal"])) == expected_subtotal(order) == Decimal("184.01")
    assert output["shipping"] == 7.95
    assert output["total"] == 191.96
    assert output["receiptSentTo"] == "dana.whitfield@example.com"
    assert output["reservationId"].startswith("rsv_")
    assert output["chargeId"].startswith("ch_")

    # The Map priced each of the four lines once, never more than two at a time.
    assert len(scheduled(events, "price_line")) == 4
    started = [e for e in events if e["type"] == "MapIterationStarted"]
    assert sorted(e["mapIterationStartedEventDetails"]["index"] for e in started) == [0, 1, 2, 3]
    assert max_in_flight(events) == 2

    # The warehouse throttled twice; Retry called it again with $$.State.RetryCount 1, 2.
    reserve = scheduled(events, "reserve_inventory")
    attempts = [json.loads(e["lambdaFunctionScheduledEventDetails"]["input"])["attempt"]
                for e in reserve]
    assert attempts == [0, 1, 2]
    failed = [e["lambdaFunctionFailedEventDetails"]["error"]
              for e in events if e["type"] == "LambdaFunctionFailed"]
    assert failed == ["WarehouseBusy", "WarehouseBusy"]
    # Back-off: IntervalSeconds 2 then x BackoffRate 2 = 4 s, scaled by --time-scale 0.01.
    times = [e["timestamp"] for e in reserve]
    assert times[1] - times[0] >= 0.02 * 0.9
    assert times[2] - times[1] >= 0.04 * 0.9
    assert len(scheduled(events, "charge_payment")) == 1
    assert "ReleaseInventory" not in entered(events)


def test_declined_payment_is_compensated() -> None:
    code, result, events = run_example(ORDERS, "input_declined.json", history=True)
    assert code == 1
    assert result["status"] == "FAILED"
    assert result["error"] == "PaymentDeclined"
    assert result["cause"].startswith(
        "Order ORD-2024-06-118802 was not completed: inventory released (rel_"
    )
    assert "customer notified (msg_" in result["cause"]

    states = entered(events)
    assert states[-3:] == ["ReleaseInventory", "NotifyCustomer", "OrderFailed"]
    assert "ConfirmOrder" not in states
    # PaymentDeclined is permanent: no retry of the charge.
    assert len(scheduled(events, "charge_payment")) == 1
    notify = scheduled(events, "notify_customer")[0]
    assert json.loads(notify["lambdaFunctionScheduledEventDetails"]["input"]) == {
        "orderId": "ORD-2024-06-118802",
        "email": "marco.ruiz@example.com",
        "reason": "PaymentDeclined",
    }


def test_invalid_order_is_rejected_before_pricing() -> None:
    code, result, events = run_example(ORDERS, "input_invalid.json", history=True)
    assert code == 1
    assert (result["status"], result["error"]) == ("FAILED", "InvalidOrder")
    cause = json.loads(result["cause"])
    assert cause["errorType"] == "InvalidOrder"
    assert cause["errorMessage"] == "line 1 (KB-104) has quantity 0; expected a positive integer"
    assert entered(events) == ["ValidateOrder"]
