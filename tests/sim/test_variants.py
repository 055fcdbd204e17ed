"""Each behaviour knob of the simulator is visible in the chain it writes (tiny chains).

Knobs are checked on the named variant that turns them on (docs/SIMULATOR.md), or on a chain
with the knob at 1.0 where the test checks every transaction.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pytest
from bitcoin.core import CBlock

from chaintrail.chains.bitcoin.address import encode_address_keys
from chaintrail.errors import UsageError
from chaintrail.sim.behaviour import VARIANTS, Behaviour, behaviour_from_mapping, load_behaviour
from chaintrail.sim.wabisabi import STANDARD_DENOMINATIONS


def _owner(chain: Any) -> tuple[list[str], dict[str, int]]:
    addr = encode_address_keys(chain.batch.out_addr_key)
    return addr, dict(zip(chain.addresses["address"], chain.addresses["entity_id"], strict=True))


def _fingerprint(chain: Any, t: int) -> tuple[int, bool, int]:
    b = chain.batch
    return (
        int(b.tx_version[t]),
        bool(b.tx_locktime[t]),
        int(b.in_sequence[int(b.tx_in_start[t])]),
    )


def _senders_with_fingerprints(chain: Any, kind: str) -> dict[int, set]:
    """Entity -> the fingerprints of the payments it signed, for entities of ``kind``."""
    kinds = chain.entities["kind"]
    seen: dict[int, set] = defaultdict(set)
    for t, (k, e) in enumerate(zip(chain.txs["kind"], chain.txs["entity_id"], strict=True)):
        if k == "payment" and e >= 0 and kinds[e] == kind:
            seen[e].add(_fingerprint(chain, t))
    return seen


@pytest.fixture(scope="module")
def exact(tmp_path_factory: pytest.TempPathFactory, make_tiny) -> Any:
    """Every wallet software orders by BIP69 and grinds low-R signatures."""
    knobs = Behaviour(bip69=1.0, low_r=1.0)
    return make_tiny(tmp_path_factory.mktemp("exact") / "tiny", knobs)


def test_variants_are_named_and_a_toml_file_sets_knobs(tmp_path) -> None:
    assert {"baseline", "drift", "privacy", "households", "custodial", "launder",
            "coinjoin_zoo", "legacy", "mixed"} <= set(VARIANTS)  # fmt: skip
    path = tmp_path / "mine.toml"
    path.write_text('base = "drift"\nlow_r = 0.9\nwhirlpool_pools = [100000]\n')
    name, b = load_behaviour(str(path))
    assert name == "mine" and b.low_r == 0.9 and b.whirlpool_pools == (100_000,)
    assert b.software_change == VARIANTS["drift"].software_change
    for bad, what in (({"lowr": 1}, "unknown knob 'lowr'"),
                      ({"low_r": 2.0}, "low_r"), ({"remixes": [3]}, "remixes"),
                      ({"ransom_mixer": "tumbler"}, "ransom_mixer")):  # fmt: skip
        with pytest.raises(UsageError, match=what):
            behaviour_from_mapping(bad, "test.toml")


def test_the_truth_records_variant_and_knobs(variant_chain) -> None:
    chain = variant_chain("drift")
    meta = json.loads((chain.result.out_dir / "truth" / "simulation.json").read_text())
    assert meta["variant"] == "drift" and meta["preset"] == "tiny"
    assert meta["behaviour"]["software_change"] == VARIANTS["drift"].software_change


def test_software_change_gives_one_user_several_fingerprints(tiny, variant_chain) -> None:
    base = _senders_with_fingerprints(tiny, "user")
    drift = _senders_with_fingerprints(variant_chain("drift"), "user")
    assert sum(len(v) > 1 for v in base.values()) == 0  # one software for life
    assert sum(len(v) > 1 for v in drift.values()) > 0.1 * len(drift)


def test_shared_wallets_sign_with_their_cosigners_software(variant_chain) -> None:
    chain = variant_chain("households")
    shared = _senders_with_fingerprints(chain, "shared_wallet")
    assert shared and sum(len(v) > 1 for v in shared.values()) > 0.3 * len(shared)
    types = Counter(
        t for t, e, r in zip(chain.addresses["script_type"], chain.addresses["entity_id"],
                             chain.addresses["role"], strict=True)
        if chain.entities["kind"][e] == "shared_wallet" and r in ("receive", "change")
    )  # fmt: skip
    # 2-of-3 multisig (what they mix comes back as the mixing wallet's P2WPKH)
    assert types["p2wsh"] > 0.9 * sum(types.values())


def test_bip69_software_sorts_inputs_and_outputs(exact) -> None:
    b = exact.batch
    checked = 0
    for t, kind in enumerate(exact.txs["kind"]):
        if kind != "payment" or exact.entities["kind"][exact.txs["entity_id"][t]] != "user":
            continue
        i0, ni = int(b.tx_in_start[t]), int(b.tx_n_in[t])
        keys = [
            (bytes(b.in_prev_txid[i])[::-1], int(b.in_prev_vout[i])) for i in range(i0, i0 + ni)
        ]
        o0, no = int(b.tx_out_start[t]), int(b.tx_n_out[t])
        values = b.out_value[o0 : o0 + no].tolist()
        assert keys == sorted(keys) and values == sorted(values), t
        checked += ni > 1
    assert checked > 100


def test_low_r_software_writes_71_byte_signatures(exact, tiny) -> None:
    def sig_lengths(chain: Any) -> Counter:
        """Signature lengths in users' payments (services sign with their own software)."""
        lengths: Counter = Counter()
        kinds, ents, ent_kind = chain.txs["kind"], chain.txs["entity_id"], chain.entities["kind"]
        t = 0
        for raw in chain.raw_blocks:
            for tx in CBlock.deserialize(raw).vtx:
                if kinds[t] == "payment" and ent_kind[ents[t]] == "user":
                    for i, txin in enumerate(tx.vin):
                        wit = tx.wit.vtxinwit[i].scriptWitness.stack if tx.wit.vtxinwit else []
                        items = list(wit) or [list(txin.scriptSig)[0]]
                        lengths.update(len(x) for x in items if 70 <= len(x) <= 73)
                t += 1
        return lengths

    assert set(sig_lengths(exact)) == {71}
    assert set(sig_lengths(tiny)) == {71, 72}  # without grinding, half are one byte longer


