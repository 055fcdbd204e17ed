"""The simulator's planning ledger: every transaction, input, output and address as flat columns.

The economy and the scenarios append transactions here (compact ``array.array`` columns, no
per-transaction objects); :meth:`Ledger.freeze` turns the columns into numpy arrays for the
numba serialiser. Output ids, input ids, tx ids and address ids are dense and in chain order.

Outputs are kept in *wallets* (stacks of unspent output ids) so spending an output removes it
from exactly one place: every spend spends an existing unspent output exactly once by
construction. An address belongs to one entity and (optionally) one wallet; outputs paid to an
address join its wallet. Wallet ``-1`` means "not tracked": the code that created the address
(a scenario, the miner's coinbase queue) keeps the output ids itself.

Sizes are exact: the serialiser's signature lengths are a pure function of the input id
(:func:`sig_len`), so :meth:`Ledger.vsize` is the vsize the block files will show and
``fee = vsize * rate`` holds exactly for fee-rate-paid transactions.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

import numpy as np

from chaintrail.chains.model import ScriptType

P2PKH = int(ScriptType.P2PKH)
P2SH = int(ScriptType.P2SH)  # always P2SH-P2WPKH in the simulator
P2WPKH = int(ScriptType.P2WPKH)
P2WSH = int(ScriptType.P2WSH)  # always a 2-of-3 multisig witness script
P2TR = int(ScriptType.P2TR)

DUST = 1_000  # no output below this many satoshis (above every standard dust limit)
MULTISIG_SCRIPT_LEN = 105  # OP_2 <33> <33> <33> OP_3 OP_CHECKMULTISIG
# per-tx flags (``tx_flags``): how the signing software wrote the tx
FLAG_BIP69 = 1  # inputs sorted by (previous txid as displayed, vout) when serialised
FLAG_LOW_R = 2  # every ECDSA signature is low-R: 70 DER bytes + sighash = 71

TX_KINDS = (
    "coinbase",
    "payment",
    "consolidation",
    "sweep",
    "batch_withdrawal",
    "cold_storage",
    "pool_payout",
    "coinjoin_wasabi",
    "coinjoin_whirlpool_tx0",
    "coinjoin_whirlpool_mix",
    "coinjoin_joinmarket",
    "peel",
    "distribution",
    "mixer_payout",
    "theft",
    "fan_out",
    "fan_in",
    "deposit",
    "payjoin",
    "coinjoin_wabisabi",
    "self_transfer",
)
KIND = {name: i for i, name in enumerate(TX_KINDS)}

ROLES = (
    "receive",
    "change",
    "deposit",
    "hot",
    "cold",
    "coinbase",
    "payout",
    "invoice",
    "coinjoin_output",
    "premix",
    "postmix",
    "coordinator_fee",
    "ransom",
    "scam",
    "collection",
    "intermediate",
    "mixer_deposit",
)
ROLE = {name: i for i, name in enumerate(ROLES)}

_OUT_SCRIPT_LEN = {P2PKH: 25, P2SH: 23, P2WPKH: 22, P2WSH: 34, P2TR: 34}
_OUT_SIZE = {t: 8 + 1 + n for t, n in _OUT_SCRIPT_LEN.items()}
_INPUT_BASE_EST = {P2PKH: 148, P2SH: 64, P2WPKH: 41, P2WSH: 41, P2TR: 41}
_INPUT_WIT_EST = {P2PKH: 0, P2SH: 108, P2WPKH: 108, P2WSH: 254, P2TR: 66}


def sig_len(in_id: int, which: int = 0, low_r: bool = False) -> int:
    """Length (71 or 72, sighash byte included) of DER signature ``which`` of input ``in_id``.

    A pure function so the planner's sizes equal the serialiser's bytes; the serialiser
    (:mod:`chaintrail.sim.blockfile`) uses the same formula. Low-R signing software always
    gets 71 (a 32-byte r).
    """
    if low_r:
        return 71
    return 71 + (((in_id * 40503) >> (11 + which)) & 1)


def input_sizes(addr_type: int, in_id: int, low_r: bool = False) -> tuple[int, int]:
    """(non-witness bytes, witness bytes) of an input spending ``addr_type`` as input ``in_id``.

    Witness bytes include the item count; a legacy input in a segwit tx adds one 0x00 byte,
    which :meth:`Ledger.vsize` accounts for.
    """
    if addr_type == P2PKH:
        return 41 + sig_len(in_id, 0, low_r) + 35, 0
    if addr_type == P2SH:
        return 64, 1 + 1 + sig_len(in_id, 0, low_r) + 34
    if addr_type == P2WPKH:
        return 41, 1 + 1 + sig_len(in_id, 0, low_r) + 34
    if addr_type == P2TR:
        return 41, 66
    if addr_type == P2WSH:
        sigs = sig_len(in_id, 0, low_r) + sig_len(in_id, 1, low_r)
        return 41, 1 + 1 + 1 + 1 + sigs + 1 + MULTISIG_SCRIPT_LEN
    raise ValueError(f"unsupported input script type {addr_type}")


def _varint_len(n: int) -> int:
    return 1 if n < 0xFD else (3 if n <= 0xFFFF else 5)


def output_size(addr: int, addr_type: int) -> int:
    """Serialised size of an output paying ``addr`` (negative ``addr`` = OP_RETURN of -addr bytes)."""
    if addr < 0:
        return 8 + 1 + 2 + (-addr)
    return _OUT_SIZE[addr_type]


class RandomStream:
    """Uniform floats and integers from one ``numpy.random.Generator``, drawn in blocks.

    Scalar draws from a Generator cost about a microsecond each; this hands them out from
    pre-drawn lists so the planner stays fast and still depends on the seed alone.
    """

    def __init__(self, rng: np.random.Generator, block: int = 1 << 16) -> None:
        self.rng = rng
        self._block = block
        self._buf: list[float] = []
        self._pos = 0

    def u(self) -> float:
        """One uniform float in [0, 1)."""
        if self._pos >= len(self._buf):
            self._buf = self.rng.random(self._block).tolist()
            self._pos = 0
        x = self._buf[self._pos]
        self._pos += 1
        return x

    def below(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        return int(self.u() * n)

    def lognormal(self, median: float, sigma: float) -> float:
        """A log-normal draw with the given median (from two uniforms, Box-Muller)."""
        u1 = max(self.u(), 1e-12)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * self.u())
        return median * math.exp(sigma * z)


@dataclass
class FrozenLedger:
    """The ledger as numpy arrays (what the serialiser and the truth writer read)."""

    tx_version: np.ndarray
    tx_locktime: np.ndarray
    tx_kind: np.ndarray
    tx_flags: np.ndarray
    tx_entity: np.ndarray
    tx_change: np.ndarray
    tx_n_in: np.ndarray
    tx_n_out: np.ndarray
    tx_in_start: np.ndarray
    tx_out_start: np.ndarray
    block_tx_start: np.ndarray
    block_n_tx: np.ndarray
    block_time: np.ndarray
    block_pool: np.ndarray
    in_prev: np.ndarray
    in_seq: np.ndarray
    out_value: np.ndarray
    out_addr: np.ndarray
    out_tx: np.ndarray
    addr_type: np.ndarray
    addr_entity: np.ndarray
    addr_role: np.ndarray


class Ledger:
    """Append-only columns of the planned chain plus the wallets holding unspent outputs."""

    def __init__(self) -> None:
        self.tx_version = array("i")
        self.tx_locktime = array("I")
        self.tx_kind = array("B")
        self.tx_flags = array("B")
        self.tx_entity = array("i")
        self.tx_change = array("i")
        self.tx_n_in = array("i")
        self.tx_n_out = array("i")
        self.in_prev = array("q")
        self.in_seq = array("I")
        self.out_value = array("q")
        self.out_addr = array("i")
        self.out_tx = array("i")
        self.addr_type = array("B")
        self.addr_entity = array("i")
        self.addr_role = array("B")
        self.addr_wallet = array("i")
        self.block_tx_start = array("q")
        self.block_time = array("I")
        self.block_pool = array("i")
        self.wallets: list[list[int]] = []
        self.balance: list[int] = []
        self.wallet_entity: list[int] = []
        self.block_fees = 0  # fees of the txs added since the last begin_block

    # ------------------------------------------------------------------ entities and wallets
    @property
    def n_txs(self) -> int:
        """Transactions planned so far."""
        return len(self.tx_kind)

    def new_wallet(self, entity: int) -> int:
        """A new empty wallet owned by ``entity``; returns its id."""
        self.wallets.append([])
        self.balance.append(0)
        self.wallet_entity.append(entity)
        return len(self.wallets) - 1

    def new_address(self, entity: int, addr_type: int, role: str, wallet: int = -1) -> int:
        """A fresh address of ``entity``; outputs paid to it join ``wallet`` (-1: untracked)."""
        self.addr_type.append(addr_type)
        self.addr_entity.append(entity)
        self.addr_role.append(ROLE[role])
        self.addr_wallet.append(wallet)
        return len(self.addr_type) - 1

    def take(self, wallet: int, index: int) -> int:
        """Remove and return the unspent output at position ``index`` of ``wallet``."""
        coins = self.wallets[wallet]
        out = coins[index]
        coins[index] = coins[-1]
        coins.pop()
        self.balance[wallet] -= self.out_value[out]
        return out

    def take_all(self, wallet: int, limit: int = 1 << 30) -> list[int]:
        """Remove and return up to ``limit`` unspent outputs of ``wallet`` (oldest first)."""
        coins = self.wallets[wallet]
        got = coins[:limit]
        del coins[:limit]
        self.balance[wallet] -= sum(self.out_value[o] for o in got)
        return got

    def select(self, wallet: int, target: int, rate: int, rnd: RandomStream) -> list[int]:
        """Remove random coins of ``wallet`` until they cover ``target`` plus their input fees.

        Returns [] (and removes nothing) if the wallet cannot cover it.
        """
        if self.balance[wallet] < target:
            return []
        coins = self.wallets[wallet]
        chosen: list[int] = []
        total = 0
        fee_in = 0
        while coins and total < target + fee_in:
            o = self.take(wallet, rnd.below(len(coins)))
            chosen.append(o)
            total += self.out_value[o]
            t = self.addr_type[self.out_addr[o]]
            fee_in += rate * (_INPUT_BASE_EST[t] + (_INPUT_WIT_EST[t] + 3) // 4)
        if total < target + fee_in:
            self.give_back(chosen)
            return []
        return chosen

    def give_back(self, outs: list[int]) -> None:
        """Return selected but unspent outputs to the wallets they came from."""
        for o in outs:
            w = self.addr_wallet[self.out_addr[o]]
            if w < 0:
                continue
            self.wallets[w].append(o)
            self.balance[w] += self.out_value[o]

    # ------------------------------------------------------------------ sizes
    def vsize(self, inputs: list[int], out_addrs: list[int], low_r: bool = False) -> int:
        """Exact vsize of a tx spending ``inputs`` (output ids) to ``out_addrs`` if added next
        (``low_r``: signed by low-R software)."""
        in_id = len(self.in_prev)
        base = 4 + 4 + _varint_len(len(inputs)) + _varint_len(len(out_addrs))
        wit = 0
        segwit = False
        for i, o in enumerate(inputs):
            b, w = input_sizes(self.addr_type[self.out_addr[o]], in_id + i, low_r)
            base += b
            if w:
                segwit = True
                wit += w
            else:
                wit += 1
        for a in out_addrs:
            base += output_size(a, self.addr_type[a] if a >= 0 else 0)
        weight = 4 * base + (2 + wit if segwit else 0)
        return (weight + 3) // 4

    def value_of(self, outs: list[int]) -> int:
        """Sum of the values of the given output ids."""
        return sum(self.out_value[o] for o in outs)

    # ------------------------------------------------------------------ appending
    def add_tx(
        self,
        kind: str,
        entity: int,
        inputs: list[int],
        outputs: list[tuple[int, int]],
        *,
        version: int = 2,
        locktime: int = 0,
        sequence: int = 0xFFFFFFFF,
        change_vout: int = -1,
        flags: int = 0,
    ) -> int:
        """Append a transaction; outputs are (value, address id) and join their wallets.

        Returns the new tx id; its first output id is ``len(out_value)`` before the call.
        """
        out_sum = 0
        for v, a in outputs:
            if v < 0 or (v < DUST and a >= 0):
                raise ValueError(f"planner bug: {kind} tx with a dust output of {v} sat")
            out_sum += v
        if inputs:
            values = self.out_value
            fee = -out_sum
            for o in inputs:
                fee += values[o]
            if fee < 0:
                raise ValueError(f"planner bug: {kind} tx pays {-fee} sat more than its inputs")
            self.block_fees += fee
        tx = len(self.tx_kind)
        self.tx_kind.append(KIND[kind])
        self.tx_flags.append(flags)
        self.tx_entity.append(entity)
        self.tx_version.append(version)
        self.tx_locktime.append(locktime)
        self.tx_change.append(change_vout)
        self.tx_n_in.append(len(inputs))
        self.tx_n_out.append(len(outputs))
        for o in inputs:
            self.in_prev.append(o)
            self.in_seq.append(sequence)
        for value, addr in outputs:
            oid = len(self.out_value)
            self.out_value.append(value)
            self.out_addr.append(addr)
            self.out_tx.append(tx)
            if addr >= 0:
                w = self.addr_wallet[addr]
                if w >= 0:
                    self.wallets[w].append(oid)
                    self.balance[w] += value
        return tx

    def first_out(self, tx: int) -> int:
        """Output id of vout 0 of the most recently added tx ``tx`` (call right after add_tx)."""
        return len(self.out_value) - self.tx_n_out[tx]

    def begin_block(self, time: int, pool: int) -> None:
        """Start a new block (the next tx added is its coinbase)."""
        self.block_tx_start.append(len(self.tx_kind))
        self.block_time.append(time)
        self.block_pool.append(pool)
        self.block_fees = 0

    # ------------------------------------------------------------------ freezing
    def freeze(self) -> FrozenLedger:
        """The columns as numpy arrays (zero-copy views of the compact columns)."""

        def arr(a: array, dtype: str) -> np.ndarray:  # type: ignore[type-arg]
            return np.frombuffer(a, dtype=dtype) if len(a) else np.zeros(0, dtype)

        n_in = arr(self.tx_n_in, "i4")
        n_out = arr(self.tx_n_out, "i4")
        in_start = np.zeros(len(n_in), np.int64)
        np.cumsum(n_in[:-1], out=in_start[1:])
        out_start = np.zeros(len(n_out), np.int64)
        np.cumsum(n_out[:-1], out=out_start[1:])
        b_start = arr(self.block_tx_start, "i8")
        b_n = np.diff(np.append(b_start, len(self.tx_kind))).astype(np.int64)
        return FrozenLedger(
            tx_version=arr(self.tx_version, "i4"),
            tx_locktime=arr(self.tx_locktime, "u4"),
            tx_kind=arr(self.tx_kind, "u1"),
            tx_flags=arr(self.tx_flags, "u1"),
            tx_entity=arr(self.tx_entity, "i4"),
            tx_change=arr(self.tx_change, "i4"),
            tx_n_in=n_in,
            tx_n_out=n_out,
            tx_in_start=in_start,
            tx_out_start=out_start,
            block_tx_start=b_start,
            block_n_tx=b_n,
            block_time=arr(self.block_time, "u4"),
            block_pool=arr(self.block_pool, "i4"),
            in_prev=arr(self.in_prev, "i8"),
            in_seq=arr(self.in_seq, "u4"),
            out_value=arr(self.out_value, "i8"),
            out_addr=arr(self.out_addr, "i4"),
            out_tx=arr(self.out_tx, "i4"),
            addr_type=arr(self.addr_type, "u1"),
            addr_entity=arr(self.addr_entity, "i4"),
            addr_role=arr(self.addr_role, "u1"),
        )
