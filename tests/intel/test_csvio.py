"""Tag CSV export and import round trip."""

from __future__ import annotations

import json

from chaintrail.intel.bundle import select_bundle
from chaintrail.intel.csvio import write_tags_csv
from chaintrail.intel.importer import import_paths

from .conftest import W


def test_csv_round_trip(intel, tmp_path) -> None:
    b = select_bundle(intel, addresses=[W])
    assert {t["label"] for t in b.tags} == {"7ev3n", "7ev3n operator"}
    out = tmp_path / "tags.csv"
    write_tags_csv(b.tags, out)
    import_paths(tmp_path / "dst", [out])
    again = select_bundle(tmp_path / "dst", addresses=[W])

    def strip(ts: list[dict]) -> list[str]:
        return sorted(
            json.dumps(
                {k: v for k, v in t.items() if k not in ("pack_id", "network")}, sort_keys=True
            )
            for t in ts
        )

    assert strip(again.tags) == strip(b.tags)
    assert again.links == [] or all(lk["src"] for lk in again.links)
