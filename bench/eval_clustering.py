"""Clustering accuracy on a simulated chain's ground truth (for ACCURACY.md).

    python bench/eval_clustering.py --chain DIR [--store STORE] [--markdown]

DIR is a ``chaintrail simulate`` output (blk files + ``truth/``); it is ingested once into
``DIR-store`` unless ``--store`` is given. For multi-input alone, for each single change
heuristic, for composite sets and for *perfect* change detection (the truth's
``change_vout``), prints pairwise precision/recall over address pairs (contingency counts),
entities split, impure clusters, the largest cluster, the share of the recall perfect change
detection adds over multi-input that each set recovers, and CoinJoin checks: truth CoinJoins
the detectors miss and CoinJoins whose inputs of different entities end up in one cluster.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

SETS = [
    "multi-input",
    "multi-input,change:address_reuse",
    "multi-input,change:address_type",
    "multi-input,change:optimal_change",
    "multi-input,change:power_of_ten",
    "multi-input,change:client_fingerprint",
    "multi-input,change:fingerprint_exclusion",
    "multi-input,change:fresh_address",
    "multi-input,change:peel_chain",
    "multi-input,change:fresh_address&address_type",
    "multi-input,change:fresh_address&address_type&few_outputs",
    "multi-input,change:fresh_address&address_type&optimal_change",
    "multi-input,change:client_fingerprint|fresh_address&address_type",
    "multi-input,change:client_fingerprint>fresh_address&address_type",
    "multi-input,change:client_fingerprint>power_of_ten>fresh_address&address_type&few_outputs",
    "multi-input,change:fingerprint_exclusion>power_of_ten>fresh_address&address_type&few_outputs",
    "multi-input,change:fingerprint_exclusion>fingerprint_exclusion&power_of_ten"
    ">fingerprint_exclusion&fresh_address&address_type&few_outputs",
    "multi-input,change:fingerprint_exclusion>power_of_ten>peel_chain"
    ">fresh_address&address_type&few_outputs",
]
MIX_KINDS = ("coinjoin_wasabi", "coinjoin_whirlpool_mix", "coinjoin_joinmarket")


def _store(chain: Path, store: Path | None) -> Path:
    target = store or Path(str(chain).rstrip("/") + "-store")
    if not (target / "MANIFEST.json").exists():
        print(f"ingesting {chain} into {target} ...", file=sys.stderr, flush=True)
        cmd = [
            sys.executable,
            "-m",
            "chaintrail",
            "ingest",
            str(chain / "blocks"),
            "--store",
            str(target),
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return target


def load_truth(chain: Path, store: Any) -> dict[str, np.ndarray]:
    """Truth mapped onto store ids: entity per address id, kind/entity/change vout per tx id."""
    addrs = pq.read_table(chain / "truth" / "addresses.parquet", columns=["address", "entity_id"])
    ids = store.address_ids(addrs.column("address").to_pylist())
    arrays = store.arrays()
    entity = np.full(arrays.n_addresses, -1, np.int64)
    known = ids >= 0
    entity[ids[known]] = addrs.column("entity_id").to_numpy()[known]
    txs = pq.read_table(chain / "truth" / "txs.parquet")
    txid_to_id = {h: i for i, h in enumerate(store.txids_hex(np.arange(arrays.n_txs)))}
    tx_ids = np.array([txid_to_id.get(h, -1) for h in txs.column("txid").to_pylist()])
    ok = tx_ids >= 0
    kind = np.full(arrays.n_txs, "", dtype=object)
    kind[tx_ids[ok]] = np.asarray(txs.column("kind").to_pylist(), dtype=object)[ok]
    change_vout = np.full(arrays.n_txs, -1, np.int64)
    change_vout[tx_ids[ok]] = txs.column("change_vout").to_numpy()[ok]
    return {"entity": entity, "kind": kind, "change_vout": change_vout}


def evaluate_sets(
    store: Any, truth: dict[str, np.ndarray], sets: list[str], guard: int | None = None
) -> list[dict]:
    """One result row per heuristic set, plus the perfect-change row."""
    from chaintrail.analysis.cluster_metrics import cross_entity_merges, pairwise_scores
    from chaintrail.analysis.clustering import (
        DEFAULT_GUARD_SIZE,
        cluster_arrays,
        merge_change_outputs,
        plain_arrays,
    )
    from chaintrail.analysis.coinjoin import MERGE_BLOCKING
    from chaintrail.analysis.unionfind import min_id_labels

    arrays = plain_arrays(store.arrays())
    mixes = np.flatnonzero(np.isin(truth["kind"], MIX_KINDS))
    rows = []
    base = None
    for spec in sets:
        t0 = time.perf_counter()
        state = cluster_arrays(arrays, spec, guard_size=guard or DEFAULT_GUARD_SIZE)
        row = {"set": spec, "seconds": time.perf_counter() - t0}
        row.update(pairwise_scores(state.labels, truth["entity"]))
        row["coinjoins_missed"] = int(
            np.count_nonzero((state.verdict[mixes] & MERGE_BLOCKING) == 0)
        )
        row["coinjoin_cross_entity"] = cross_entity_merges(
            mixes, arrays.tx_in_start, arrays.tx_n_in, arrays.in_addr, state.labels, truth["entity"]
        )
        row["change_refused"] = state.refused.num_rows
        rows.append(row)
        if spec == "multi-input":
            base = state
    assert base is not None
    parent, rank = np.array(base.parent), np.array(base.rank)
    has_change = (truth["change_vout"] >= 0) & ((base.verdict & MERGE_BLOCKING) == 0)
    tx_ids = np.flatnonzero(has_change)
    change_out = arrays.tx_out_start[tx_ids] + truth["change_vout"][tx_ids]
    merge_change_outputs(arrays, parent, rank, tx_ids, change_out, guard=np.iinfo(np.int32).max)
    labels = min_id_labels(parent)
    perfect = {"set": "multi-input + perfect change (truth change_vout)", "seconds": 0.0}
    perfect.update(pairwise_scores(labels, truth["entity"]))
    perfect["coinjoins_missed"] = rows[0]["coinjoins_missed"]
    perfect["coinjoin_cross_entity"] = cross_entity_merges(
        mixes, arrays.tx_in_start, arrays.tx_n_in, arrays.in_addr, labels, truth["entity"]
    )
    perfect["change_refused"] = 0
    rows.append(perfect)
    r0, rp = rows[0]["recall"], perfect["recall"]
    for row in rows:
        row["recall_gain_share"] = (row["recall"] - r0) / (rp - r0) if rp > r0 else 0.0
    return rows


def detector_report(store: Any, truth: dict[str, np.ndarray]) -> list[str]:
    """Per truth CoinJoin kind: how many txs, how many each detector flags."""
    from chaintrail.analysis.clustering import plain_arrays
    from chaintrail.analysis.coinjoin import DETECTORS, detect_coinjoins

    verdict = detect_coinjoins(plain_arrays(store.arrays()))
    lines = []
    kinds = [*MIX_KINDS, "coinjoin_whirlpool_tx0"]
    for kind in kinds:
        sel = truth["kind"] == kind
        hits = {n: int(np.count_nonzero(verdict[sel] & b)) for n, b in DETECTORS.items()}
        lines.append(
            f"{kind}: {int(sel.sum())} txs; flagged by "
            + ", ".join(f"{n} {h}" for n, h in hits.items() if h)
        )
    other = ~np.isin(truth["kind"], kinds) & (truth["kind"] != "")
    for n, b in DETECTORS.items():
        fp = int(np.count_nonzero(verdict[other] & b))
        lines.append(f"non-CoinJoin txs flagged by {n}: {fp} of {int(other.sum())}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Evaluate every set and print a table (markdown with ``--markdown``)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chain", type=Path, required=True)
    ap.add_argument("--store", type=Path)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--guard", type=int, help="change-merge guard size (default: the product's)")
    ap.add_argument("--set", action="append", default=[], help="evaluate only these sets")
    args = ap.parse_args(argv)
    from chaintrail.store import ChainStore

    store = ChainStore.open(_store(args.chain, args.store))
    truth = load_truth(args.chain, store)
    n_labelled = int(np.count_nonzero(truth["entity"] >= 0))
    print(f"chain {args.chain}: {store.arrays().n_txs:,} txs, {n_labelled:,} addresses with truth")
    for line in detector_report(store, truth):
        print("  " + line)
    sets = ["multi-input", *args.set] if args.set else SETS
    rows = evaluate_sets(store, truth, sets, args.guard)
    cols = [
        ("set", "{}"), ("precision", "{:.4f}"), ("recall", "{:.4f}"),
        ("recall_gain_share", "{:.2f}"), ("clusters", "{:,}"), ("entities_split", "{:,}"),
        ("impure_clusters", "{:,}"), ("largest_cluster", "{:,}"), ("coinjoins_missed", "{}"),
        ("coinjoin_cross_entity", "{}"), ("change_refused", "{:,}"), ("seconds", "{:.2f}"),
    ]  # fmt: skip
    if args.markdown:
        print("| " + " | ".join(c for c, _ in cols) + " |")
        print("|" + "---|" * len(cols))
        for row in rows:
            cells = (f.format(row[c]).replace("|", "\\|") for c, f in cols)
            print("| " + " | ".join(cells) + " |")
    else:
        for row in rows:
            print("  ".join(f"{c}={f.format(row[c])}" for c, f in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
