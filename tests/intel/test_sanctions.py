"""OFAC lists and the sanctions CSV: entries, SDN labels, list versions and "sanctioned on day"."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from chaintrail.errors import ValidationError
from chaintrail.intel.importer import import_paths
from chaintrail.intel.sanctions import parse_ofac, parse_sanctions_csv
from chaintrail.intel.store import IntelStore

from .conftest import OFAC

YAN = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"  # OFAC SDN 25308, YAN Xiaobing (SDNTK)


def test_ofac_folder_entries_labels_and_version() -> None:
    lst = parse_ofac(OFAC)
    assert lst.list_id == "ofac-sdn" and lst.version == dt.date(2024, 9, 27)
    assert lst.n_entries == 308
    assert (
        lst.entries["currency"].count("BTC") == 210 and lst.entries["currency"].count("ETH") == 67
    )
    i = lst.entries["address"].index(YAN)
    assert lst.entries["label"][i] == "OFAC SDN: YAN, Xiaobing [SDNTK]"
    assert lst.entries["source"][i].endswith("id=25308")
    assert lst.entries["listed_since"][i] == dt.date(2022, 9, 3)


def test_sanctioned_on_a_day_follows_list_versions(tmp_path) -> None:
    store = tmp_path / "s"
    import_paths(store, [OFAC])
    # a later version of the list without YAN's address: delisted from then on
    later = tmp_path / "ofac2"
    shutil.copytree(OFAC, later)
    xbt = later / "sanctioned_addresses_XBT.txt"
    xbt.write_text("".join(line + "\n" for line in xbt.read_text().splitlines() if line != YAN))
    (later / "ofac_addresses_first_seen.csv").unlink()
    import_paths(store, [later], as_of=dt.date(2025, 1, 1))
    with IntelStore.open(store, read_only=True) as st:
        assert st.list_hits(YAN, dt.date(2021, 1, 1)) == []
        hits = st.list_hits(YAN, dt.date(2023, 6, 1))
        assert [h["label"] for h in hits] == ["OFAC SDN: YAN, Xiaobing [SDNTK]"]
        assert st.list_hits(YAN, dt.date(2024, 12, 31))[0]["version"] == dt.date(2024, 9, 27)
        assert st.list_hits(YAN, dt.date(2025, 2, 1)) == []
        assert [v["version"] for v in st.list_versions()] == [
            dt.date(2024, 9, 27),
            dt.date(2025, 1, 1),
        ]
        # tags follow the newest version
        assert st.tags_for([YAN]) == []


def test_sanctions_csv(tmp_path) -> None:
    p = tmp_path / "eu_list_2024-06-01.csv"
    p.write_text("address,currency,label,category,source,confidence\n"
                 f"{YAN},BTC,EU listed,sanction,https://eu.example/list,authority_data\n")  # fmt: skip
    lst = parse_sanctions_csv(p)
    assert (
        lst.list_id == "eu_list_2024-06-01"
        and lst.version == dt.date(2024, 6, 1)
        and lst.n_entries == 1
    )
    p.write_text(
        "address,currency,label,category,source,confidence\nX,BTC,l,sanction,s,very sure\n"
    )
    with pytest.raises(ValidationError, match=r"eu_list_2024-06-01\.csv:2, field 'confidence'"):
        parse_sanctions_csv(p)
