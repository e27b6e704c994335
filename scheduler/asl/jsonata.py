"""JSONata for ASL: compile an expression once, evaluate it with `$states` and variables.

AWS Step Functions runs JSONata 2.0.6 with a handful of functions of its own
(`jsonata_functions`). Stepline uses jsonata-python, a port of the JSONata reference
implementation, and corrects here where it differs from what AWS does (each difference is
listed in docs/query-languages.md, "Library differences"):

1. **null and undefined.** By default the library returns Python None for both JSON null
   and JSONata's "nothing". We turn its conversion off, bind variables that hold null as
   the library's NULL_VALUE, and convert results ourselves: None at the top of a result is
   undefined (the field "returned nothing"), NULL_VALUE anywhere is JSON null.
2. **Numbers.** JSONata numbers are doubles, so `4/2` is 2, not 2.0: integral results are
   returned as ints, as AWS prints them. Non-finite results are errors.
3. **`$eval` is not available on AWS** (use `$parse`): it is bound to nothing, so a call
   fails with T1006 "Attempted to invoke a non-function".
4. **Per-thread state.** The library finds "the current expression" (for `$now()`,
   `$millis()`) in a thread-local set when an expression is *compiled*; we set it to the
   expression being evaluated, and serialise evaluations of one compiled expression with a
   lock (it keeps scratch state on the instance while evaluating).
5. **Runtime bounds.** The library's timeout clock starts when the expression is compiled,
   which would fail compiled-once expressions after a while; we install our own per-call
   bounds (depth 100, as AWS; 5 seconds of evaluation).
6. **Results that are not JSON** (a function, a regex) are errors; so are Python exceptions
   that escape library functions (`$number('x') + 1` raises ValueError there).
7. **No context item.** Expressions run with no `$` input, as on AWS: the state input is
   `$states.input`. The validator rejects top-level field names (`{% phone %}`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from jsonata import jexception, utils
from jsonata.jsonata import Jsonata

from scheduler.asl.errors import SteplineError
from scheduler.asl.jsonata_functions import AWS_FUNCTIONS, FunctionError

#: Deepest evaluation AWS allows (`1+1+...+1` with 100 terms evaluates, 101 does not).
MAX_DEPTH: Final = 100
#: Longest one evaluation may run, in seconds (AWS documents none; this stops runaways).
TIMEOUT_SECONDS: Final = 5.0
#: Integral doubles beyond this are not exact integers: they stay floats.
_MAX_EXACT_INTEGER: Final = 2**53


class _Undefined:
    """JSONata's "nothing": what `$states.input.absent` evaluates to."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()


class JsonataSyntaxError(SteplineError):
    """An expression that does not parse; `code` is JSONata's (S0202...)."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code
        self.message = message


class JsonataEvaluationError(SteplineError):
    """An expression that failed while evaluating; `code` is JSONata's (T0410...) if any."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.code = code
        self.message = message


class UnsupportedResult(JsonataEvaluationError):
    """An expression whose value is not JSON (a function, a regular expression)."""

    def __init__(self, value: Any) -> None:
        super().__init__(None, f"the result is not a JSON value ({type(value).__name__})")


def is_expression(value: Any) -> bool:
    """A JSONata expression string: exactly `{% ... %}`, no surrounding whitespace."""
    return (
        isinstance(value, str)
        and len(value) >= 4
        and value.startswith("{%")
        and value.endswith("%}")
    )


def expression_text(value: str) -> str:
    """The expression inside `{% ... %}`, stripped, as AWS quotes it in error causes."""
    return value[2:-2].strip()


class _Bounds:
    """Per-evaluation depth and time limits, installed as the library's entry/exit hooks."""

    def __init__(self) -> None:
        self.depth = 0
        self.deadline = time.monotonic() + TIMEOUT_SECONDS

    def enter(self, expr: Any, input_: Any, env: Any) -> None:
        if env.is_parallel_call:
            return
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise JsonataEvaluationError(
                "D1011", f"Stack overflow error: Depth={self.depth} max={MAX_DEPTH}"
            )
        if time.monotonic() > self.deadline:
            raise JsonataEvaluationError(
                "D1012", f"Expression evaluation timeout: over {TIMEOUT_SECONDS:g} seconds"
            )

    def exit(self, expr: Any, input_: Any, env: Any, result: Any) -> None:
        if not env.is_parallel_call:
            self.depth -= 1


@dataclass(frozen=True)
class Expression:
    """A compiled JSONata expression. `text` is the expression as written (no `{% %}`)."""

    text: str
    compiled: Jsonata = field(repr=False, compare=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def ast(self) -> Any:
        """The parsed tree (for static checks)."""
        return self.compiled.ast

    def evaluate(self, bindings: Mapping[str, Any]) -> Any:
        """The expression's value as plain JSON, or UNDEFINED.

        `bindings` maps variable names (without `$`) to JSON values. Raises
        JsonataEvaluationError.
        """
        bounds = _Bounds()
        frame: dict[str, Any] = {
            name: utils.Utils.NULL_VALUE if value is None else value
            for name, value in bindings.items()
        }
        frame["__evaluate_entry"] = bounds.enter
        frame["__evaluate_exit"] = bounds.exit
        with self.lock:
            Jsonata.CURRENT.jsonata = self.compiled
            try:
                raw = self.compiled.evaluate(None, frame)
            except JsonataEvaluationError:
                raise
            except FunctionError as error:
                raise JsonataEvaluationError(error.code, error.message) from None
            except jexception.JException as error:
                raise JsonataEvaluationError(error.error, _message(error)) from None
            except RecursionError:
                raise JsonataEvaluationError(
                    "D1011", f"Stack overflow error: max={MAX_DEPTH}"
                ) from None
            except Exception as error:  # noqa: BLE001 - library functions raise anything
                raise JsonataEvaluationError(None, str(error) or type(error).__name__) from None
        return to_json(raw)


def _message(error: jexception.JException) -> str:
    text = str(error)
    return text[len(error.error) + 2 :] if text.startswith(f"{error.error}: ") else text


def to_json(value: Any, *, top: bool = True) -> Any:
    """A library value as plain JSON: None on top is UNDEFINED, NULL_VALUE is null."""
    if value is utils.Utils.NULL_VALUE:
        return None
    if value is None:
        return UNDEFINED if top else None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JsonataEvaluationError("D1001", f"Number out of range: {value}")
        if value.is_integer() and abs(value) <= _MAX_EXACT_INTEGER:
            return int(value)
        return value
    if isinstance(value, list):
        return [to_json(item, top=False) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item, top=False) for key, item in value.items()}
    raise UnsupportedResult(value)


def _register(compiled: Jsonata, functions: Mapping[str, Callable[..., Any]]) -> None:
    for name, function in functions.items():
        compiled.register_lambda(name, function)
    compiled.register_function("eval", None)  # not available on AWS: use $parse


@lru_cache(maxsize=8192)
def compile_expression(text: str) -> Expression:
    """Compile the expression `text` (what is inside `{% %}`). Raises JsonataSyntaxError.

    Cached by text: every expression of every definition is parsed once per process.
    """
    if not text.strip():
        raise JsonataSyntaxError(None, "the expression is empty")
    try:
        compiled = Jsonata(text)
    except jexception.JException as error:
        raise JsonataSyntaxError(error.error, _message(error)) from None
    except RecursionError:
        raise JsonataSyntaxError(None, "the expression is nested too deeply") from None
    compiled.set_output_convert_nulls(False)
    _register(compiled, AWS_FUNCTIONS)
    return Expression(text, compiled)
