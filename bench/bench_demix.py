"""Cost of demixing: the crime scenarios' forward traces with demixing on, beside the same
traces with plain haircut through CoinJoins (``--no-demix``) in the same run.

    python bench/bench_demix.py --chain DIR [--repeat 3]

DIR is a ``chaintrail simulate`` output (any variant; ``--variant launder`` or ``privacy``
exercise the Whirlpool/WabiSabi rules); it is ingested, clustered and tagged once into
``DIR/store`` (bench/eval_tracing.py's preparation). Per scenario: best-of-N wall time, txs
crossed, and how many mixes the trace demixed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.eval_tracing import prepare_store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Time every scenario's trace with and without demixing."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chain", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hops", type=int, default=30)
    args = ap.parse_args(argv)

    from chaintrail.analysis.trace_models import Rule, TraceParams
    from chaintrail.intel.tracing import open_trace_context
    from chaintrail.store import ChainStore

    ctx = open_trace_context(ChainStore.open(prepare_store(args.chain)))
    mixes = ctx.tracer.coinjoin_tx
    scenarios = json.loads((args.chain / "truth" / "scenarios.json").read_text())["scenarios"]
    print(f"chain {args.chain}: {ctx.chain.n_txs:,} txs; best of {args.repeat}")
    print("| scenario | demix on | txs crossed | mixes demixed | demix off (baseline) | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for sc in scenarios:
        ids = ctx.store.address_ids(sc["seed_addresses"])
        times = {}
        for demix in (True, False):
            params = TraceParams(hops=args.hops, stop_at_services=True, demix=demix,
                                 max_frontier=50_000)  # fmt: skip
            seeds = ctx.tracer.seeds_for_addresses(ids[ids >= 0], params)
            ctx.tracer.run(seeds, params)  # warm
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                flow = ctx.tracer.run(seeds, params)
                best = min(best, time.perf_counter() - t0)
            times[demix] = (best, flow)
        (t_on, flow), (t_off, _) = times[True], times[False]
        demixed = np.unique(flow.rec_tx[(flow.rec_rule != Rule.MODEL) & mixes[flow.rec_tx]]).size
        print(f"| {sc['name']} | {t_on * 1000:.0f} ms | {flow.txs_crossed:,} | {demixed:,} | "
              f"{t_off * 1000:.0f} ms | {t_on / t_off:.1f}x |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
