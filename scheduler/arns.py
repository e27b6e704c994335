"""ARNs exactly as AWS Step Functions forms them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Account:
    """Where resources live: region and account id (defaults as AWS's local tooling)."""

    region: str = "us-east-1"
    account: str = "123456789012"
    partition: str = "aws"

    def state_machine(self, name: str) -> str:
        return f"arn:{self.partition}:states:{self.region}:{self.account}:stateMachine:{name}"

    def execution(self, machine: str, name: str) -> str:
        base = f"arn:{self.partition}:states:{self.region}:{self.account}"
        return f"{base}:execution:{machine}:{name}"

    def express_execution(self, machine: str, name: str, run_id: str) -> str:
        """Express executions: `...:express:MACHINE:NAME:RUN-ID`, as AWS forms them."""
        base = f"arn:{self.partition}:states:{self.region}:{self.account}:express"
        return f"{base}:{machine}:{name}:{run_id}"

    def lambda_function(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"

    def activity(self, name: str) -> str:
        return f"arn:{self.partition}:states:{self.region}:{self.account}:activity:{name}"


def state_machine_of(execution_arn: str) -> str:
    """The state machine ARN an execution ARN (Standard or Express) belongs to."""
    parts = execution_arn.split(":")
    if len(parts) < 7 or parts[5] not in ("execution", "express"):
        raise ValueError(f"not an execution ARN: {execution_arn!r}")
    return ":".join([*parts[:5], "stateMachine", parts[6]])
