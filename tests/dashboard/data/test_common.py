"""The loaders' cache: one entry per call, however the call is written (``dashboard.data.common.cached``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.data import common

ROOT = Path(__file__).resolve().parents[3]
calls: list[tuple] = []


@common.cached(show_spinner=False)
def _data_loader(url: str, version: str, store: str | None = None, *, tiers: tuple[str, ...] = ("A", "B")) -> list:
    calls.append((url, version, store, tiers))
    return [url, version, store, tiers]


@common.cached(resource=True, show_spinner=False)
def _resource_loader(url: str, store: str | None = None) -> dict:
    calls.append((url, store))
    return {"url": url, "store": store}


def _shared_loader(url: str, version: str, store: str | None = None) -> list:
    calls.append(("shared", url, version, store))
    return [url, version, store]


@pytest.fixture(autouse=True)
def _no_calls():
    calls.clear()
    yield
    calls.clear()


@pytest.mark.parametrize("call", [
    lambda: _data_loader("db", "v1"),
    lambda: _data_loader("db", "v1", None),
    lambda: _data_loader("db", "v1", store=None),
    lambda: _data_loader(version="v1", url="db", tiers=("A", "B")),
    lambda: _data_loader("db", "v1", None, tiers=("A", "B")),
], ids=["defaults left out", "default given", "default named", "all named out of order", "keyword-only given"])
def test_a_cached_call_finds_the_result_of_the_same_call_written_another_way(call):
    first = _data_loader("db", "v1", None, tiers=("A", "B"))
    assert call() == first
    assert calls == [("db", "v1", None, ("A", "B"))]


def test_a_cached_call_with_other_arguments_computes_again():
    _data_loader("db", "v1")
    _data_loader("db", "v1", "North")
    _data_loader("db", "v1", tiers=("A",))
    assert calls == [("db", "v1", None, ("A", "B")), ("db", "v1", "North", ("A", "B")), ("db", "v1", None, ("A",))]


def test_clearing_a_cached_loader_computes_it_again():
    _data_loader("db", "v1")
    _data_loader.clear()
    _data_loader("db", "v1", None)
    assert len(calls) == 2


def test_a_cached_resource_is_one_object_however_the_call_is_written():
    assert _resource_loader("db") is _resource_loader("db", None) is _resource_loader(url="db", store=None)
    assert calls == [("db", None)]


def test_a_shared_result_is_one_object_whether_a_default_is_given_or_left_out():
    # shared() looks its loader up by module and name at each call, as the pages' loaders are.
    assert common.shared(_shared_loader, "db", "v1") is common.shared(_shared_loader, "db", "v1", None)
    assert calls == [("shared", "db", "v1", None)]


def test_a_wrong_call_fails_as_the_loader_itself_would():
    with pytest.raises(TypeError):
        _data_loader("db")
    with pytest.raises(TypeError):
        _data_loader("db", "v1", colour="red")
    assert calls == []


def _streamlit_cache_decorators(tree: ast.AST) -> list[ast.FunctionDef]:
    """Functions of ``tree`` decorated with ``st.cache_data``/``st.cache_resource`` directly."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (isinstance(target, ast.Attribute) and target.attr in {"cache_data", "cache_resource"}
                        and isinstance(target.value, ast.Name) and target.value.id == "st"):
                    found.append(node)
    return found


def test_every_cached_function_with_arguments_is_keyed_through_cached():
    offenders = []
    for package in ("dashboard", "pages"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for function in _streamlit_cache_decorators(ast.parse(path.read_text(encoding="utf-8"))):
                arguments = function.args
                if arguments.args or arguments.posonlyargs or arguments.kwonlyargs or arguments.vararg:
                    offenders.append(f"{path.relative_to(ROOT)}:{function.lineno} {function.name}")
    assert offenders == []


@common.cached(show_spinner=False)
def _big_loader(url: str, version: str) -> list:
    calls.append(("big", url, version))
    return [url, version]


def test_a_shared_result_is_kept_once_as_the_object_not_also_pickled_in_the_data_cache():
    first = common.shared(_big_loader, "db", "v1")
    assert common.shared(_big_loader, "db", "v1") is first
    _big_loader("db", "v1")  # the data cache holds no copy of what shared() read: a direct call computes
    assert calls == [("big", "db", "v1")] * 2


def _calls_by_name(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names passed as shared()'s first argument, names called directly) in ``tree``."""
    through_shared, direct = set(), set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name == "shared" and node.args:
            first = node.args[0]
            through_shared.add(first.attr if isinstance(first, ast.Attribute) else getattr(first, "id", ""))
        elif name:
            direct.add(name)
    return through_shared, direct


def test_a_loader_read_through_shared_is_never_called_directly():
    # shared() passes by the loader's data cache: a direct call elsewhere would compute (or read) it a second time.
    through_shared, direct = set(), set()
    for package in ("dashboard", "pages"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found = _calls_by_name(ast.parse(path.read_text(encoding="utf-8")))
            through_shared |= found[0]
            direct |= found[1]
    assert {"load_churn_panel", "load_features", "load_value_view"} <= through_shared
    assert sorted(through_shared & direct) == []
