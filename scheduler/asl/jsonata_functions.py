"""The functions AWS Step Functions adds to JSONata: $partition, $range, $hash, $random,
$uuid and $parse ("JSONata functions provided by Step Functions").

Behaviour follows AWS's: a non-integer count or bound is truncated towards zero; arguments
that make no sense as a range or a partition give *undefined* (the field that holds the
expression then fails with "returned nothing"), not an error; a one-element `$range` is
the bare number. Arguments of the wrong type fail as JSONata signature errors do (T0410).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from typing import Any, Final

from jsonata import utils

from scheduler.asl.errors import SteplineError

#: The largest array `$range` builds (AWS refuses larger ranges: "memory limit exceeded").
MAX_RANGE_ITEMS: Final = 360_145
HASH_ALGORITHMS: Final[dict[str, str]] = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


class FunctionError(SteplineError):
    """A call of an AWS function that fails (raised inside JSONata evaluation)."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code
        self.message = message


def _signature_error(index: int, name: str) -> FunctionError:
    return FunctionError(
        "T0410", f'Argument {index} of function "{name}" does not match function signature'
    )


def _plain(value: Any) -> Any:
    """An argument as plain JSON; None stays None (undefined), NULL_VALUE becomes None."""
    if value is utils.Utils.NULL_VALUE:
        return None
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _truncated(value: Any, index: int, name: str) -> int:
    if not _is_number(value) or not math.isfinite(value):
        raise _signature_error(index, name)
    return int(math.trunc(value))


def _check_count(name: str, args: tuple[Any, ...], most: int) -> None:
    if len(args) > most:
        raise _signature_error(most + 1, name)


def partition(*args: Any) -> Any:
    """`$partition(array, chunkSize)`: the array in chunks of `chunkSize` (the last one
    holds the rest). An empty array or a size below 1 gives undefined."""
    _check_count("partition", args, 2)
    items = args[0] if args else None
    size = args[1] if len(args) > 1 else None
    if items is None or size is None:
        return None
    if not isinstance(items, list):
        raise _signature_error(1, "partition")
    chunk = _truncated(size, 2, "partition")
    if chunk < 1 or not items:
        return None
    values = _plain(items)
    return [values[i : i + chunk] for i in range(0, len(values), chunk)]


def range_(*args: Any) -> Any:
    """`$range(start, end, step)`: from start to end (inclusive when a step lands on it).

    A missing argument, a zero step or one pointing away from `end` gives undefined.
    """
    _check_count("range", args, 3)
    for index, value in enumerate(args, start=1):
        if value is not None and not _is_number(value):
            raise _signature_error(index, "range")
    if len(args) < 3 or any(value is None for value in args):
        return None
    start, end, step = (_truncated(v, i, "range") for i, v in enumerate(args, start=1))
    if step == 0 or (step > 0 and start > end) or (step < 0 and start < end):
        return None
    count = abs(end - start) // abs(step) + 1
    if count > MAX_RANGE_ITEMS:
        raise FunctionError(None, "Expression evaluation memory limit exceeded")
    if count == 1:
        return start
    return list(range(start, end + (1 if step > 0 else -1), step))


def hash_(*args: Any) -> Any:
    """`$hash(value, algorithm)`: the hex digest of a string. No algorithm: undefined."""
    _check_count("hash", args, 2)
    data = args[0] if args else None
    algorithm = args[1] if len(args) > 1 else None
    if data is not None and not isinstance(data, str):
        raise _signature_error(1, "hash")
    if algorithm is not None and not isinstance(algorithm, str):
        raise _signature_error(2, "hash")
    if data is None or algorithm is None:
        return None
    if algorithm not in HASH_ALGORITHMS:
        raise FunctionError(
            None,
            f"The hashing algorithm '{algorithm}' is not supported: use one of "
            + ", ".join(HASH_ALGORITHMS),
        )
    return hashlib.new(HASH_ALGORITHMS[algorithm], data.encode("utf-8")).hexdigest()


def random_(*args: Any) -> Any:
    """`$random([seed])`: a number in [0, 1); the same integer seed gives the same number."""
    _check_count("random", args, 1)
    if not args or args[0] is None:
        return random.random()
    seed = args[0]
    if not _is_number(seed):
        raise _signature_error(1, "random")
    return random.Random(_truncated(seed, 1, "random")).random()


def uuid_(*args: Any) -> Any:
    """`$uuid()`: a random version 4 UUID."""
    _check_count("uuid", args, 0)
    return str(uuid.uuid4())


def parse(*args: Any) -> Any:
    """`$parse(text)`: the JSON value `text` holds (AWS's replacement for `$eval`)."""
    _check_count("parse", args, 1)
    text = args[0] if args else None
    if text is None:
        return None
    if not isinstance(text, str):
        raise _signature_error(1, "parse")
    try:
        value = json.loads(text)
    except ValueError as error:
        raise FunctionError(None, f"$parse: the string is not valid JSON: {error}") from None
    return utils.Utils.NULL_VALUE if value is None else value


AWS_FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    "partition": partition,
    "range": range_,
    "hash": hash_,
    "random": random_,
    "uuid": uuid_,
    "parse": parse,
}
