"""``make demo``: a whole case on the embedded default, from raw blocks to where the ransom went.

Steps (each one is an ordinary ``chaintrail`` command, printed before it runs so a new user can
repeat it by hand):

1. ingest real mainnet blocks 0-438 (bundled) and look up the genesis payment and Hal Finney's 10 BTC;
2. simulate a small economy with crime scenarios (blk files + ground truth) and ingest it;
3. import the demo's service TagPack, cluster addresses, and show the ransomware seeds' cluster;
4. trace the ransom forward (haircut, stop at services) and compare the cash-out with the truth;
5. print how to serve the API and three requests to try.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console()
GENESIS_ADDRESS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
HAL_TX = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


def _chaintrail(*args: str, capture: bool = False) -> str:
    """Run one chaintrail command as a user would, echoing it; stop the demo if it fails."""
    shown = " ".join(["chaintrail", *args])
    console.print(f"[bold cyan]$ {shown}[/]")
    exe = [sys.executable, "-m", "chaintrail", *args]
    proc = subprocess.run(exe, text=True, capture_output=capture)
    if proc.returncode != 0:
        if capture:
            sys.stderr.write(proc.stderr)
        raise SystemExit(f"demo step failed: {shown} (exit {proc.returncode})")
    return proc.stdout if capture else ""


def _json(*args: str) -> dict:
    return json.loads(_chaintrail(*args, "--json", capture=True))


def _btc(sat: int) -> str:
    return f"{sat / 1e8:,.8f} BTC"


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
        f"genesis address {addr['address']}: received {_btc(addr['total_received'])}, "
        f"{addr['tx_count']} tx, first seen at height {addr['first_seen_height']}"
    )
    tx = _json("tx", HAL_TX, "--store", str(store))
    for o in tx["outputs"]:
        console.print(f"  block {tx['height']} tx {HAL_TX[:16]}.. output {o['index']}: "
                      f"{_btc(o['value'])} -> {o['address']}")


def main(argv: list[str] | None = None) -> None:
    """Run the demo into ``--out`` (default ./demo-output), replacing an earlier run there."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("demo-output"))
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    os.environ.setdefault("COLUMNS", "110")
    step_mainnet(out)
    console.rule("done")
    console.print(f"Everything the demo wrote is in [bold]{out}/[/].")


if __name__ == "__main__":
    main()
