"""docs/api.md lists every action of the service with a support level that is true."""

from __future__ import annotations

import re
from pathlib import Path

from scheduler.api import ACTIONS
from scheduler.api.shapes import operation_names

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def _levels() -> dict[str, str]:
    rows = re.findall(r"^\| (\w+) \| (supported|partial|not yet) \|", DOC.read_text(), re.M)
    return dict(rows)


def test_every_action_is_listed_once() -> None:
    assert sorted(_levels()) == sorted(operation_names())


def test_support_levels_match_what_the_server_serves() -> None:
    for action, level in _levels().items():
        assert (action in ACTIONS) == (level != "not yet"), action
