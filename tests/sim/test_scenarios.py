"""Every crime scenario's designed path is connected on chain and its amounts add up."""

from __future__ import annotations

import pytest

from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.chains.model import hash_to_hex

EXPECTED = {"ransomware", "darknet_market_cashout", "exchange_hack", "scam"}


@pytest.fixture(scope="module")
def chain(tiny):
    b = tiny.batch
    out_addr = encode_address_keys(b.out_addr_key)
    row = {t: i for i, t in enumerate(tiny.txs["txid"])}
    entity_of = dict(zip(tiny.addresses["address"], tiny.addresses["entity_id"], strict=True))
    return b, out_addr, row, entity_of


def _outs(b, t):
    o0 = int(b.tx_out_start[t])
    return range(o0, o0 + int(b.tx_n_out[t]))


def test_all_scenarios_present(tiny) -> None:
    assert {s["name"] for s in tiny.scenarios} == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_funds_flow_from_seeds_to_terminals(tiny, chain, name) -> None:
    b, out_addr, row, entity_of = chain
    sc = next(s for s in tiny.scenarios if s["name"] == name)
    rows = [row[t] for t in sc["txids"]]
    assert rows == sorted(rows), "scenario txids are not in chain order"
    seeds = set(sc["seed_addresses"])
    terminals = {t["address"]: t for t in sc["terminals"]}
    perps = set(sc["perpetrator_entity_ids"])
    tainted: set[int] = set()
    received = dict.fromkeys(terminals, 0)
    paid_to_seeds = 0
    out_id = {
        (bytes(b.txid[int(b.out_tx[o])]), o - int(b.tx_out_start[int(b.out_tx[o])])): o
        for t in rows
        for o in _outs(b, t)
    }  # noqa: E501
    for t in rows:
        i0 = int(b.tx_in_start[t])
        spent = {
            out_id.get((bytes(b.in_prev_txid[i]), int(b.in_prev_vout[i])))
            for i in range(i0, i0 + int(b.tx_n_in[t]))
        }
        from_scenario = bool(spent & tainted)
        pays_seed = any(out_addr[o] in seeds for o in _outs(b, t))
        assert from_scenario or pays_seed, f"{hash_to_hex(b.txid[t])} is not connected to {name}"
        for o in _outs(b, t):
            a = out_addr[o]
            if a in seeds:
                paid_to_seeds += int(b.out_value[o])
                tainted.add(o)
            elif from_scenario and (a in terminals or entity_of.get(a) in perps):
                tainted.add(o)
                if a in terminals:
                    received[a] += int(b.out_value[o])
    assert paid_to_seeds == sc["total_amount"]
    for a, t in terminals.items():
        assert received[a] == t["amount"] > 0, f"terminal {a} amount differs from the chain"
        assert entity_of[a] == t["entity_id"]
        assert tiny.entities["kind"][t["entity_id"]] == "exchange"
        assert tiny.entities["name"][t["entity_id"]] == t["entity_name"]
    assert sc["terminal_amount"] == sum(received.values())
    assert 0.85 * sc["total_amount"] < sc["terminal_amount"] <= sc["total_amount"]


def test_ransomware_uses_coinjoin_peel_and_two_exchanges(tiny) -> None:
    sc = next(s for s in tiny.scenarios if s["name"] == "ransomware")
    kinds = dict(zip(tiny.txs["txid"], tiny.txs["kind"], strict=True))
    used = [kinds[t] for t in sc["txids"]]
    assert "coinjoin_wasabi" in used and used.count("peel") >= 5 and "consolidation" in used
    assert len({t["entity_id"] for t in sc["terminals"]}) == 2
    assert len(sc["seed_addresses"]) >= 4
