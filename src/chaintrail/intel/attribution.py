"""Attribution as arrays over every address id of the chain store: what tracing, exposure,
risk and the API see.

::

    attr = load_attribution(store_path, chain_store, cluster_of)   # cluster_of None: own tags only
    attr.addr_category[aid]      # int16 code into attr.categories, -1 = untagged
    attr.label_of(aid)           # label of that address, or None
    attr.service_mask()          # True where a trail stops (exchange, mixer, market ...)
    attr.tags_for_address("1A1zP1...")   # every tag, best first (works for off-chain addresses)

Which tag an address shows is decided by :mod:`chaintrail.intel.attribution_rules` (the best tag
wins; an untagged address takes the tag that names its cluster), as it is for the lookups of a
few addresses in :mod:`chaintrail.intel.attribution_lookup`, so every surface agrees. Category
codes index :data:`CATEGORIES`, the taxonomy's concept ids in file order, so codes are stable
across stores.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chaintrail.errors import AddressError, ValidationError
from chaintrail.intel.addresscheck import (
    canonical_address,
    checked_address,
    invalid_btc_addresses,
)
from chaintrail.intel.attribution_rules import (
    CATEGORIES,
    TagRows,
    named_clusters,
    rank_key,
    resolve,
)
from chaintrail.intel.model import (
    DEFAULT_TLP,
    columns_to_arrow,
    empty_columns,
    normalise_tlp,
    tag_to_public,
)
from chaintrail.intel.store import IntelStore
from chaintrail.intel.taxonomy import load_taxonomy

__all__ = ["CATEGORIES", "SERVICE_CATEGORIES", "Attribution", "add_tag", "exposure_group",
           "load_attribution", "tag_address_ids", "tags_for_addresses"]  # fmt: skip

#: Categories of services where a trail stops (funds reached a custodian or a mixing pool).
SERVICE_CATEGORIES = frozenset({
    "exchange", "mixing_service", "coinjoin", "gambling", "market", "miner", "mining_service",
    "payment_processor", "wallet_service", "atm", "shop", "faucet", "hosting", "vpn", "escrow_wallet",
    "hot_wallet", "cold_wallet", "deposit_wallet", "defi", "defi_dex", "defi_lending", "defi_bridge",
    "defi_derivatives", "defi_staking", "defi_custody", "ico_wallet", "service",
})  # fmt: skip

#: Exposure group of a concept (nearest match of the concept or its broader concepts).
EXPOSURE_GROUPS: dict[str, str] = {
    "sanction": "sanctions", "gov_black_list": "sanctions", "black_list": "sanctions",
    "ransomware": "ransomware",
    "market": "darknet market", "dark_web": "darknet market", "drugs": "darknet market",
    "weapons": "darknet market", "counterfeit": "darknet market", "payment_card_fraud": "darknet market",
    "mixing_service": "mixer", "mixing": "mixer", "coinjoin": "mixer",
    "scam": "scam", "phishing": "scam", "extortion": "scam", "financial_crime": "scam",
    "hacking": "stolen funds", "malware": "stolen funds",
    "terrorism": "terrorism financing", "terrorism_financing": "terrorism financing", "extremism": "terrorism financing",
    "sexual_abuse": "child abuse", "child_sexual_abuse": "child abuse", "human_trafficking": "child abuse",
    "money_laundering": "money laundering",
    "exchange": "exchange", "gambling": "gambling", "miner": "mining", "mining_service": "mining",
    "defi": "defi", "payment_processor": "payment processor", "wallet_service": "wallet service",
    "atm": "exchange",
    "victim": "victim", "perpetrator": "perpetrator",
    "abuse": "other illicit", "entity": "other service",
}  # fmt: skip


def exposure_group(category: str | None) -> str | None:
    """The exposure group (``sanctions``, ``ransomware``, ``darknet market``, ``mixer``, ``scam``,
    ``exchange``, ``gambling`` ...) of a concept id, via its broader concepts; None if none fits."""
    if not category:
        return None
    for c in [category, *load_taxonomy().ancestors(category)]:
        if c in EXPOSURE_GROUPS:
            return EXPOSURE_GROUPS[c]
    return None


#: The columns resolution needs, for every tag that can attribute a Bitcoin address
_ROW_SQL = (
    f"SELECT {', '.join(TagRows.FIELDS)} FROM tags"
    " WHERE (currency IS NULL OR upper(currency) = 'BTC') AND subject_type IN ('address', 'cluster')"
)


@dataclass
class Attribution:
    """Per-address-id attribution arrays (see the module docstring); ``rows`` are the tags
    behind them, ``row_address`` the address id each address tag is on (-1 otherwise)."""

    store_path: Path
    addr_category: np.ndarray  # int16 per address id, -1 = none
    addr_label_idx: np.ndarray  # int32 per address id into labels (a tag row), -1 = none
    labels: list[str]
    rows: TagRows
    row_address: np.ndarray  # int64 per row
    categories: list[str] = field(default_factory=lambda: list(CATEGORIES))
    n_tagged_offchain: int = 0  # tagged addresses not (yet) in the chain store

    def label_of(self, address_id: int) -> str | None:
        """Label of one address id, or None."""
        if address_id < 0 or address_id >= self.addr_label_idx.shape[0]:
            return None
        i = int(self.addr_label_idx[address_id])
        return self.labels[i] if i >= 0 else None

    def category_of(self, address_id: int) -> str | None:
        """Category (concept id) of one address id, or None."""
        if address_id < 0 or address_id >= self.addr_category.shape[0]:
            return None
        c = int(self.addr_category[address_id])
        return self.categories[c] if c >= 0 else None

    def labels_of(self, address_ids: np.ndarray | list[int]) -> list[str | None]:
        """Labels of many address ids (None where untagged or -1)."""
        return [self.label_of(int(a)) for a in np.asarray(address_ids).tolist()]

    def categories_of(self, address_ids: np.ndarray | list[int]) -> list[str | None]:
        """Categories of many address ids (None where untagged or -1)."""
        return [self.category_of(int(a)) for a in np.asarray(address_ids).tolist()]

    def any_tagged(self) -> bool:
        """Whether any address of the chain has a category."""
        return bool((self.addr_category >= 0).any())

    def own_tag_mask(self) -> np.ndarray:
        """Bool per address id: the tag labelling it is on the address itself (not a tag of
        its cluster): a trace that ends there rests on no clustering heuristic."""
        idx = self.addr_label_idx.astype(np.int64)
        own = np.zeros(idx.shape[0], dtype=bool)
        has = np.flatnonzero(idx >= 0)
        own[has] = self.row_address[idx[has]] == has
        return own

    def service_mask(self) -> np.ndarray:
        """Bool per address id: its category is a service where trails stop."""
        codes = np.array([c in SERVICE_CATEGORIES for c in self.categories] + [False], dtype=bool)
        return codes[self.addr_category.astype(np.int64)]  # -1 indexes the trailing False

    def group_codes(self) -> tuple[np.ndarray, list[str]]:
        """(int16 exposure-group code per address id, -1 none; group names)."""
        groups = sorted({g for g in EXPOSURE_GROUPS.values()})
        gi = {g: i for i, g in enumerate(groups)}
        lut = np.array(
            [gi.get(exposure_group(c) or "", -1) for c in self.categories] + [-1], dtype=np.int16
        )
        return lut[self.addr_category.astype(np.int64)], groups

    def exposure_codes(self) -> tuple[np.ndarray, list[str]]:
        """(code per address id with 0 = untagged, names with names[0] = ""), the shape
        :class:`chaintrail.analysis.exposure.AddressTags` takes."""
        return (self.addr_category.astype(np.int32) + 1), ["", *self.categories]

    def with_clusters(self, cluster_of: np.ndarray) -> Attribution:
        """Copy where untagged addresses take the tag that names their cluster
        (``cluster_of``: cluster id per address id)."""
        return _arrays(self.store_path, self.rows, self.row_address, self.addr_category.shape[0],
                       np.asarray(cluster_of, dtype=np.int64), self.n_tagged_offchain)  # fmt: skip

    def tags_for_address(self, address: str) -> list[dict[str, Any]]:
        """Every tag on ``address`` (tags of addresses never seen on chain included), best first."""
        return tags_for_addresses(self.store_path, [address]).get(address, [])

    def tags_for_addresses(self, addresses: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Tags per address string (addresses without tags are left out)."""
        return tags_for_addresses(self.store_path, addresses)