def test_drifted_wallets_send_change_to_their_new_type(tiny, variant_chain) -> None:
    def mismatch(chain: Any) -> float:
        addr, _ = _owner(chain)
        types = dict(zip(chain.addresses["address"], chain.addresses["script_type"], strict=True))
        b = chain.batch
        first_in = {}
        for t in range(len(chain.txs["kind"])):
            o0 = int(b.tx_out_start[t])
            for v in range(int(b.tx_n_out[t])):
                first_in[(bytes(b.txid[t]), v)] = addr[o0 + v]
        n = bad = 0
        for t, (k, cv) in enumerate(zip(chain.txs["kind"], chain.txs["change_vout"], strict=True)):
            if k != "payment" or cv < 0:
                continue
            i0 = int(b.tx_in_start[t])
            spent = first_in[(bytes(b.in_prev_txid[i0]), int(b.in_prev_vout[i0]))]
            n += 1
            bad += types[spent] != types[addr[int(b.tx_out_start[t]) + cv]]
        return bad / n

    assert mismatch(variant_chain("mixed")) > mismatch(tiny) + 0.02


def test_multi_wallet_users_move_funds_between_their_wallets(variant_chain) -> None:
    chain = variant_chain("households")
    addr, owner = _owner(chain)
    b = chain.batch
    moves = [t for t, k in enumerate(chain.txs["kind"]) if k == "self_transfer"]
    assert len(moves) > 10
    for t in moves:
        ent = chain.txs["entity_id"][t]
        o0 = int(b.tx_out_start[t])
        assert all(owner[addr[o0 + v]] == ent for v in range(int(b.tx_n_out[t])))


def test_multisig_users_hold_p2wsh_coins(variant_chain) -> None:
    chain = variant_chain("households")
    kinds = chain.entities["kind"]
    users_p2wsh = {
        e for t, e in zip(chain.addresses["script_type"], chain.addresses["entity_id"], strict=True)
        if t == "p2wsh" and kinds[e] == "user"
    }  # fmt: skip
    assert len(users_p2wsh) > 20


