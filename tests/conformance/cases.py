"""Loading the conformance cases (executions recorded against AWS) and comparing results.

Shared by every engine configuration's conformance run. See ../shared/conformance/README.md
for the case format and how the recordings were masked; the same masking is applied here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from integrations.registry import HandlerRegistry

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "111111111111"
REGION = "us-east-1"
ROLE_ARN = "snf_role_arn"

_ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_WILDCARD = re.compile(r"<[^<>]*>")


def conformance_dir() -> Path | None:
    """The conformance folder: $STEPLINE_CONFORMANCE_DIR, else ../shared/conformance."""
    override = os.environ.get("STEPLINE_CONFORMANCE_DIR")
    folder = Path(override) if override else REPO.parent / "shared" / "conformance"
    return folder if (folder / "cases").is_dir() else None


@dataclass(frozen=True)
class Case:
    """One recorded execution, with its tokens replaced."""

    id: str
    raw: dict[str, Any]
    definition: str
    input: Any
    handlers: dict[str, str]

    @property
    def needs(self) -> set[str]:
        return set(self.raw.get("needs", []))

    @property
    def expected(self) -> dict[str, Any]:
        return dict(self.raw["expected"])

    @property
    def express(self) -> bool:
        return bool(self.raw.get("state_machine_type") == "EXPRESS")

    @property
    def role_arn(self) -> str:
        """The text the recording shows for the execution role (a normalizer's output)."""
        for normalizer in self.raw.get("normalizers", []):
            if normalizer.get("pattern") == "__CF_ROLE_ARN__":
                return str(normalizer["replacement"])
        return ROLE_ARN


def replace_uids(text: str, number: int) -> str:
    """`__CF_UID_n__` -> `c{number}uid{n}`: unique per case, stable between runs."""
    return re.sub(r"__CF_UID_(\d+)__", lambda match: f"c{number}uid{match.group(1)}", text)


def resource_name(resource: dict[str, Any], number: int) -> str:
    """The name a case's resource gets (its recorded name with the case's uids)."""
    return replace_uids(resource.get("name") or f"c{number}res{resource['index']}", number)


def _replace_tokens(text: str, raw: dict[str, Any], number: int) -> tuple[str, dict[str, str]]:
    """Replace the recording's tokens; resource names get the case's number, so every
    case's Lambda names are distinct and one handler table serves all cases at once."""
    handlers: dict[str, str] = {}
    text = replace_uids(text, number)
    for resource in raw.get("resources", []):
        index = resource["index"]
        name = resource_name(resource, number)
        if resource.get("type") == "lambda":
            arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            handlers[name] = resource["handler"].split(".", 1)[1]
        else:
            arn = f"arn:aws:states:{REGION}:{ACCOUNT}:{resource.get('type')}:{name}"
        text = text.replace(f"__CF_RES_{index}_ARN__", arn)
        text = text.replace(f"__CF_RES_{index}_NAME__", name)
    return text, handlers


def load_cases() -> list[Case]:
    """Every case in the conformance folder (empty when the folder is absent)."""
    folder = conformance_dir()
    if folder is None:
        return []
    cases = []
    for number, path in enumerate(sorted((folder / "cases").glob("*.json"))):
        raw = json.loads(path.read_text())
        definition, handlers = _replace_tokens(json.dumps(raw["definition"]), raw, number)
        input_text, more = _replace_tokens(raw.get("input") or "{}", raw, number)
        handlers.update(more)
        cases.append(Case(raw["id"], raw, definition, json.loads(input_text), handlers))
    return cases


def handlers_module() -> ModuleType:
    """The conformance folder's `handlers.py`, imported once."""
    folder = conformance_dir()
    assert folder is not None
    spec = importlib.util.spec_from_file_location("conformance_handlers", folder / "handlers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def handler_table(cases: list[Case]) -> dict[str, str]:
    """Every case's Lambda names mapped to `handlers.py:function` (for worker processes)."""
    folder = conformance_dir()
    assert folder is not None
    path = folder / "handlers.py"
    return {
        name: f"{path}:{function}" for case in cases for name, function in case.handlers.items()
    }


def registry_for(case: Case, module: ModuleType) -> HandlerRegistry:
    """Local handlers registered under the names the case's Lambda ARNs use."""
    registry = HandlerRegistry()
    for name, function in case.handlers.items():
        registry.register(name, getattr(module, function))
    return registry


def mask(value: Any) -> Any:
    """Apply the recordings' masking: JSON-object strings inside dicts become objects."""
    if isinstance(value, dict):
        return {k: _mask_member(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


def _mask_member(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{"):
        try:
            return mask(json.loads(value))
        except ValueError:
            return value
    return mask(value)


def output_as_recorded(output: Any) -> Any:
    """Our output as the recording holds it: objects masked, other values as JSON text."""
    if isinstance(output, dict):
        return mask(output)
    return json.dumps(output, separators=(",", ":"))


def matches(
    expected: Any,
    actual: Any,
    skip_keys: frozenset[str] = frozenset(),
    masked: frozenset[str] = frozenset(),
) -> bool:
    """Recorded value vs ours; `<...>` in an expected string is a wildcard, and so is any
    replacement text the case's normalizers put in place of a varying value (`masked`)."""
    if isinstance(expected, str):
        if expected in masked:
            return True
        if isinstance(actual, str):
            return _string_matches(expected, actual)
        if isinstance(actual, dict | list):
            try:
                return matches(json.loads(expected), actual, skip_keys, masked)
            except ValueError:
                return False
        return _string_matches(expected, json.dumps(actual))
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        keys = (set(expected) | set(actual)) - skip_keys
        return all(
            k in expected and k in actual and matches(expected[k], actual[k], skip_keys, masked)
            for k in keys
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a, skip_keys, masked) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def _string_matches(expected: str, actual: str) -> bool:
    if expected == actual:
        return True
    if expected == "date" and _ISO_DATE.match(actual):
        return True
    if "<" not in expected:
        if expected.startswith(("{", "[")) and actual.startswith(("{", "[")):
            try:
                return matches(json.loads(expected), json.loads(actual))
            except ValueError:
                return False
        return False
    pattern = "".join(
        ".*" if _WILDCARD.fullmatch(part) else re.escape(part)
        for part in re.split(r"(<[^<>]*>)", expected)
    )
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def skip_keys(case: Case) -> frozenset[str]:
    """Member names the case says not to verify (`$..Name` entries of skip_verify_paths)."""
    return frozenset(p[3:] for p in case.raw.get("skip_verify_paths", []) if p.startswith("$.."))


def masked_values(case: Case) -> frozenset[str]:
    """Replacement texts of the case's `jsonpath`/`key_value` normalizers (wildcards)."""
    return frozenset(
        str(n["replacement"])
        for n in case.raw.get("normalizers", [])
        if n.get("kind") in ("jsonpath", "key_value") and isinstance(n.get("replacement"), str)
    )


def result_matches(case: Case, status: str, output: Any, error: Any, cause: Any) -> str | None:
    """None when our result equals the recording; else a description of the difference."""
    expected = case.expected
    if status != expected["status"]:
        return f"status {status} (error={error!r}, cause={cause!r}), AWS: {expected['status']}"
    keys = skip_keys(case)
    skipped = case.raw.get("skip_verify_paths", [])
    if status == "SUCCEEDED" and any(
        p.endswith("executionSucceededEventDetails.output") for p in skipped
    ):
        return None
    if status == "SUCCEEDED":
        # A few recordings hold an array output parsed rather than as JSON text.
        parsed = isinstance(expected.get("output"), list)
        ours = mask(output) if parsed else output_as_recorded(output)
        if not matches(expected.get("output"), ours, keys, masked_values(case)):
            return f"output {ours!r}, AWS: {expected.get('output')!r}"
        return None
    if expected.get("error") is not None and not matches(expected.get("error"), error):
        return f"error {error!r}, AWS: {expected.get('error')!r}"
    expected_cause = expected.get("cause")
    if expected_cause is not None:
        ours_cause = cause
        if isinstance(expected_cause, dict) and isinstance(cause, str):
            try:
                ours_cause = mask(json.loads(cause))
            except ValueError:
                pass
        if not matches(expected_cause, ours_cause, keys, masked_values(case)):
            return f"cause {cause!r}, AWS: {expected_cause!r}"
    return None


def regex_normalized(case: Case, number: int, value: Any, tokens: dict[str, str]) -> Any:
    """`value` with the case's `regex` normalizers applied to its strings, their patterns'
    tokens replaced as the case's were (`tokens` maps `__CF_RES_0_URL__`-style tokens to
    the values the case's resources got), as the recordings were masked."""
    rules = []
    for normalizer in case.raw.get("normalizers", []):
        if normalizer.get("kind") != "regex" or not isinstance(normalizer.get("pattern"), str):
            continue
        pattern = replace_uids(normalizer["pattern"], number)
        for token, replacement in tokens.items():
            pattern = pattern.replace(token, replacement)
        if normalizer.get("literal"):
            pattern = re.escape(pattern)
        rules.append((re.compile(pattern), str(normalizer.get("replacement", ""))))

    def apply(item: Any) -> Any:
        if isinstance(item, str):
            for pattern, replacement in rules:
                item = pattern.sub(replacement.replace("\\", "\\\\"), item)
            return item
        if isinstance(item, dict):
            return {apply(k): apply(v) for k, v in item.items()}
        if isinstance(item, list):
            return [apply(v) for v in item]
        return item

    return apply(value)
