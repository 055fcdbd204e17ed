"""Attribution as arrays over the chain store's address ids, for tracing, exposure and the API.

::

    attr = load_attribution(store_path, chain_store)     # chain_store: a ChainStore or None
    attr.addr_category[aid]      # int16 code into attr.categories, -1 = untagged
    attr.label_of(aid)           # best label of that address, or None
    attr.service_mask()          # True where a trail stops (exchange, mixer, market ...)
    attr.tags_for_address("1A1zP1...")   # every tag, best first (works for off-chain addresses)

Per address the *best* tag wins: abuse concepts (ransomware, sanction, scam ...) over entity
concepts (exchange, miner ...), then higher confidence, then newer lastmod. A tag's concept is
its ``abuse`` if set, else its ``category``, else its first concept. Category codes index
:data:`CATEGORIES`, the taxonomy's concept ids in file order, so codes are stable across stores.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chaintrail.intel.addresscheck import canonical_address, invalid_btc_addresses
from chaintrail.intel.model import (
    DEFAULT_TLP,
    columns_to_arrow,
    empty_columns,
    normalise_tlp,
    tag_to_public,
)
from chaintrail.intel.store import IntelStore
from chaintrail.intel.taxonomy import load_taxonomy

CATEGORIES: list[str] = list(load_taxonomy().concepts)
CATEGORY_CODE: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}

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


def _is_abuse(concept: str) -> bool:
    return concept == "abuse" or "abuse" in load_taxonomy().ancestors(concept)


def tag_concept(abuse: str | None, category: str | None, concepts: list[str] | None) -> str | None:
    """The one concept a tag is filed under: abuse, else category, else its first concept."""
    return abuse or category or (concepts[0] if concepts else None)


@dataclass
class Attribution:
    """Per-address-id attribution arrays plus on-demand tag lookups (see module docstring)."""

    store_path: Path
    addr_category: np.ndarray  # int16 per address id, -1 = none
    addr_label_idx: np.ndarray  # int32 per address id into labels, -1 = none
    addr_definer: np.ndarray  # bool per address id: has an is_cluster_definer tag
    labels: list[str]
    categories: list[str] = field(default_factory=lambda: list(CATEGORIES))
    n_tagged_offchain: int = 0  # tagged addresses not (yet) in the chain store

    def label_of(self, address_id: int) -> str | None:
        """Best label of one address id, or None."""
        if address_id < 0 or address_id >= self.addr_label_idx.shape[0]:
            return None
        i = int(self.addr_label_idx[address_id])
        return self.labels[i] if i >= 0 else None

    def category_of(self, address_id: int) -> str | None:
        """Best category (concept id) of one address id, or None."""
        if address_id < 0 or address_id >= self.addr_category.shape[0]:
            return None
        c = int(self.addr_category[address_id])
        return self.categories[c] if c >= 0 else None

    def labels_of(self, address_ids: np.ndarray | list[int]) -> list[str | None]:
        """Best labels of many address ids (None where untagged or -1)."""
        return [self.label_of(int(a)) for a in np.asarray(address_ids).tolist()]

    def service_mask(self) -> np.ndarray:
        """Bool per address id: its best category is a service where trails stop."""
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
        """Copy where untagged addresses take the best category/label of their cluster's
        ``is_cluster_definer`` tags (``cluster_of``: cluster id per address id)."""
        cluster_of = np.asarray(cluster_of, dtype=np.int64)
        cat = self.addr_category.copy()
        lab = self.addr_label_idx.copy()
        definers = np.flatnonzero(self.addr_definer[: cluster_of.shape[0]])
        if definers.size:
            order = definers[np.argsort(-_rank_array(self.addr_category[definers]), kind="stable")]
            best_cat: dict[int, tuple[int, int]] = {}
            for a in order.tolist():
                best_cat.setdefault(
                    int(cluster_of[a]), (int(self.addr_category[a]), int(self.addr_label_idx[a]))
                )
            cids = np.array(list(best_cat), dtype=np.int64)
            vals = np.array(list(best_cat.values()), dtype=np.int64).reshape(-1, 2)
            sorter = np.argsort(cids)
            pos = np.searchsorted(cids, cluster_of, sorter=sorter)
            pos = np.clip(pos, 0, max(len(cids) - 1, 0))
            hit = (cids[sorter][pos] == cluster_of) & (cat[: cluster_of.shape[0]] < 0)
            idx = np.flatnonzero(hit)
            cat[idx] = vals[sorter][pos[idx], 0]
            lab[idx] = vals[sorter][pos[idx], 1]
        return Attribution(
            self.store_path,
            cat,
            lab,
            self.addr_definer,
            self.labels,
            self.categories,
            self.n_tagged_offchain,
        )

    def tags_for_address(self, address: str) -> list[dict[str, Any]]:
        """Every tag on ``address`` (tags of addresses never seen on chain included), best first."""
        return tags_for_addresses(self.store_path, [address]).get(address, [])

    def tags_for_addresses(self, addresses: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Tags per address string (addresses without tags are left out)."""
        return tags_for_addresses(self.store_path, addresses)


