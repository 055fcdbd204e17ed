"""``make demo``: a whole case on the embedded default, from raw blocks to where the ransom went.

Steps (each one is an ordinary ``chaintrail`` command, printed before it runs so a new user can
repeat it by hand):

1. ingest real mainnet blocks 0-438 (bundled) and look up the genesis payment and Hal Finney's 10 BTC;
2. simulate a small economy with crime scenarios (blk files + ground truth) and ingest it;
3. import the demo's service TagPack, cluster addresses, and show the ransomware seeds' cluster;
4. trace the ransom forward (haircut, stop at services), filed into a hub case of the national
   police unit, and compare the cash-out with the truth;
5. the cooperation hub: the case shared TLP:AMBER with the coordination hub, read there, and the
   tamper-evident audit chain verified and anchored;
6. print how to serve the API and three requests to try.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from chaintrail.amounts import btc

console = Console()
_quiet = False  # --compile-only: run the steps without showing them
GENESIS_ADDRESS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
HAL_TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


def _chaintrail(*args: str, capture: bool = False) -> str:
    """Run one chaintrail command as a user would, echoing it; stop the demo if it fails."""
    shown = " ".join(["chaintrail", *args])
    console.print(f"[bold cyan]$ {shown}[/]")
    exe = [sys.executable, "-m", "chaintrail", *args]
    proc = subprocess.run(exe, text=True, capture_output=capture or _quiet)
    if proc.returncode != 0:
        if capture or _quiet:
            sys.stderr.write(proc.stderr)
        raise SystemExit(f"demo step failed: {shown} (exit {proc.returncode})")
    return proc.stdout if capture else ""


def _json(*args: str) -> dict:
    return json.loads(_chaintrail(*args, "--json", capture=True))


def step_mainnet(out: Path) -> None:
    """Ingest the bundled real blocks and show two famous payments."""
    console.rule("1. Real Bitcoin: mainnet blocks 0-438")
    store = out / "mainnet-store"
    blocks = resources.files("chaintrail") / "data" / "mainnet_blocks_0-438.dat"
    with resources.as_file(blocks) as path:
        _chaintrail("ingest", str(path), "--store", str(store))
    _chaintrail("stats", "--store", str(store))
    addr = _json("address", GENESIS_ADDRESS, "--store", str(store))
    console.print(
        f"genesis address {addr['address']}: received {btc(addr['total_received'])}, "
        f"{addr['tx_count']} tx, first seen at height {addr['first_seen_height']}"
    )
    tx = _json("tx", HAL_TX, "--store", str(store))
    for o in tx["outputs"]:
        console.print(
            f"  block {tx['height']} tx {HAL_TX[:16]}.. output {o['index']}: "
            f"{btc(o['value'])} -> {o['address']}"
        )


def step_simulate(out: Path, preset: str, seed: int) -> tuple[Path, dict]:
    """Simulate an economy with crime scenarios and ingest its block files."""
    console.rule(f"2. A simulated economy with crime scenarios ({preset}, seed {seed})")
    sim = out / "sim"
    store = out / "store"
    _chaintrail("simulate", "--preset", preset, "--seed", str(seed), "--out", str(sim))
    _chaintrail("ingest", str(sim / "blocks"), "--store", str(store))
    scenarios = json.loads((sim / "truth" / "scenarios.json").read_text())["scenarios"]
    ransom = next(s for s in scenarios if s["kind"] == "ransomware")
    console.print(
        f"The ransomware case: victims paid the {len(ransom['seed_addresses'])} ransom addresses "
        f"listed above (the seeds an investigator starts from), {btc(ransom['total_amount'])} in all."
    )
    return store, ransom


def step_attribute_and_cluster(out: Path, store: Path, ransom: dict) -> None:
    """Import the services TagPack, cluster addresses, show the ransom seeds' cluster."""
    console.rule("3. Attribution and clustering")
    pack = out / "sim" / "truth" / "services.tagpack.yaml"
    _chaintrail("tags", "import", str(pack), "--store", str(store))
    _chaintrail("cluster", "--store", str(store))
    seed = ransom["seed_addresses"][0]
    info = _json("address", seed, "--store", str(store))
    members = _json("cluster-info", str(info["cluster_id"]), "--store", str(store))
    console.print(
        f"ransom address {seed} is in cluster {info['cluster_id']}: {members['size']} addresses, "
        f"received {btc(members['total_received'])}, balance {btc(members['balance'])}"
    )