def tag_address_ids(chain_store: Any, subjects: list[str], types: list[str]) -> np.ndarray:
    """The chain address id each address tag is on (-1 for cluster tags, malformed addresses
    and addresses not on chain, or without a chain store)."""
    ids = np.full(len(subjects), -1, np.int64)
    idx = [i for i, t in enumerate(types) if t == "address"]
    bad = set(invalid_btc_addresses([subjects[i] for i in idx]))
    good = [i for k, i in enumerate(idx) if k not in bad]
    if good and chain_store is not None:
        ids[good] = np.asarray(chain_store.address_ids([subjects[i] for i in good]), dtype=np.int64)
    return ids


def _arrays(store_path: Path, rows: TagRows, row_address: np.ndarray, n_addr: int,
            cluster_of: np.ndarray | None, n_off: int) -> Attribution:  # fmt: skip
    row_cluster = np.full(len(rows), -1, dtype=np.int64)
    if cluster_of is not None:
        row_cluster = named_clusters(rows, row_address, lambda ids: cluster_of[ids])
    winner, _ = resolve(rows, row_address, row_cluster, np.arange(n_addr, dtype=np.int64), cluster_of)
    category = np.full(n_addr, -1, dtype=np.int16)
    category[winner >= 0] = rows.code[winner[winner >= 0]]
    return Attribution(store_path, category, winner.astype(np.int32), rows.label, rows, row_address,
                       n_tagged_offchain=n_off)  # fmt: skip


