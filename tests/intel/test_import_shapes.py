"""Any single wrong field in an imported STIX bundle or MISP event is a named error, never a
Python error: a property test changes one value of an exported file (to null, a number, text,
a list or an object, or drops it) and imports the result."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaintrail.errors import ChaintrailError
from chaintrail.intel.bundle import select_bundle
from chaintrail.intel.bundle_check import check_bundle
from chaintrail.intel.misp import bundle_to_misp, misp_to_bundle
from chaintrail.intel.stix import bundle_to_stix
from chaintrail.intel.stix_import import parse_stix

from .conftest import TX, W

REPLACEMENTS = [None, 5, -1, 1.5, True, "x", "", [], ["x"], {}, {"a": 1}, "__drop__"]
PYTHON_TALK = ("has no attribute", "not subscriptable", "not iterable", "argument of type",
               "positional argument", "invalid literal", "NoneType", "unhashable", "object is not")  # fmt: skip


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _changed(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value if value != "__drop__" else {}
    out = copy.deepcopy(doc)
    cur = out
    for p in path[:-1]:
        cur = cur[p]
    if value == "__drop__":
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return out


def _exported(intel: Any, fmt: str) -> Any:
    b = select_bundle(intel, addresses=[W], txs=[TX])
    b.transactions.append({"tx_hash": "ab" * 32, "currency": "BTC", "fee": 100,
                           "execution_time": "2020-01-01T00:00:00",
                           "inputs": [{"address": W, "amount": 5}], "outputs": [{"address": W, "amount": 4}]})  # fmt: skip
    return json.loads(bundle_to_stix(b) if fmt == "stix" else bundle_to_misp(b))


PARSERS = {"stix": parse_stix, "misp": misp_to_bundle}


@pytest.mark.parametrize("fmt", ["stix", "misp"])
def test_one_wrong_field_is_a_named_error_or_imports(intel: Any, fmt: str) -> None:
    doc = _exported(intel, fmt)
    paths = list(_paths(doc))

    @settings(max_examples=400, derandomize=True, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(path=st.sampled_from(paths), value=st.sampled_from(REPLACEMENTS))
    def one_change(path: tuple, value: Any) -> None:
        text = json.dumps(_changed(doc, path, value))
        try:
            check_bundle(PARSERS[fmt](text, "case.json"), "case.json")
        except ChaintrailError as exc:
            msg = str(exc)
            assert msg.startswith("case.json") and "\n" not in msg, msg
            assert not any(t in msg for t in PYTHON_TALK), (path, value, msg)

    one_change()