POLICE = "National Police Cyber Unit"
HUB = "Coordination Hub"


def step_open_case(store: Path) -> int:
    """Set up the hub of the national police unit and open the ransomware case."""
    console.rule("4. A case in the hub, and where the ransom went")
    _chaintrail(
        "hub", "init", "--store", str(store), "--org", POLICE, "--country", "AT", "--kind", "police"
    )
    case = _json(
        "hub",
        "case",
        "open",
        "Ransomware campaign (simulated)",
        "--tlp",
        "AMBER",
        "--store",
        str(store),
    )
    return int(case["id"])


def step_trace(store: Path, ransom: dict, case_id: int | None = None) -> None:
    """Trace the ransom forward to the exchanges (filed into the case if given), compare with
    the truth."""
    export = store.parent / "ransom-trace.json"
    args = ["trace", *ransom["seed_addresses"], "--hops", "30", "--stop-at-services"]
    filing = ["--case", str(case_id)] if case_id is not None else []
    _chaintrail(*args, "--store", str(store), "--out", str(export), *filing)  # table + JSON (+ case)
    result = json.loads(export.read_text())
    got = {t["address"]: t for t in result["terminals"]}
    table = Table(
        title="cash-out found by the trace vs the simulator's truth", title_justify="left"
    )
    for col in ("exchange deposit", "exchange", "traced BTC", "true BTC", "error"):
        table.add_column(col, justify="right" if "BTC" in col or col == "error" else "left")
    truth: dict[str, tuple[str, int]] = {}
    for t in ransom["terminals"]:
        name, amount = truth.get(t["address"], (t["entity_name"], 0))
        truth[t["address"]] = (name, amount + t["amount"])
    for addr, (name, amount) in sorted(truth.items(), key=lambda kv: -kv[1][1]):
        traced = got[addr]["amount"] if addr in got else 0
        err = abs(traced - amount) / amount if amount else 0.0
        table.add_row(addr, name, btc(traced, unit=False), btc(amount, unit=False), f"{err:.1%}")
    console.print(table)
    found = sum(1 for a in truth if a in got)
    console.print(f"{found} of {len(truth)} cash-out deposit addresses found.")
    console.print(
        f"The whole flow (nodes, edges, paths) is in {export}; for Gephi or Maltego: "
        f"[bold]chaintrail {' '.join(args[:2])} ... --format gexf --out ransom.gexf[/]"
    )


def step_hub(store: Path, case_id: int) -> None:
    """Share the case AMBER with the coordination hub, read it there, verify the audit chain."""
    console.rule("5. The cooperation hub: TLP-scoped sharing and a tamper-evident audit log")
    s = ["--store", str(store)]
    _chaintrail("hub", "org", "add", HUB, "--kind", "hub", "--country", "NL", *s)
    _chaintrail("hub", "user", "add", "hub-analyst", "--org", HUB, "--role", "analyst", *s)
    _chaintrail("hub", "share", "case", str(case_id), "--org", HUB, *s)
    seen = _json("hub", "case", "show", str(case_id), "--as", "hub-analyst", *s)
    trace = next(i for i in seen["items"] if i["kind"] == "trace")
    console.print(
        f"The hub's analyst sees case {seen['id']} ({seen['owner_org']}, TLP:{seen['tlp']}): the trace "
        f"filed by {trace['provenance']['user']} via {trace['provenance']['via']!r}, "
        f"{len(trace['payload']['result']['terminals'])} terminals."
    )
    _chaintrail("audit", "show", "--case", str(case_id), *s)
    _chaintrail("audit", "verify", *s)
    _chaintrail("audit", "anchor", "--out", str(store.parent / "audit-anchor.json"), *s)


