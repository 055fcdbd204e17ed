"""Clustering accuracy on a simulated chain's ground truth (for ACCURACY.md).

    python bench/eval_clustering.py --chain DIR [--store STORE] [--markdown]
    python bench/eval_clustering.py --matrix tuning|reporting --work DIR [--markdown]

DIR is a ``chaintrail simulate`` output (blk files + ``truth/``); it is ingested once into
``DIR-store`` unless ``--store`` is given. For multi-input alone, for each single change
heuristic, for composite sets and for *perfect* change detection (the truth's
``change_vout``), prints pairwise precision/recall over address pairs (contingency counts),
entities split, impure clusters, the largest cluster, the share of the recall perfect change
detection adds over multi-input that each set recovers, and CoinJoin checks: truth CoinJoins
(and PayJoins) the detectors miss and ones whose inputs of different entities end up in one
cluster.

``--matrix`` runs every (variant, seed) of the tuning or reporting set (bench/variant_matrix.py)
under ``--work`` and prints a table per variant (multi-input and the default set; min/mean
over seeds) and a per-heuristic table (each change heuristic's picks against the truth:
precision and recall per transaction, pairwise precision of its clustering) over the set.
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
MIX_KINDS = (
    "coinjoin_wasabi",
    "coinjoin_whirlpool_mix",
    "coinjoin_joinmarket",
    "coinjoin_wabisabi",
    "payjoin",
)
# the single heuristics the per-heuristic table scores (plus the default set)
SINGLE = (
    "address_type",
    "optimal_change",
    "power_of_ten",
    "client_fingerprint",
    "fingerprint_exclusion",
    "fresh_address",
    "peel_chain",
    "fresh_address&address_type&few_outputs",
)


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


# the default change set before this evaluation existed (issue 4), run as it was: without
# the payjoin_like and multiparty detectors and without the absorb guard
PREVIOUS_DEFAULT = (
    "multi-input,change:fingerprint_exclusion>fingerprint_exclusion&power_of_ten"
    ">fingerprint_exclusion&fresh_address&address_type&few_outputs"
)


def previous_scores(store: Any, truth: dict[str, np.ndarray]) -> dict[str, Any]:
    """Pairwise scores of :data:`PREVIOUS_DEFAULT` the way it ran before (see there)."""
    from chaintrail.analysis.cluster_metrics import pairwise_scores
    from chaintrail.analysis.clustering import cluster_arrays, plain_arrays
    from chaintrail.analysis.coinjoin import MULTIPARTY, PAYJOIN_LIKE

    state = cluster_arrays(plain_arrays(store.arrays()), PREVIOUS_DEFAULT, absorb_ratio=0,
                           ignore_detectors=PAYJOIN_LIKE | MULTIPARTY)  # fmt: skip
    return pairwise_scores(state.labels, truth["entity"])


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
    if base is None:
        base = cluster_arrays(arrays, "multi-input", guard_size=guard or DEFAULT_GUARD_SIZE)
    parent, rank = np.array(base.parent), np.array(base.rank)
    # perfect change: the truth's change of every tx that has one (single-owner txs: a
    # PayJoin or CoinJoin has none), whatever the detectors say
    has_change = truth["change_vout"] >= 0
    tx_ids = np.flatnonzero(has_change)
    change_out = arrays.tx_out_start[tx_ids] + truth["change_vout"][tx_ids]
    merge_change_outputs(
        arrays, parent, rank, tx_ids, change_out, guard=np.iinfo(np.int32).max, absorb_ratio=0
    )
    labels = min_id_labels(parent)
    perfect = {"set": "multi-input + perfect change (truth change_vout)", "seconds": 0.0}
    perfect.update(pairwise_scores(labels, truth["entity"]))
    perfect["coinjoins_missed"] = rows[0]["coinjoins_missed"]
    perfect["coinjoin_cross_entity"] = cross_entity_merges(
        mixes, arrays.tx_in_start, arrays.tx_n_in, arrays.in_addr, labels, truth["entity"]
    )
    perfect["change_refused"] = 0
    rows.append(perfect)
    r0 = pairwise_scores(base.labels, truth["entity"])["recall"]
    rp = perfect["recall"]
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


def pick_scores(store: Any, truth: dict[str, np.ndarray], exprs: list[str]) -> list[dict]:
    """Per change expression: the txs it judges (a unique pick among eligible txs, as the
    clustering would merge), how many picks are the truth's change, and how many txs have one."""
    from chaintrail.analysis.change_expr import parse_change_expr
    from chaintrail.analysis.clustering import change_picks, cluster_arrays, plain_arrays
    from chaintrail.analysis.unionfind import roots

    arrays = plain_arrays(store.arrays())
    base = cluster_arrays(arrays, "multi-input")
    verdict = np.asarray(base.verdict)
    rts = roots(np.array(base.parent))
    true_out = np.where(
        truth["change_vout"] >= 0, arrays.tx_out_start + truth["change_vout"], -1
    ).astype(np.int64)
    rows = []
    for text in exprs:
        pick, _ = change_picks(arrays, parse_change_expr(text), verdict, rts, 0, arrays.n_txs)
        judged = pick >= 0
        rows.append(
            {
                "heuristic": text,
                "judged": int(judged.sum()),
                "right": int((judged & (pick == true_out)).sum()),
                "with_change": int((true_out >= 0).sum()),
            }
        )
    return rows


