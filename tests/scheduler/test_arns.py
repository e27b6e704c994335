"""ARNs as AWS forms them, and reading one back."""

from __future__ import annotations

import pytest

from scheduler.arns import Account, state_machine_of


def test_the_state_machine_of_a_standard_and_an_express_execution() -> None:
    account = Account("eu-west-1", "111122223333")
    machine = account.state_machine("orders")
    assert state_machine_of(account.execution("orders", "e1")) == machine
    assert state_machine_of(account.express_execution("orders", "e1", "r1")) == machine


@pytest.mark.parametrize(
    "arn",
    ["", "arn:aws:states:us-east-1:1:stateMachine:orders", "arn:aws:states:us-east-1:1"],
)
def test_anything_else_is_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="not an execution ARN"):
        state_machine_of(arn)