def step_next(store: Path, ransom: dict) -> None:
    """Print how to serve the API and three requests to try."""
    console.rule("6. Serve it")
    seed = ransom["seed_addresses"][0]
    console.print(f"[bold]chaintrail serve --store {store} --no-auth[/]   (loopback only), then:")
    console.print(f"  curl -s http://127.0.0.1:8000/api/btc/addresses/{seed}")
    console.print(f"  curl -s http://127.0.0.1:8000/api/btc/addresses/{seed}/cluster")
    console.print(
        "  curl -s -H 'Content-Type: application/json' -d "
        f'\'{{"address":"{seed}","model":"haircut","hops":30,'
        '"stop_at_services":true}\' http://127.0.0.1:8000/v1/btc/trace'
    )
    console.print(
        "With keys: chaintrail hub user key local --store ... (see docs/API.md); the hub API is "
        "under /v1/hub and TAXII 2.1 under /taxii2/ (docs/HUB.md), e.g. curl -s "
        "http://127.0.0.1:8000/v1/hub/cases/1"
    )


class _StepClock:
    """Wall time of each demo step, shown at the end (the first run on a machine also
    compiles numba's kernels: the ingest and simulate lines say how long that took)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step ``name``."""
        t0 = time.monotonic()
        yield
        self.seconds[name] = time.monotonic() - t0

    def show(self) -> None:
        """Print the steps' times and their total."""
        table = Table(title="demo timings (wall clock)", title_justify="left")
        table.add_column("step")
        table.add_column("seconds", justify="right")
        for name, sec in self.seconds.items():
            table.add_row(name, f"{sec:.1f}")
        table.add_row("total", f"{sum(self.seconds.values()):.1f}")
        console.print(table)


def compile_kernels() -> None:
    """Run every demo step on a tiny case in a temporary folder, so numba compiles the kernels
    (on-disk cache) now, at install time, instead of during the demo; print how long it took."""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        global console, _quiet
        shown, console, _quiet = console, Console(file=io.StringIO()), True
        try:
            step_mainnet(out)
            store, ransom = step_simulate(out, "tiny", 1)
            step_attribute_and_cluster(out, store, ransom)
            step_trace(store, ransom)
        finally:
            console, _quiet = shown, False
    console.print(f"compiled numba's kernels in {time.monotonic() - t0:.0f} s (once per install)")


def main(argv: list[str] | None = None) -> None:
    """Run the demo into ``--out`` (default ./demo-output), replacing an earlier run there."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("demo-output"))
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--compile-only", action="store_true",
                    help="compile numba's kernels (a tiny case in a temporary folder), show nothing else")
    args = ap.parse_args(argv)
    if args.compile_only:
        compile_kernels()
        return
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    os.environ.setdefault("COLUMNS", "120")
    clock = _StepClock()
    with clock.step("1. real blocks"):
        step_mainnet(out)
    with clock.step("2. simulate + ingest"):
        store, ransom = step_simulate(out, args.preset, args.seed)
    with clock.step("3. tags + clusters"):
        step_attribute_and_cluster(out, store, ransom)
    with clock.step("4. case + trace"):
        case_id = step_open_case(store)
        step_trace(store, ransom, case_id)
    with clock.step("5. hub"):
        step_hub(store, case_id)
    step_next(store, ransom)
    console.rule("done")
    clock.show()
    console.print(
        f"Everything the demo wrote is in [bold]{out}/[/]: the real-blocks store "
        f"({out}/mainnet-store), the simulated chain and its truth ({out}/sim), and the "
        f"investigation store ({store}). Try: chaintrail --help"
    )


if __name__ == "__main__":
    main()
