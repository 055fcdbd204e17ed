"""Sanctions lists: OFAC per-asset address lists and the plain sanctions CSV, with versions.

* OFAC folder/files: ``sanctioned_addresses_<ASSET>.txt`` (one address per line, as published
  nightly by 0xB10C's extractor of OFAC's SDN list). If the folder also holds
  ``sdn_entity_for_address_*.csv`` the SDN entry name and programme become each address's label,
  and ``ofac_addresses_first_seen.csv`` gives each address's ``listed_since`` date.
* CSV with header ``address,currency,label,category,source,confidence``.

Each import is one *version* of a list (``list_id`` + ``as_of`` date); the date is the
``--as-of`` argument, else a ``YYYY-MM-DD`` in the file name, else the latest first-seen date of
the OFAC folder, else the file's modification date.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaintrail.errors import ValidationError
from chaintrail.intel.addresscheck import address_warning, canonical_address, checked_address
from chaintrail.intel.coverage import require_store, sanctions_coverage
from chaintrail.intel.store import IntelStore
from chaintrail.intel.taxonomy import load_taxonomy

OFAC_LIST_ID = "ofac-sdn"
OFAC_SOURCE = "https://www.treasury.gov/ofac/downloads/sanctions/1.0/sdn_advanced.xml"
OFAC_DETAILS = "https://sanctionssearch.ofac.treas.gov/Details.aspx?id={}"
CSV_HEADER = ["address", "currency", "label", "category", "source", "confidence"]
_OFAC_FILE = re.compile(r"^sanctioned_addresses_([A-Z0-9]+)\.txt$")
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
#: OFAC asset codes that differ from the currency tickers tags use.
ASSET_TO_CURRENCY = {"XBT": "BTC"}


@dataclass
class ParsedList:
    """One version of a sanctions (or other address) list, ready for storage."""

    list_id: str
    version: dt.date
    path: str
    entries: dict[str, list[Any]]
    warnings: list[str] = field(default_factory=list)

    @property
    def n_entries(self) -> int:
        """Number of (currency, address) entries."""
        return len(self.entries["address"])


def _empty_entries() -> dict[str, list[Any]]:
    cols = (
        "currency",
        "address",
        "address_key",
        "label",
        "category",
        "source",
        "confidence",
        "listed_since",
    )
    return {c: [] for c in cols}


def _date_in_name(path: Path) -> dt.date | None:
    m = _DATE_IN_NAME.search(path.name)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m[1])
    except ValueError:
        return None


def _mtime_date(path: Path) -> dt.date:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).date()


def is_ofac_path(path: Path) -> bool:
    """True for an OFAC per-asset list file or a folder holding at least one."""
    if path.is_dir():
        return any(_OFAC_FILE.match(p.name) for p in path.iterdir())
    return bool(_OFAC_FILE.match(path.name))


def is_sanctions_csv(path: Path) -> bool:
    """True for a CSV whose header is exactly the sanctions CSV header."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open("r", encoding="utf-8", newline="") as fh:
        first = fh.readline().strip().lstrip("\ufeff")
    return [h.strip() for h in first.split(",")] == CSV_HEADER