def test_exchanges_pay_out_of_deposits_with_fresh_change(tiny, variant_chain) -> None:
    def batches(chain: Any) -> tuple[int, int, int]:
        addr, owner = _owner(chain)
        roles = dict(zip(chain.addresses["address"], chain.addresses["role"], strict=True))
        b = chain.batch
        out_addr = {}
        for t in range(len(chain.txs["kind"])):
            o0 = int(b.tx_out_start[t])
            for v in range(int(b.tx_n_out[t])):
                out_addr[(bytes(b.txid[t]), v)] = addr[o0 + v]
        change_addrs: dict[int, set] = defaultdict(set)
        with_deposits = 0
        n = 0
        for t, (k, cv, e) in enumerate(zip(chain.txs["kind"], chain.txs["change_vout"],
                                           chain.txs["entity_id"], strict=True)):  # fmt: skip
            if k != "batch_withdrawal" or chain.entities["kind"][e] != "exchange" or cv < 0:
                continue
            n += 1
            change_addrs[e].add(addr[int(b.tx_out_start[t]) + cv])
            i0 = int(b.tx_in_start[t])
            ins = [out_addr[(bytes(b.in_prev_txid[i]), int(b.in_prev_vout[i]))]
                   for i in range(i0, i0 + int(b.tx_n_in[t]))]  # fmt: skip
            with_deposits += any(roles[a] == "deposit" for a in ins)
        return n, sum(len(v) for v in change_addrs.values()), with_deposits

    n, distinct, deposits = batches(tiny)
    assert distinct <= 4 and deposits == 0  # one reused hot address per exchange
    n, distinct, deposits = batches(variant_chain("custodial"))
    assert distinct > 0.9 * n and deposits > 0.2 * n


def test_payjoins_mix_sender_and_receiver_inputs(variant_chain) -> None:
    chain = variant_chain("custodial")
    addr, owner = _owner(chain)
    b = chain.batch
    value = {}
    for t in range(len(chain.txs["kind"])):
        o0 = int(b.tx_out_start[t])
        for v in range(int(b.tx_n_out[t])):
            value[(bytes(b.txid[t]), v)] = (int(b.out_value[o0 + v]), addr[o0 + v])
    joins = [t for t, k in enumerate(chain.txs["kind"]) if k == "payjoin"]
    assert len(joins) > 20
    for t in joins:
        assert chain.txs["entity_id"][t] == -1 and chain.txs["change_vout"][t] == -1
        i0 = int(b.tx_in_start[t])
        ins = [value[(bytes(b.in_prev_txid[i]), int(b.in_prev_vout[i]))]
               for i in range(i0, i0 + int(b.tx_n_in[t]))]  # fmt: skip
        o0 = int(b.tx_out_start[t])
        outs = [(int(b.out_value[o0 + v]), addr[o0 + v]) for v in range(int(b.tx_n_out[t]))]
        in_owners = {owner[a] for _, a in ins}
        assert len(in_owners) == 2 and len(outs) == 2
        # the receiver takes its coin back in its payment output
        for receiver in in_owners:
            got = sum(v for v, a in outs if owner[a] == receiver)
            brought = sum(v for v, a in ins if owner[a] == receiver)
            if got > brought:
                assert got - brought > 0