def matrix(args: argparse.Namespace) -> int:
    """Every (variant, seed) of a set: a table per variant and a per-heuristic table."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.variant_matrix import SETS, cells, prepare
    from chaintrail.analysis.clustering import DEFAULT_CHANGE
    from chaintrail.store import ChainStore

    variants, seeds = SETS[args.matrix]
    exprs = [*SINGLE, DEFAULT_CHANGE]
    sets = ["multi-input", *(f"multi-input,change:{e}" for e in exprs)]
    per_variant: dict[str, list[dict]] = {}
    picks: dict[str, list[dict]] = {}
    for variant, seed in cells(args.matrix, args.variant or None):
        chain = prepare(args.work, variant, seed, args.preset)
        store = ChainStore.open(chain / "store")
        truth = load_truth(chain, store)
        rows = evaluate_sets(store, truth, sets, args.guard)
        for r in rows:
            r["variant"], r["seed"] = variant, seed
        per_variant.setdefault(variant, []).extend(rows)
        for r in pick_scores(store, truth, exprs):
            picks.setdefault(r["heuristic"], []).append(r)
        prev = previous_scores(store, truth)
        per_variant[variant].append({"set": "previous", **prev, "recall_gain_share": 0.0,
                                     "coinjoins_missed": 0, "coinjoin_cross_entity": 0})  # fmt: skip
        d = next(r for r in rows if r["set"] == sets[-1])
        print(f"{variant} seed {seed}: default precision {d['precision']:.4f} recall "
              f"{d['recall']:.4f} impure {d['impure_clusters']}", file=sys.stderr, flush=True)  # fmt: skip
    print(f"{args.matrix} set: variants {', '.join(variants)}; seeds "
          f"{', '.join(map(str, seeds))}; preset {args.preset}")  # fmt: skip
    print()
    print("| variant | set | precision (min / mean) | recall | gain share | impure clusters | "
          "largest cluster | CoinJoins/PayJoins missed | cross-entity mixes |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    labels = {"multi-input": "multi-input", sets[-1]: "default",
              "previous": "previous default (issue 4)"}  # fmt: skip
    for variant, rows in per_variant.items():
        for spec, label in labels.items():
            sub = [r for r in rows if r["set"] == spec]
            p = [r["precision"] for r in sub]
            tail = (
                f"{np.mean([r['recall_gain_share'] for r in sub]):.2f} | "
                f"{sum(r['impure_clusters'] for r in sub):,} | "
                f"{max(r['largest_cluster'] for r in sub):,} | "
                f"{sum(r['coinjoins_missed'] for r in sub):,} | "
                f"{sum(r['coinjoin_cross_entity'] for r in sub):,} |"
            )
            if spec == "previous":
                tail = f"- | {sum(r['impure_clusters'] for r in sub):,} | " \
                       f"{max(r['largest_cluster'] for r in sub):,} | - | - |"  # fmt: skip
            print(
                f"| {variant} | {label} | {min(p):.4f} / {np.mean(p):.4f} | "
                f"{np.mean([r['recall'] for r in sub]):.4f} | {tail}"
            )
    print()
    print("| heuristic | pairwise precision (min / mean over chains) | pairwise recall | "
          "txs judged | pick precision | pick recall |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    every = [r for rows in per_variant.values() for r in rows]
    for e in exprs:
        sub = [r for r in every if r["set"] == f"multi-input,change:{e}"]
        p = [r["precision"] for r in sub]
        k = picks[e]
        judged, right = sum(r["judged"] for r in k), sum(r["right"] for r in k)
        name = ("**default** " if e == DEFAULT_CHANGE else "") + e.replace("|", "\\|")
        print(
            f"| {name} | {min(p):.4f} / {np.mean(p):.4f} | "
            f"{np.mean([r['recall'] for r in sub]):.4f} | {judged:,} | "
            f"{right / max(judged, 1):.4f} | {right / max(sum(r['with_change'] for r in k), 1):.4f} |"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Evaluate every set and print a table (markdown with ``--markdown``)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chain", type=Path)
    ap.add_argument("--matrix", choices=("tuning", "reporting"))
    ap.add_argument("--work", type=Path, help="where --matrix keeps its chains")
    ap.add_argument("--variant", action="append", default=[], help="--matrix: only these")
    ap.add_argument("--preset", default="small", help="--matrix: simulator preset")
    ap.add_argument("--store", type=Path)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--guard", type=int, help="change-merge guard size (default: the product's)")
    ap.add_argument("--set", action="append", default=[], help="evaluate only these sets")
    args = ap.parse_args(argv)
    if args.matrix:
        if args.work is None:
            ap.error("--matrix needs --work DIR")
        return matrix(args)
    if args.chain is None:
        ap.error("give --chain DIR or --matrix SET --work DIR")
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