_RANK_CACHE: dict[str, np.ndarray] = {}


def _rank_array(codes: np.ndarray) -> np.ndarray:
    if "r" not in _RANK_CACHE:
        _RANK_CACHE["r"] = np.array(
            [2 if _is_abuse(c) else 1 for c in CATEGORIES] + [0], dtype=np.int16
        )
    return _RANK_CACHE["r"][codes.astype(np.int64)]


def tags_for_addresses(
    store_path: str | Path, addresses: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Public tag dicts per address string, best first (reads ``intel.duckdb`` read-only)."""
    keys = {canonical_address(a): a for a in addresses}
    out: dict[str, list[dict[str, Any]]] = {}
    with IntelStore.open(store_path, read_only=True) as st:
        for row in st.tags_for(list(keys), "address"):
            out.setdefault(keys[row["subject_key"]], []).append(tag_to_public(row))
    return out


def load_attribution(store_path: str | Path, chain_store: Any | None = None) -> Attribution:
    """Attribution arrays over ``chain_store``'s address ids (zero-length without a chain store).

    Only Bitcoin address tags can map to chain address ids; all tags stay queryable by string.
    """
    store_path = Path(store_path)
    n_addr = 0
    if chain_store is not None:
        n_addr = int(chain_store.arrays().n_addresses)
    with IntelStore.open(store_path, read_only=True) as st:
        tbl = st.con.execute(
            "SELECT subject, currency, abuse, category, concepts, label, confidence_level, lastmod, is_cluster_definer "
            "FROM tags WHERE subject_type = 'address' AND (currency IS NULL OR upper(currency) = 'BTC')"
        ).fetchall()
    addr_category = np.full(n_addr, -1, np.int16)
    addr_label = np.full(n_addr, -1, np.int32)
    addr_definer = np.zeros(n_addr, bool)
    labels: list[str] = []
    if not tbl or chain_store is None:
        return Attribution(
            store_path, addr_category, addr_label, addr_definer, labels, n_tagged_offchain=len(tbl)
        )
    subjects = [r[0] for r in tbl]
    bad = set(invalid_btc_addresses(subjects))
    good = [i for i in range(len(subjects)) if i not in bad]
    ids = np.full(len(subjects), -1, np.int64)
    if good:
        ids[good] = np.asarray(chain_store.address_ids([subjects[i] for i in good]), dtype=np.int64)
    codes = np.array(
        [CATEGORY_CODE.get(tag_concept(r[2], r[3], r[4]) or "", -1) for r in tbl], dtype=np.int16
    )
    level = np.array([r[6] or 0 for r in tbl], dtype=np.int32)
    lastmod = np.array([(r[7] or dt.date(1970, 1, 1)).toordinal() for r in tbl], dtype=np.int64)
    on_chain = ids >= 0
    # best first: abuse > entity, then confidence, then lastmod; first row per address wins
    order = np.lexsort((-lastmod, -level, -_rank_array(codes), ids))
    order = order[on_chain[order]]
    first = np.ones(order.size, bool)
    first[1:] = ids[order][1:] != ids[order][:-1]
    best = order[first]
    labels = [tbl[i][5] for i in best.tolist()]
    addr_category[ids[best]] = codes[best]
    addr_label[ids[best]] = np.arange(best.size, dtype=np.int32)
    definer_rows = np.flatnonzero(on_chain & np.array([bool(r[8]) for r in tbl]))
    addr_definer[ids[definer_rows]] = True
    n_off = int(len(set(subjects)) - np.unique(ids[on_chain]).size)
    return Attribution(
        store_path, addr_category, addr_label, addr_definer, labels, n_tagged_offchain=n_off
    )


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
    from chaintrail.errors import ValidationError

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
    cols = empty_columns()
    key = canonical_address(subject) if subject_type == "address" else subject.lower()
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