def parse_ofac(path: str | Path, *, as_of: dt.date | None = None) -> ParsedList:
    """Read an OFAC folder (or one ``sanctioned_addresses_<ASSET>.txt``) as one list version."""
    path = Path(path)
    files = (
        sorted(p for p in path.iterdir() if _OFAC_FILE.match(p.name)) if path.is_dir() else [path]
    )
    folder = path if path.is_dir() else path.parent
    names: dict[tuple[str, str], tuple[str, str, str]] = {}
    for ent_file in sorted(folder.glob("sdn_entity_for_address_*.csv")):
        with ent_file.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                names[(row["asset"], row["address"])] = (
                    row["sdn_name"],
                    row["sdn_program"],
                    row["sdn_ent_num"],
                )
    first_seen: dict[tuple[str, str], dt.date] = {}
    fs_file = folder / "ofac_addresses_first_seen.csv"
    if fs_file.is_file():
        with fs_file.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                first_seen[(row["asset"], row["address"])] = dt.date.fromisoformat(
                    row["first_seen_in_lists_branch"]
                )
    version = (
        as_of
        or _date_in_name(path)
        or (max(first_seen.values()) if first_seen else None)
        or _mtime_date(path)
    )
    out = ParsedList(OFAC_LIST_ID, version, str(path), _empty_entries())
    e = out.entries
    for f in files:
        asset = _OFAC_FILE.match(f.name)[1]  # type: ignore[index]
        currency = ASSET_TO_CURRENCY.get(asset, asset)
        for lineno, raw in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            address = raw.strip()
            if not address or address.startswith("#"):
                continue
            msg = address_warning(currency, address)
            if msg:
                out.warnings.append(f"{f}:{lineno}: {msg}")
            sdn = names.get((asset, address))
            e["currency"].append(currency)
            e["address"].append(address)
            e["address_key"].append(canonical_address(address))
            e["label"].append(
                f"OFAC SDN: {sdn[0]} [{sdn[1]}]" if sdn else "OFAC SDN listed address"
            )
            e["category"].append("sanction")
            e["source"].append(OFAC_DETAILS.format(sdn[2]) if sdn else OFAC_SOURCE)
            e["confidence"].append("authority_data")
            e["listed_since"].append(first_seen.get((asset, address)))
    if not e["address"]:
        raise ValidationError("no addresses found in OFAC list", source=str(path))
    return out


def parse_sanctions_csv(path: str | Path, *, as_of: dt.date | None = None) -> ParsedList:
    """Read a sanctions CSV (``address,currency,label,category,source,confidence``)."""
    path = Path(path)
    taxo = load_taxonomy()
    version = as_of or _date_in_name(path) or _mtime_date(path)
    out = ParsedList(path.stem, version, str(path), _empty_entries())
    e = out.entries
    with path.open("r", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
        if header != CSV_HEADER:
            raise ValidationError(f"expected CSV header {','.join(CSV_HEADER)}", source=f"{path}:1")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(CSV_HEADER):
                raise ValidationError(
                    f"expected {len(CSV_HEADER)} columns, got {len(row)}", source=where
                )
            address, currency, label, category, source, confidence = (c.strip() for c in row)
            if not address:
                raise ValidationError("empty address", source=where, field="address")
            if not label:
                raise ValidationError("empty label", source=where, field="label")
            if category and category not in taxo.concepts:
                raise ValidationError(
                    f"unknown concept {category!r}", source=where, field="category"
                )
            confidence = confidence or "authority_data"
            if confidence not in taxo.confidence:
                raise ValidationError(
                    f"unknown confidence {confidence!r}", source=where, field="confidence"
                )
            currency = (currency or "BTC").upper()
            msg = address_warning(currency, address)
            if msg:
                out.warnings.append(f"{where}: {msg}")
            e["currency"].append(currency)
            e["address"].append(address)
            e["address_key"].append(canonical_address(address))
            e["label"].append(label)
            e["category"].append(category or "sanction")
            e["source"].append(source or str(path))
            e["confidence"].append(confidence)
            e["listed_since"].append(None)
    return out


def sanctions_check(
    store_dir: str | Path, address: str, day: dt.date, currency: str = "BTC"
) -> dict[str, Any]:
    """Whether ``address`` was on an imported sanctions list on ``day``, as a JSON-ready dict
    (``sanctioned``, the ``lists`` entries, ``warnings`` about days the lists do not cover).

    Errors rather than a false "not sanctioned": StoreError for a directory that is no store,
    AddressError for an invalid address, NotFoundError when no list was ever imported.
    """
    require_store(store_dir)
    key = checked_address(address, currency)
    warnings = sanctions_coverage(store_dir, day)
    with IntelStore.open(store_dir, read_only=True) as st:
        hits = st.list_hits(key, day)
        versions = st.list_versions()
    known = min((v["version"] for v in versions), default=None)
    lists = [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in h.items()} for h in hits]
    return {
        "address": address, "currency": currency.upper(), "on": day.isoformat(),
        "sanctioned": bool(hits), "lists": lists,
        "lists_known_from": known.isoformat() if known else None, "warnings": warnings,
    }  # fmt: skip
