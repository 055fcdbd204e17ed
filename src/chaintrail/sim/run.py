"""``simulate()``: plan the economy, write block files and truth into an output directory.

Output goes to a staging directory inside ``out_dir`` and is moved into place only when
everything is written, so a failure never leaves half-written ``blocks/`` or ``truth/``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chaintrail.errors import UsageError
from chaintrail.sim.actors import POOL_NAMES
from chaintrail.sim.behaviour import Behaviour, behaviour_dict, load_behaviour
from chaintrail.sim.blockfile import write_block_files
from chaintrail.sim.economy import Economy
from chaintrail.sim.keys import payloads_for
from chaintrail.sim.ledger import ROLE, FrozenLedger
from chaintrail.sim.presets import get_preset
from chaintrail.sim.truth import address_strings, txid_hex, write_truth

SIMULATION_FILE = "simulation.json"  # preset, seed, variant and every knob of the run
# progress(phase, advance, total): phase is "plan", "serialise" or "truth"
Progress = Callable[[str, int, int], None]


@dataclass
class SimResult:
    """What a simulation wrote and how long it took."""

    out_dir: Path
    preset: str
    seed: int
    variant: str
    n_blocks: int
    n_txs: int
    n_addresses: int
    block_files: list[Path]
    bytes_on_disk: int
    seconds: float
    phase_seconds: dict[str, float] = field(default_factory=dict)
    scenario_seeds: dict[str, list[str]] = field(default_factory=dict)


def _tagged(econ: Economy, fl: FrozenLedger) -> list[int]:
    """The service addresses the TagPack attributes: a realistic, incomplete subset."""
    used = np.zeros(fl.addr_type.shape[0], bool)
    used[fl.out_addr[fl.out_addr >= 0]] = True
    ids = np.arange(fl.addr_type.shape[0])
    picked: list[int] = []
    for svc in econ.services:
        picked.append(svc.hot_addr)
        if svc.cold_addr >= 0:
            picked.append(svc.cold_addr)
        mine = (fl.addr_entity == svc.entity) & used
        deposits = mine & np.isin(fl.addr_role, [ROLE["deposit"], ROLE["mixer_deposit"]])
        share = 10 if svc.kind == "mixer" else 5
        picked.extend(ids[deposits & (ids % share == 0)].tolist())
        if svc.kind == "mixer":
            picked.extend(ids[mine & (fl.addr_role == ROLE["hot"]) & (ids % 3 == 0)].tolist())
    for pool in econ.pools:
        picked += [pool.coinbase_addr, pool.change_addr]
    c = econ.coordinators
    picked += [c.wasabi_fee_addr, c.whirlpool_fee_addr]
    if c.wabisabi_fee_addr >= 0:
        picked.append(c.wabisabi_fee_addr)
    picked += [r.seed_addresses[0] for r in econ.records if r.name == "scam"]
    return sorted({a for a in picked if used[a]})


def simulate(
    preset: str,
    seed: int,
    out_dir: str | Path,
    *,
    variant: str | Behaviour = "baseline",
    force: bool = False,
    progress: Progress | None = None,
) -> SimResult:
    """Generate the ``preset`` chain for ``seed`` into ``out_dir/blocks`` and ``out_dir/truth``.

    ``variant`` is a variant name, a TOML file of knobs, or a Behaviour
    (:mod:`chaintrail.sim.behaviour`). Byte-identical for the same (preset, seed, variant).
    Raises UsageError if the output exists and ``force`` is not set.
    """
    p = get_preset(preset)
    if isinstance(variant, Behaviour):
        variant_name, behaviour = "custom", variant
    else:
        variant_name, behaviour = load_behaviour(variant)
    if seed < 0 or seed >= 2**63:
        raise UsageError(f"seed must be between 0 and 2**63-1, got {seed}")
    out = Path(out_dir)
    for sub in ("blocks", "truth"):
        if (out / sub).exists() and any((out / sub).iterdir()) and not force:
            raise UsageError(
                f"{out / sub} already exists and is not empty; pass --force to replace it"
            )
    report = progress or (lambda phase, adv, total: None)
    t0 = time.perf_counter()
    phases: dict[str, float] = {}

    econ = Economy(p, seed, behaviour)
    state = {"txs": 0}

    def on_block(_: int) -> None:
        n = econ.ledger.n_txs
        report("plan", n - state["txs"], p.target_txs)
        state["txs"] = n

    econ.on_block = on_block
    econ.run()
    fl = econ.ledger.freeze()
    phases["plan"] = time.perf_counter() - t0

    out.mkdir(parents=True, exist_ok=True)
    stage = out / f".simulate-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        t1 = time.perf_counter()
        payload = payloads_for(seed, fl.addr_type)
        tags = [b"/genesis/"] + [f"/{n.split()[0]}/".encode() for n in POOL_NAMES]
        n_blocks = int(fl.block_tx_start.shape[0])
        txid, _, files = write_block_files(
            fl, payload, tags, seed, stage / "blocks",
            on_blocks=lambda k: report("serialise", k, n_blocks),
        )  # fmt: skip
        phases["serialise"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        (stage / "truth").mkdir()
        addrs = address_strings(fl, payload)
        txids = txid_hex(txid)
        write_truth(stage / "truth", fl, addrs, txids, econ.ents.kind, econ.ents.name,
                    econ.records, _tagged(econ, fl))  # fmt: skip
        meta = {"preset": p.name, "seed": seed, "variant": variant_name,
                "behaviour": behaviour_dict(behaviour)}  # fmt: skip
        (stage / "truth" / SIMULATION_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        report("truth", 1, 1)
        phases["truth"] = time.perf_counter() - t2
        for sub in ("blocks", "truth"):
            if (out / sub).exists():
                shutil.rmtree(out / sub)
            os.replace(stage / sub, out / sub)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    final_files = [out / "blocks" / f.name for f in files]
    return SimResult(
        out_dir=out,
        preset=p.name,
        seed=seed,
        variant=variant_name,
        n_blocks=n_blocks,
        n_txs=int(fl.tx_kind.shape[0]),
        n_addresses=int(fl.addr_type.shape[0]),
        block_files=final_files,
        bytes_on_disk=sum(f.stat().st_size for f in final_files),
        seconds=time.perf_counter() - t0,
        phase_seconds=phases,
        scenario_seeds={r.name: [addrs[a] for a in r.seed_addresses] for r in econ.records},
    )
