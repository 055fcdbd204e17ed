"""Write the simulator's ground truth: Parquet tables, scenarios JSON and a service TagPack.

Files (all under ``DIR/truth/``; columns documented in docs/SIMULATOR.md):

* ``addresses.parquet`` — address, script_type, entity_id, role (every address on chain)
* ``entities.parquet`` — entity_id, kind, name
* ``txs.parquet`` — txid, height, kind, entity_id, change_vout
* ``scenarios.json`` — per crime scenario: seeds, txids in order, terminals and amounts
* ``services.tagpack.yaml`` — a GraphSense TagPack tagging a realistic subset of services
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.chains.model import ScriptType
from chaintrail.sim.ledger import ROLES, TX_KINDS, FrozenLedger
from chaintrail.sim.records import ScenarioRecord

TAG_DATE = datetime.date(2024, 1, 15)
_CATEGORY = {
    "exchange": "exchange",
    "mixer": "mixing_service",
    "gambling": "gambling",
    "darknet_market": "market",
    "mining_pool": "miner",
    "coinjoin_coordinator": "coinjoin",
}


def address_strings(fl: FrozenLedger, payload: np.ndarray) -> list[str]:
    """Explorer-style address text of every address id."""
    keys = np.zeros((payload.shape[0], 33), np.uint8)
    keys[:, 0] = fl.addr_type
    keys[:, 1:] = payload
    return [s or "" for s in encode_address_keys(keys)]


def txid_hex(txid: np.ndarray) -> list[str]:
    """Display (byte-reversed) hex of every ``(n, 32)`` internal-order txid."""
    return [bytes(r).hex() for r in txid[:, ::-1]]


def write_truth(
    truth_dir: Path,
    fl: FrozenLedger,
    addresses: list[str],
    txids: list[str],
    entity_kind: list[str],
    entity_name: list[str],
    records: list[ScenarioRecord],
    tagged: list[int],
) -> None:
    """Write all truth files into ``truth_dir`` (which must exist)."""
    used = np.unique(fl.out_addr[fl.out_addr >= 0])
    type_label = np.array(
        [ScriptType(t).label if t in ScriptType._value2member_map_ else "" for t in range(256)]
    )
    pq.write_table(
        pa.table(
            {
                "address": pa.array([addresses[a] for a in used.tolist()], pa.string()),
                "script_type": pa.array(type_label[fl.addr_type[used]].tolist(), pa.string()),
                "entity_id": pa.array(fl.addr_entity[used], pa.int32()),
                "role": pa.array(np.array(ROLES)[fl.addr_role[used]].tolist(), pa.string()),
            }
        ),
        truth_dir / "addresses.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "entity_id": pa.array(np.arange(len(entity_kind), dtype=np.int32)),
                "kind": pa.array(entity_kind, pa.string()),
                "name": pa.array(entity_name, pa.string()),
            }
        ),
        truth_dir / "entities.parquet",
    )
    height = np.repeat(np.arange(fl.block_n_tx.shape[0], dtype=np.int32), fl.block_n_tx)
    pq.write_table(
        pa.table(
            {
                "txid": pa.array(txids, pa.string()),
                "height": pa.array(height),
                "kind": pa.array(np.array(TX_KINDS)[fl.tx_kind].tolist(), pa.string()),
                "entity_id": pa.array(fl.tx_entity, pa.int32()),
                "change_vout": pa.array(fl.tx_change, pa.int32()),
            }
        ),
        truth_dir / "txs.parquet",
    )
    scen = [_scenario_json(r, fl, addresses, txids, entity_name) for r in records]
    (truth_dir / "scenarios.json").write_text(json.dumps({"scenarios": scen}, indent=2) + "\n")
    pack = _tagpack(fl, addresses, entity_kind, entity_name, tagged)
    (truth_dir / "services.tagpack.yaml").write_text(
        yaml.safe_dump(pack, sort_keys=False, allow_unicode=True)
    )


def _scenario_json(
    r: ScenarioRecord, fl: FrozenLedger, addresses: list[str], txids: list[str], names: list[str]
) -> dict:  # type: ignore[type-arg]
    terminals = [
        {
            "address": addresses[a],
            "entity_id": int(fl.addr_entity[a]),
            "entity_name": names[int(fl.addr_entity[a])],
            "amount": int(v),
        }
        for a, v in r.terminals.items()
    ]
    return {
        "name": r.name,
        "kind": r.kind,
        "perpetrator_entity_ids": r.perpetrators,
        "perpetrator_names": [names[e] for e in r.perpetrators],
        "seed_addresses": [addresses[a] for a in r.seed_addresses],
        "txids": [txids[t] for t in r.txs],
        "terminals": terminals,
        "total_amount": int(r.total),
        "terminal_amount": int(sum(r.terminals.values())),
        "notes": r.notes,
    }


def _tagpack(
    fl: FrozenLedger, addresses: list[str], kinds: list[str], names: list[str], tagged: list[int]
) -> dict:  # type: ignore[type-arg]
    tags = []
    for a in tagged:
        e = int(fl.addr_entity[a])
        tag: dict[str, object] = {"address": addresses[a], "label": names[e]}
        if kinds[e] in _CATEGORY:
            tag["category"] = _CATEGORY[kinds[e]]
        elif kinds[e] == "scammer":
            tag["category"] = "perpetrator"
            tag["abuse"] = "scam"
            tag["confidence"] = "forensic"
            tag["source"] = "https://example.org/chaintrail-sim/scam-reports"
        tags.append(tag)
    return {
        "title": "chaintrail simulated services",
        "creator": "chaintrail simulator",
        "description": "Attribution of a subset of the simulated chain's service addresses.",
        "is_public": True,
        "currency": "BTC",
        "confidence": "service_data",
        "source": "https://example.org/chaintrail-sim/services",
        "lastmod": TAG_DATE,
        "is_cluster_definer": True,
        "tags": tags,
    }