def load_attribution(
    store_path: str | Path, chain_store: Any | None = None, cluster_of: np.ndarray | None = None
) -> Attribution:
    """Attribution arrays over ``chain_store``'s address ids (zero-length without a chain store);
    with ``cluster_of`` (cluster id per address id) untagged addresses take the tag that names
    their cluster. Only Bitcoin address tags and cluster tags map to chain addresses; every tag
    stays queryable by string (:func:`tags_for_addresses`)."""
    store_path = Path(store_path)
    n_addr = int(chain_store.arrays().n_addresses) if chain_store is not None else 0
    with IntelStore.open(store_path, read_only=True) as st:
        tbl = st.con.execute(_ROW_SQL).fetchall()
    columns = list(zip(*tbl, strict=True)) if tbl else [()] * len(TagRows.FIELDS)
    rows = TagRows.from_columns(columns)
    types, subjects = list(columns[0]), list(columns[1])
    row_address = tag_address_ids(chain_store, subjects, types)
    tagged = {s for s, t in zip(subjects, types, strict=True) if t == "address"}
    on_chain = {s for s, a in zip(subjects, row_address.tolist(), strict=True) if a >= 0}
    if cluster_of is not None:
        cluster_of = np.asarray(cluster_of, dtype=np.int64)
    return _arrays(store_path, rows, row_address, n_addr, cluster_of, len(tagged - on_chain))


def tags_for_addresses(
    store_path: str | Path, addresses: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Public tag dicts per address string, best first by the attribution rule (reads
    ``intel.duckdb`` read-only)."""
    keys = {canonical_address(a): a for a in addresses}
    out: dict[str, list[dict[str, Any]]] = {}
    with IntelStore.open(store_path, read_only=True) as st:
        for row in st.tags_for(list(keys), "address"):
            out.setdefault(keys[row["subject_key"]], []).append(tag_to_public(row))
    for tags in out.values():
        tags.sort(key=rank_key)  # stable: the store's order breaks ties
    return out


def _subject_key(subject: str, subject_type: str, currency: str) -> str:
    """The lookup key of a tag's subject; ValidationError naming it when it cannot be one."""
    if subject_type == "address":
        try:
            return checked_address(subject, currency)
        except AddressError as exc:
            raise ValidationError(str(exc), field="subject") from exc
    if subject_type == "tx" and not re.fullmatch(r"[0-9a-fA-F]{64}", subject):
        raise ValidationError(f"a txid is 64 hex digits, got {subject!r}", field="subject")
    if subject_type == "cluster" and not subject.isdigit():
        raise ValidationError(f"a cluster id is an integer, got {subject!r}", field="subject")
    return subject.lower()


def add_tag(
    store_path: str | Path,
    subject: str,
    label: str,
    category: str | None = None,
    *,
    subject_type: str = "address",
    currency: str = "BTC",
    abuse: str | None = None,
    concepts: list[str] | None = None,
    actor: str | None = None,
    confidence: str = "forensic_investigation",
    source: str = "analyst",
    creator: str | None = None,
    lastmod: dt.date | None = None,
    tlp: str | None = None,
    provenance: str = "analyst",
    is_cluster_definer: bool = False,
    pack_id: str = "analyst",
) -> dict[str, Any]:
    """Add one tag (validated against the taxonomy) and return it as a public dict.

    Tags added this way live in the pack ``pack_id`` (default ``analyst``) next to imported
    packs; they are never replaced by re-importing a TagPack.
    """
    taxo = load_taxonomy()
    for name, val in (("category", category), ("abuse", abuse)):
        if val is not None and val not in taxo.concepts:
            raise ValidationError(f"unknown concept {val!r}", field=name)
    for c in concepts or []:
        if c not in taxo.concepts:
            raise ValidationError(f"unknown concept {c!r}", field="concepts")
    if confidence not in taxo.confidence:
        raise ValidationError(f"unknown confidence {confidence!r}", field="confidence")
    if subject_type not in ("address", "tx", "cluster"):
        raise ValidationError("subject_type must be address, tx or cluster", field="subject_type")
    if not label:
        raise ValidationError("a tag needs a label", field="label")
    allc = list(concepts or [])
    for c in (abuse, category):
        if c and c not in allc:
            allc.append(c)
    key = _subject_key(subject, subject_type, currency)
    cols = empty_columns()
    row = {
        "pack_id": pack_id, "subject_type": subject_type, "subject": subject, "subject_key": key,
        "currency": currency, "network": currency, "label": label, "category": category, "abuse": abuse,
        "concepts": allc, "actor": actor, "confidence": confidence, "confidence_level": taxo.level(confidence),
        "source": source, "creator": creator, "lastmod": lastmod or dt.date.today(),
        "tlp": normalise_tlp(tlp) or DEFAULT_TLP.get(provenance, "AMBER"), "provenance": provenance,
        "is_cluster_definer": is_cluster_definer, "tag_type": None, "context": None, "line": None,
    }  # fmt: skip
    for k, v in row.items():
        cols[k].append(v)
    table = columns_to_arrow(cols)  # validates the text before anything is opened
    with IntelStore.open(store_path) as st, st.transaction():
        st.insert_arrow("tags", table)
    return tag_to_public(row)
