"""CoinJoin detection: named detectors, each a vectorised test over per-transaction features.

:func:`detect_coinjoins` returns one ``uint8`` verdict per transaction, a bit mask with one bit
per detector (:data:`DETECTORS`). Multi-input clustering skips every tx whose verdict has a bit
of :data:`MERGE_BLOCKING` set; change heuristics skip every tx with any bit set. Whirlpool tx0
is flagged but still merges its inputs: a tx0 is built by one wallet (all inputs are the
mixer's own coins), only its outputs are headed for a mix.

Features come from one numba pass (:func:`tx_features`); the detectors are plain numpy
expressions over them, so the criteria in each docstring are the whole test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaintrail.chains.model import ScriptType
from chaintrail.kernels import kernel
from chaintrail.store.arrays import ChainArrays

COIN = 100_000_000
WASABI1 = 1 << 0
WASABI2 = 1 << 1
WHIRLPOOL_TX0 = 1 << 2
WHIRLPOOL_MIX = 1 << 3
JOINMARKET = 1 << 4
EQUAL_OUTPUT = 1 << 5
PAYJOIN_LIKE = 1 << 6
MULTIPARTY = 1 << 7
DETECTORS: dict[str, int] = {
    "wasabi1": WASABI1,
    "wasabi2": WASABI2,
    "whirlpool_tx0": WHIRLPOOL_TX0,
    "whirlpool_mix": WHIRLPOOL_MIX,
    "joinmarket": JOINMARKET,
    "equal_output": EQUAL_OUTPUT,
    "payjoin_like": PAYJOIN_LIKE,
    "multiparty": MULTIPARTY,
}
# CoinJoin mixes: many parties, outputs that hide who is who (what tracing demixes)
MIXES = WASABI1 | WASABI2 | WHIRLPOOL_MIX | JOINMARKET | EQUAL_OUTPUT | MULTIPARTY
# collaborative txs whose inputs multi-input clustering must not merge
MERGE_BLOCKING = MIXES | PAYJOIN_LIKE
WHIRLPOOL_POOLS = np.array([100_000, 1_000_000, 5_000_000, 50_000_000], dtype=np.int64)
DUST_VALUES = (546, 2730)
ROUND_SAT = 100_000  # a payment of a whole 0.001 BTC is a round amount


@dataclass
class TxFeatures:
    """Per-transaction numbers the detectors test (arrays indexed by tx id)."""

    n_in: np.ndarray  # stored inputs
    n_out: np.ndarray  # outputs, OP_RETURN included
    n_nulldata: np.ndarray  # OP_RETURN outputs
    n_in_addr: np.ndarray  # distinct input addresses
    eq_count: np.ndarray  # size of the largest group of equal-valued addressed outputs
    eq_value: np.ndarray  # that group's value (largest value on ties), 0 if no outputs
    n_eq_groups: np.ndarray  # distinct values shared by >= 2 addressed outputs
    n_in_eq: np.ndarray  # addressed outputs that belong to such a group
    all_p2wpkh: np.ndarray  # every addressed output is P2WPKH (and there is one)
    all_segwit_v0v1: np.ndarray  # every addressed output is P2WPKH or P2TR
    n_premix: np.ndarray  # most outputs worth one Whirlpool pool + <= 10% (premix values)
    one_type: np.ndarray  # every input address and addressed output has the same script type
    n_round: np.ndarray  # addressed outputs worth a multiple of ROUND_SAT


@kernel()
def _features_kernel(
    tx_in_start,
    tx_n_in,
    tx_out_start,
    tx_n_out,
    in_addr,
    out_value,
    out_type,
    nulldata,
    p2wpkh,
    p2tr,
    pools,
    addr_type,
    round_sat,
):
    n = tx_n_in.shape[0]
    n_null = np.zeros(n, np.int32)
    n_in_addr = np.zeros(n, np.int32)
    eq_count = np.zeros(n, np.int32)
    eq_value = np.zeros(n, np.int64)
    n_groups = np.zeros(n, np.int32)
    n_in_eq = np.zeros(n, np.int32)
    all_wpkh = np.zeros(n, np.bool_)
    all_v0v1 = np.zeros(n, np.bool_)
    n_premix = np.zeros(n, np.int32)
    one_type = np.zeros(n, np.bool_)
    n_round = np.zeros(n, np.int32)
    per_pool = np.zeros(pools.shape[0], np.int32)
    for t in range(n):
        per_pool[:] = 0
        o0 = tx_out_start[t]
        k = tx_n_out[t]
        vals = np.empty(k, np.int64)
        m = 0
        wpkh = True
        v0v1 = True
        first_type = -1
        same = True
        for o in range(o0, o0 + k):
            ty = out_type[o]
            if ty == nulldata:
                n_null[t] += 1
                continue
            if first_type < 0:
                first_type = ty
            elif ty != first_type:
                same = False
            v = out_value[o]
            vals[m] = v
            m += 1
            if v % round_sat == 0:
                n_round[t] += 1
            for p in range(pools.shape[0]):
                if v > pools[p] and v * 10 <= pools[p] * 11:
                    per_pool[p] += 1
            if ty != p2wpkh:
                wpkh = False
                if ty != p2tr:
                    v0v1 = False
        n_premix[t] = per_pool.max()
        all_wpkh[t] = wpkh and m > 0
        all_v0v1[t] = v0v1 and m > 0
        if m > 0:
            s = np.sort(vals[:m])
            run = 1
            for j in range(1, m + 1):
                if j < m and s[j] == s[j - 1]:
                    run += 1
                    continue
                if run >= 2:
                    n_groups[t] += 1
                    n_in_eq[t] += run
                if run >= eq_count[t]:  # ascending order: ties keep the larger value
                    eq_count[t] = run
                    eq_value[t] = s[j - 1]
                run = 1
        i0 = tx_in_start[t]
        ki = tx_n_in[t]
        if ki > 0:
            a = np.sort(in_addr[i0 : i0 + ki])
            d = 0
            for j in range(ki):
                if a[j] >= 0 and (j == 0 or a[j] != a[j - 1]):
                    d += 1
                if a[j] < 0:
                    same = False
                elif first_type < 0:
                    first_type = addr_type[a[j]]
                elif addr_type[a[j]] != first_type:
                    same = False
            n_in_addr[t] = d
        one_type[t] = same and first_type >= 0
    return (n_null, n_in_addr, eq_count, eq_value, n_groups, n_in_eq, all_wpkh, all_v0v1, n_premix,
            one_type, n_round)  # fmt: skip


def tx_features(arrays: ChainArrays, tx_lo: int = 0, tx_hi: int | None = None) -> TxFeatures:
    """Compute the detector features of txs ``[tx_lo, tx_hi)`` (default all) in one pass."""
    window = slice(tx_lo, arrays.n_txs if tx_hi is None else tx_hi)
    n_in = np.asarray(arrays.tx_n_in)[window]
    n_out = np.asarray(arrays.tx_n_out)[window]
    res = _features_kernel(
        np.asarray(arrays.tx_in_start)[window],
        n_in,
        np.asarray(arrays.tx_out_start)[window],
        n_out,
        np.asarray(arrays.in_addr),
        np.asarray(arrays.out_value),
        np.asarray(arrays.out_type),
        int(ScriptType.NULLDATA),
        int(ScriptType.P2WPKH),
        int(ScriptType.P2TR),
        WHIRLPOOL_POOLS,
        np.asarray(arrays.addr_type),
        ROUND_SAT,
    )
    return TxFeatures(n_in, n_out, *res)


def wasabi1(f: TxFeatures) -> np.ndarray:
    """Wasabi 1.x (ZeroLink, Chaumian): >= 10 equal outputs worth 0.1 BTC x 2^k (+-10%,
    k = 0..7, the base denomination and its mixing levels), at least as many inputs as equal
    outputs, >= 2 distinct input addresses, every addressed output P2WPKH."""
    ratio = f.eq_value / (0.1 * COIN)
    level = np.round(np.log2(np.maximum(ratio, 1e-9)))
    near = np.abs(ratio / np.exp2(level) - 1.0) <= 0.1
    return (
        (f.eq_count >= 10)
        & near
        & (level >= 0)
        & (level <= 7)
        & (f.n_in >= f.eq_count)
        & (f.n_in_addr >= 2)
        & f.all_p2wpkh
    )


def wasabi2(f: TxFeatures) -> np.ndarray:
    """Wasabi 2.x (WabiSabi): >= 50 inputs from >= 10 distinct addresses, >= 3 distinct
    values each shared by several outputs (standard denominations), at least half of the
    addressed outputs in such equal groups, every addressed output P2WPKH or P2TR."""
    addressed = f.n_out - f.n_nulldata
    return (
        (f.n_in >= 50)
        & (f.n_in_addr >= 10)
        & (f.n_eq_groups >= 3)
        & (2 * f.n_in_eq >= addressed)
        & f.all_segwit_v0v1
    )


def whirlpool_tx0(f: TxFeatures) -> np.ndarray:
    """Whirlpool tx0 (premix): exactly one OP_RETURN output (the coordinator's pool/fee
    payload), >= 3 outputs, and >= 1 output worth a pool denomination (0.001 / 0.01 / 0.05 /
    0.5 BTC) plus at most 10% for the mix's mining fee (the premix outputs)."""
    return (f.n_nulldata == 1) & (f.n_out >= 3) & (f.n_premix >= 1)