def test_coinjoin_zoo_rounds_use_other_denominations_levels_and_makers(variant_chain) -> None:
    b_zoo = VARIANTS["coinjoin_zoo"]
    chain = variant_chain("coinjoin_zoo")
    b = chain.batch
    wasabi_values: Counter = Counter()
    jm_equal: Counter = Counter()
    wabisabi = 0
    for t, kind in enumerate(chain.txs["kind"]):
        o0, no = int(b.tx_out_start[t]), int(b.tx_n_out[t])
        vals = b.out_value[o0 : o0 + no].tolist()
        if kind == "coinjoin_wasabi":
            wasabi_values.update(v for v, c in Counter(vals).items() if c >= 2)
        elif kind == "coinjoin_joinmarket":
            jm_equal[Counter(vals).most_common(1)[0][1]] += 1
        elif kind == "coinjoin_wabisabi":
            wabisabi += 1
            assert vals == sorted(vals, reverse=True)  # Wasabi 2 orders outputs by value
            standard = sum(v in STANDARD_DENOMINATIONS for v in vals)
            assert standard >= 0.6 * no
    bases = set(b_zoo.wasabi_denominations)
    assert bases <= set(wasabi_values)
    assert any(v // d in (2, 4, 8) and v % d == 0 for v in wasabi_values for d in bases)
    assert wabisabi > 10
    assert min(jm_equal) <= 3 and max(jm_equal) >= 6  # 2 to 10 makers (+ the taker)


def test_whirlpool_pools_and_postmix_consolidation(variant_chain) -> None:
    chain = variant_chain("coinjoin_zoo")
    b = chain.batch
    roles = dict(zip(chain.addresses["address"], chain.addresses["role"], strict=True))
    addr, _ = _owner(chain)
    prev_addr = {}
    pools: Counter = Counter()
    for t, kind in enumerate(chain.txs["kind"]):
        o0 = int(b.tx_out_start[t])
        for v in range(int(b.tx_n_out[t])):
            prev_addr[(bytes(b.txid[t]), v)] = addr[o0 + v]
        if kind == "coinjoin_whirlpool_mix":
            pools[int(b.out_value[o0])] += 1
    assert len(pools) >= 2 and set(pools) <= set(VARIANTS["coinjoin_zoo"].whirlpool_pools)
    merged = 0
    for t, kind in enumerate(chain.txs["kind"]):
        if kind != "payment" or b.tx_n_in[t] < 2:
            continue
        i0 = int(b.tx_in_start[t])
        ins = [prev_addr[(bytes(b.in_prev_txid[i]), int(b.in_prev_vout[i]))]
               for i in range(i0, i0 + int(b.tx_n_in[t]))]  # fmt: skip
        merged += sum(roles[a] == "postmix" for a in ins) >= 2
    assert merged > 0


@pytest.mark.parametrize(
    ("variant", "scenario", "mix_kind"),
    [("privacy", "ransomware", "coinjoin_whirlpool_mix"),
     ("launder", "ransomware", "coinjoin_wabisabi"),
     ("launder", "exchange_hack", "coinjoin_whirlpool_mix")],
)  # fmt: skip
def test_criminals_launder_mix_remix_and_consolidate_in_stages(
    variant_chain, variant, scenario, mix_kind
) -> None:
    chain = variant_chain(variant)
    kind_of = dict(zip(chain.txs["txid"], chain.txs["kind"], strict=True))
    sc = next(s for s in chain.scenarios if s["name"] == scenario)
    kinds = Counter(kind_of[h] for h in sc["txids"])
    assert kinds[mix_kind] >= 2  # mixed, and (re)mixed more than once
    stages = VARIANTS[variant].consolidation_stages
    assert kinds["consolidation"] >= stages  # staged consolidation of the mixed coins
    # every satoshi reaches an exchange but fees and coordinator fees
    assert sc["terminal_amount"] > 0.9 * sc["total_amount"]


def test_peels_use_the_variants_fractions_and_criminals_wait(tiny, variant_chain) -> None:
    def peels(chain: Any) -> tuple[list[float], list[int]]:
        b = chain.batch
        kind_of = dict(zip(chain.txs["txid"], range(len(chain.txs["txid"])), strict=True))
        sc = next(s for s in chain.scenarios if s["name"] == "ransomware")
        shares, heights = [], []
        for h in sc["txids"]:
            t = kind_of[h]
            if chain.txs["kind"][t] != "peel":
                continue
            o0 = int(b.tx_out_start[t])
            cv = chain.txs["change_vout"][t]
            vals = b.out_value[o0 : o0 + 2]
            shares.append(float(vals[1 - cv] / vals.sum()))
            heights.append(chain.txs["height"][t])
        return shares, heights

    lo, hi = VARIANTS["launder"].peel_fraction
    shares, heights = peels(variant_chain("launder"))
    assert min(shares) < 0.08 or max(shares) > 0.2  # outside the original 8-20 %
    assert all(lo * 0.9 <= s <= 0.55 for s in shares)
    base_shares, base_heights = peels(tiny)
    assert np.mean(np.diff(heights)) > np.mean(np.diff(base_heights)) + 1  # patience


def test_legacy_population_uses_older_scripts_and_reuses_addresses(tiny, variant_chain) -> None:
    def p2pkh_share(chain: Any) -> float:
        kinds = chain.entities["kind"]
        types = [t for t, e in zip(chain.addresses["script_type"], chain.addresses["entity_id"],
                                   strict=True) if kinds[e] == "user"]  # fmt: skip
        return types.count("p2pkh") / len(types)

    assert p2pkh_share(variant_chain("legacy")) > p2pkh_share(tiny) + 0.2


def test_the_same_variant_and_seed_give_the_same_bytes(tmp_path, make_tiny) -> None:
    a = make_tiny(tmp_path / "a", "mixed", seed=3)
    b = make_tiny(tmp_path / "b", "mixed", seed=3)
    assert a.raw_blocks == b.raw_blocks
    c = make_tiny(tmp_path / "c", "custodial", seed=3)
    assert a.raw_blocks != c.raw_blocks
