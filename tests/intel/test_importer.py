"""Imports are atomic and idempotent; everything lands in intel.duckdb."""

from __future__ import annotations

import shutil

import pytest

from chaintrail.errors import ValidationError
from chaintrail.intel.importer import import_paths
from chaintrail.intel.store import IntelStore

from .conftest import ACTORS, OFAC, PACKS


def test_folder_import_counts_and_idempotence(tmp_path) -> None:
    s = import_paths(tmp_path, [PACKS, ACTORS, OFAC])
    assert s.tagpacks == 8 and s.tags == 401 and s.actors == 3 and s.list_entries == 308
    again = import_paths(tmp_path, [PACKS / "ransomware.yaml", PACKS / "ofac.yaml", OFAC])
    assert again.tags == 330
    with IntelStore.open(tmp_path, read_only=True) as st:
        c = st.counts()
        assert c["tags"] == 401 + 308 and c["actors"] == 3 and c["list_versions"] == 1
        assert {p["pack_id"] for p in st.packs()} >= {
            "ransomware.yaml",
            "list:ofac-sdn",
            "graphsense.actorpack.yaml",
        }


def test_a_bad_pack_imports_nothing(tmp_path) -> None:
    packs = tmp_path / "packs"
    shutil.copytree(PACKS, packs)
    (packs / "zz_bad.yaml").write_text("title: t\ncreator: c\ntags:\n- address: 1A\n  label: x\n")
    with pytest.raises(ValidationError, match=r"zz_bad\.yaml:4, field 'source'"):
        import_paths(tmp_path / "store", [packs])
    with IntelStore.open(tmp_path / "store", read_only=True) as st:
        assert st.counts()["tags"] == 0