def whirlpool_mix(f: TxFeatures) -> np.ndarray:
    """Whirlpool mix: exactly 5 inputs from 5 distinct addresses and exactly 5 outputs, all
    P2WPKH and all worth exactly one pool denomination (0.001 / 0.01 / 0.05 / 0.5 BTC)."""
    exact_pool = np.isin(f.eq_value, WHIRLPOOL_POOLS)
    return (
        (f.n_in == 5)
        & (f.n_in_addr == 5)
        & (f.n_out == 5)
        & (f.eq_count == 5)
        & exact_pool
        & f.all_p2wpkh
    )


def joinmarket(f: TxFeatures) -> np.ndarray:
    """JoinMarket (maker/taker; BlockSci's ``is_coinjoin``, Goldfeder et al. 2018): >= 2 inputs,
    >= 3 outputs; with p = (outputs + 1) // 2 participants, at least p inputs from at least p
    distinct addresses and the largest equal-value output group has exactly p outputs, whose
    value is not a dust value (546 or 2730 sat)."""
    p = (f.n_out + 1) // 2
    return (
        (f.n_in >= 2)
        & (f.n_out >= 3)
        & (f.n_in >= p)
        & (f.n_in_addr >= p)
        & (f.eq_count == p)
        & ~np.isin(f.eq_value, DUST_VALUES)
    )


