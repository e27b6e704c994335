"""The handler registry: which functions of a file or module become Lambda handlers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.registry import HandlerLoadError, HandlerRegistry, resolve_reference

TASKS = '''
from json import dumps
from os.path import join as path_join


def validate(event, context):
    return {"valid": True, **event}


def ship(event, context):
    return dumps(event)


def _normalise(event):
    return event


class Order:
    def handle(self, event, context):
        return "method"


route = validate  # an alias of a top-level function
LIMIT = 3
'''


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tmp_path, importable; modules imported from it are forgotten afterwards."""
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def call(registry: HandlerRegistry, name: str, event: Any) -> Any:
    handler = registry.get(name)
    assert handler is not None, f"{name} is not registered"
    return handler(event, None)


def test_a_file_registers_its_public_top_level_functions(folder: Path) -> None:
    registry = HandlerRegistry()
    loaded = registry.load(write(folder / "reg_tasks_file.py", TASKS))
    assert sorted(loaded) == ["route", "ship", "validate"]
    assert registry.names() == ["route", "ship", "validate"]
    assert call(registry, "validate", {"id": 1}) == {"valid": True, "id": 1}
    assert call(registry, "ship", {"id": 1}) == '{"id": 1}'
    for absent in ("_normalise", "dumps", "path_join", "join", "Order", "LIMIT"):
        assert registry.get(absent) is None


def test_a_module_name_registers_the_same_way(folder: Path) -> None:
    write(folder / "reg_orders" / "__init__.py", "")
    write(folder / "reg_orders" / "tasks.py", TASKS)
    registry = HandlerRegistry()
    assert sorted(registry.load("reg_orders.tasks")) == ["route", "ship", "validate"]
    assert call(registry, "validate", {}) == {"valid": True}


def test_a_package_folder_is_a_module(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(folder / "reg_pkg" / "__init__.py", "def hello(event, context):\n    return 'hi'\n")
    monkeypatch.chdir(folder)  # `reg_pkg` is now also an existing path
    registry = HandlerRegistry()
    assert registry.load("reg_pkg") == ["hello"]
    assert call(registry, "hello", None) == "hi"


def test_module_colon_function_registers_only_that_function(folder: Path) -> None:
    write(folder / "reg_tasks_mod.py", TASKS)
    registry = HandlerRegistry()
    assert registry.load("reg_tasks_mod:ship") == ["ship"]
    assert registry.names() == ["ship"]


def test_file_colon_function(folder: Path) -> None:
    path = write(folder / "reg_tasks_colon.py", TASKS)
    registry = HandlerRegistry()
    assert registry.load(f"{path}:validate") == ["validate"]
    assert registry.names() == ["validate"]


def test_load_mapping_registers_under_the_chosen_names(folder: Path) -> None:
    path = write(folder / "reg_tasks_map.py", TASKS)
    registry = HandlerRegistry()
    registry.load_mapping({"ValidateOrder": f"{path}:validate", "Ship": "reg_tasks_map:ship"})
    assert registry.names() == ["Ship", "ValidateOrder"]
    assert call(registry, "ValidateOrder", {}) == {"valid": True}


def test_a_handler_file_can_import_a_module_beside_it(tmp_path: Path) -> None:
    """As in Lambda, the handler's folder is importable (the task root)."""
    lib = tmp_path / "lambda_root"
    write(lib / "reg_pricing_helpers.py", "def vat(x):\n    return round(x * 1.2, 2)\n")
    path = write(lib / "price.py", "from reg_pricing_helpers import vat\n\n"
                                   "def price(event, context):\n    return vat(event)\n")
    registry = HandlerRegistry()
    try:
        registry.load(path)
        assert call(registry, "price", 10) == 12.0
        assert registry.names() == ["price"]  # the imported `vat` is not a handler
    finally:
        sys.modules.pop("reg_pricing_helpers", None)
        if str(lib) in sys.path:
            sys.path.remove(str(lib))


def test_loading_a_file_twice_runs_it_once(folder: Path) -> None:
    counter = folder / "count.txt"
    path = write(folder / "reg_once.py",
                 f"with open({str(counter)!r}, 'a') as f:\n    f.write('x')\n\n"
                 "def f(event, context):\n    return 1\n")
    HandlerRegistry().load(path)
    HandlerRegistry().load(path)
    assert counter.read_text() == "x"


def test_register_replaces_and_refuses_non_callables() -> None:
    registry = HandlerRegistry()
    registry.register("f", lambda event, context: 1)
    registry.register("f", lambda event, context: 2)
    assert call(registry, "f", None) == 2
    with pytest.raises(HandlerLoadError, match="handler 'g' is not callable"):
        registry.register("g", 42)  # type: ignore[arg-type]


# ----- errors ---------------------------------------------------------------------------


def test_missing_file(folder: Path) -> None:
    with pytest.raises(HandlerLoadError, match=r"^handler file '.*nope\.py' does not exist$"):
        HandlerRegistry().load(str(folder / "nope.py"))


def test_missing_module() -> None:
    with pytest.raises(HandlerLoadError, match="cannot import handler module 'reg_no_such_mod'"):
        HandlerRegistry().load("reg_no_such_mod")


def test_file_raising_at_import_names_the_exception(folder: Path) -> None:
    path = write(folder / "reg_boom.py", "raise ValueError('bad settings')\n")
    with pytest.raises(HandlerLoadError) as caught:
        HandlerRegistry().load(path)
    assert str(caught.value) == f"handler file '{path}' failed to load: ValueError: bad settings"
    # A later, fixed attempt is not served the half-loaded module.
    write(folder / "reg_boom.py", "def ok(event, context):\n    return 1\n")
    assert HandlerRegistry().load(path) == ["ok"]


def test_file_with_a_syntax_error(folder: Path) -> None:
    path = write(folder / "reg_syntax.py", "def f(event, context)\n    return 1\n")
    with pytest.raises(HandlerLoadError, match=r"failed to load: SyntaxError: .*line 1"):
        HandlerRegistry().load(path)


def test_module_raising_at_import_is_a_load_error(folder: Path) -> None:
    write(folder / "reg_boom_mod.py", "import os\nos.environ['REG_UNSET_VARIABLE_X']\n")
    with pytest.raises(HandlerLoadError) as caught:
        HandlerRegistry().load("reg_boom_mod")
    assert str(caught.value) == (
        "handler module 'reg_boom_mod' failed to load: KeyError: 'REG_UNSET_VARIABLE_X'"
    )


@pytest.mark.parametrize("reference", ["no_colon", ":f", "module:"])
def test_malformed_reference(reference: str) -> None:
    with pytest.raises(HandlerLoadError, match="is not of the form module:function"):
        resolve_reference(reference)


def test_reference_to_a_missing_function(folder: Path) -> None:
    write(folder / "reg_tasks_ref.py", TASKS)
    with pytest.raises(HandlerLoadError, match="'reg_tasks_ref' has no function 'refund'"):
        resolve_reference("reg_tasks_ref:refund")
    with pytest.raises(HandlerLoadError, match="has no function 'LIMIT'"):
        resolve_reference("reg_tasks_ref:LIMIT")
