"""Activities: Task resources that outside workers poll (GetActivityTask comes later).

Keys, in the `KeyValue` store: `act/NAME`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from scheduler.arns import Account
from scheduler.service.errors import ActivityAlreadyExists, ActivityDoesNotExist
from scheduler.service.kv import KeyValue
from scheduler.service.names import Arn, ArnKind, check_name, expect_arn
from scheduler.service.records import Activity, from_json, to_json


class Activities:
    """Create, describe, delete and list activities."""

    def __init__(
        self, kv: KeyValue, account: Account, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.kv = kv
        self.account = account
        self.clock = clock

    def create(self, name: str, encryption: dict[str, Any] | None = None) -> Activity:
        """Create an activity; creating it again returns it (AWS's idempotency by name)."""
        check_name(name)
        activity = Activity(self.account.activity(name), name, self.clock(), encryption)
        if self.kv.add(f"act/{name}", to_json(activity)):
            return activity
        existing = self.find(name)
        if existing is None or existing.encryption != encryption:
            raise ActivityAlreadyExists(f"Activity Already Exists: '{activity.arn}'")
        return existing

    def find(self, name: str) -> Activity | None:
        data = self.kv.get(f"act/{name}")
        return None if data is None else from_json(Activity, data)

    def get(self, arn_text: str) -> Activity:
        """The activity; ActivityDoesNotExist when there is none."""
        arn = expect_arn(arn_text, ArnKind.ACTIVITY)
        activity = self.find_parsed(arn)
        if activity is None:
            raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn_text}'")
        return activity

    def find_parsed(self, arn: Arn) -> Activity | None:
        if arn.text != self.account.activity(arn.name):
            return None
        return self.find(arn.name)

    def delete(self, arn_text: str) -> None:
        """Delete the activity (nothing if it does not exist, as on AWS)."""
        arn = expect_arn(arn_text, ArnKind.ACTIVITY)
        if self.find_parsed(arn) is not None:
            self.kv.delete(f"act/{arn.name}")

    def all(self) -> list[Activity]:
        """Every activity, oldest first."""
        found = [from_json(Activity, value) for _, value in self.kv.scan("act/")]
        return sorted(found, key=lambda a: (a.creation_date, a.name))