def equal_output(f: TxFeatures) -> np.ndarray:
    """Generic equal-output CoinJoin: >= 2 distinct input addresses and >= 2 addressed
    outputs of one identical non-dust value, with no more equal outputs than inputs (every
    participant brings at least one coin). Broad on purpose: a miss merges strangers, a
    false alarm only forgoes one merge."""
    return (
        (f.n_in_addr >= 2)
        & (f.eq_count >= 2)
        & (f.eq_count <= f.n_in)
        & ~np.isin(f.eq_value, DUST_VALUES)
    )


def payjoin_like(f: TxFeatures) -> np.ndarray:
    """PayJoin-shaped (BIP78): exactly 2 outputs (no OP_RETURN), >= 2 distinct input
    addresses, every input and output of one script type (BIP78 asks the receiver to match
    the sender's input type; its payment output is of its own, usually the same, type) and
    no output of a round amount (a multiple of 0.001 BTC: a round payment is an ordinary one,
    a PayJoin's payment output also carries the receiver's coin). A careful PayJoin cannot be
    told from a payment that co-spends its sender's coins (every 2-output tx fits one of the
    unnecessary-input patterns), so this flags the shape: the price is the merges forgone in
    ordinary payments of that shape (ACCURACY.md)."""
    return (f.n_out == 2) & (f.n_nulldata == 0) & (f.n_in_addr >= 2) & f.one_type & (f.n_round == 0)


def multiparty(f: TxFeatures) -> np.ndarray:
    """Many-party CoinJoin of a kind without its own detector: >= 5 distinct input
    addresses and >= 2 output values each shared by several outputs, covering >= 4 outputs,
    whatever the output types (WabiSabi-like rounds where one denomination repeats more
    often than there are inputs, other coordinators' denominations)."""
    return (f.n_in_addr >= 5) & (f.n_eq_groups >= 2) & (f.n_in_eq >= 4)


_DETECTOR_FUNCS = {
    WASABI1: wasabi1,
    WASABI2: wasabi2,
    WHIRLPOOL_TX0: whirlpool_tx0,
    WHIRLPOOL_MIX: whirlpool_mix,
    JOINMARKET: joinmarket,
    EQUAL_OUTPUT: equal_output,
    PAYJOIN_LIKE: payjoin_like,
    MULTIPARTY: multiparty,
}


def detect_from_features(f: TxFeatures) -> np.ndarray:
    """Verdict bit mask (uint8) per tx from precomputed features; coinbase-free by input count."""
    verdict = np.zeros(f.n_in.shape[0], dtype=np.uint8)
    for bit, func in _DETECTOR_FUNCS.items():
        verdict |= np.where(func(f), bit, 0).astype(np.uint8)
    return verdict


def detect_coinjoins(arrays: ChainArrays, tx_lo: int = 0, tx_hi: int | None = None) -> np.ndarray:
    """One uint8 verdict per tx in ``[tx_lo, tx_hi)``: OR of the :data:`DETECTORS` bits that
    fire (always 0 for coinbases)."""
    tx_hi = arrays.n_txs if tx_hi is None else tx_hi
    verdict = detect_from_features(tx_features(arrays, tx_lo, tx_hi))
    verdict[np.asarray(arrays.tx_coinbase, dtype=bool)[tx_lo:tx_hi]] = 0
    return verdict


def verdict_names(code: int) -> list[str]:
    """Names of the detectors set in one verdict code."""
    return [name for name, bit in DETECTORS.items() if code & bit]
