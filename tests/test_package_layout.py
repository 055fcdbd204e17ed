"""The package's shape (issue 10, code health): no empty placeholder packages, and the modules
named in the issue import one way (extracted pieces instead of import cycles)."""

from __future__ import annotations

import ast
from pathlib import Path

import chaintrail

PKG = Path(chaintrail.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_empty_placeholder_packages() -> None:
    empty = [
        str(init.parent.relative_to(PKG))
        for init in PKG.rglob("__init__.py")
        if "__pycache__" not in init.parts
        and not [p for p in init.parent.iterdir() if p.suffix == ".py" and p.name != "__init__.py"]
        and not [p for p in init.parent.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    ]
    assert empty == []


def test_ingest_does_not_import_its_rpc_front_end() -> None:
    assert not any("ingest_rpc" in name for name in _imports(PKG / "jobs" / "ingest.py"))


def test_intel_has_no_address_codec_of_its_own() -> None:
    """Base58/bech32 alphabets live in chains/bitcoin/encoding.py only."""
    b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    bech = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    holders = sorted(
        str(f.relative_to(PKG)) for f in PKG.rglob("*.py") if b58 in f.read_text() or bech in f.read_text()
    )
    assert holders == ["chains/bitcoin/encoding.py"]
