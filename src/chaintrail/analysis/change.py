"""Change heuristics: each names a set of candidate change outputs per transaction.

Every heuristic maps the chain to a boolean mask over output ids (``True`` = "this output may
be the change of its transaction"), as BlockSci's change heuristics return output sets. Masks
compose with ``&`` (and), ``|`` (or), ``-`` (minus) and ``>`` (prefer) via
:mod:`chaintrail.analysis.change_expr`; :func:`unique_change` then picks, per transaction, the
one candidate if there is exactly one.

All heuristics see the chain as it is stored now: the spend-based ones (``client_fingerprint``,
``peel_chain``) only know spends already ingested.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from chaintrail.analysis.change_kernels import (
    first_output_of_address,
    min_input_value,
    output_addr_in_inputs,
    uniform_input_type,
    unique_per_tx,
)
from chaintrail.analysis.coinjoin import detect_coinjoins
from chaintrail.store.arrays import ChainArrays

NO_CHANGE = -1
DEFAULT_POWER_OF_TEN_DIGITS = 6
DEFAULT_FEW_OUTPUTS = 10


class ChangeContext:
    """Per-tx and per-output facts the change heuristics share, for txs ``[tx_lo, tx_hi)``.

    Masks cover the window's outputs ``[out_lo, out_hi)`` (index ``o - out_lo``); facts about
    earlier or later txs (first payment of an address, spending txs) are looked up globally,
    so a one-tx window gives the same answer for that tx as a whole-chain window.
    """

    def __init__(
        self,
        arrays: ChainArrays,
        tx_lo: int = 0,
        tx_hi: int | None = None,
        power_of_ten_digits: int = DEFAULT_POWER_OF_TEN_DIGITS,
        few_outputs_max: int = DEFAULT_FEW_OUTPUTS,
        coinjoin_verdict: np.ndarray | None = None,
        clusters: np.ndarray | None = None,
    ) -> None:
        self.a = arrays
        self.tx_lo = tx_lo
        self.tx_hi = arrays.n_txs if tx_hi is None else tx_hi
        self.power_of_ten_digits = power_of_ten_digits
        self.few_outputs_max = few_outputs_max
        self._verdict = coinjoin_verdict  # per global tx, as detect_coinjoins gives; lazy if None
        self._clusters = clusters  # cluster id per address (multi-input); None: each its own
        starts = np.asarray(arrays.tx_out_start)
        if self.tx_hi > self.tx_lo:
            self.out_lo = int(starts[self.tx_lo])
            last = self.tx_hi - 1
            self.out_hi = int(starts[last] + arrays.tx_n_out[last])
        else:
            self.out_lo = self.out_hi = 0

    def _tx(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self.a, name))[self.tx_lo : self.tx_hi]

    def _out(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self.a, name))[self.out_lo : self.out_hi]

    @cached_property
    def out_tx(self) -> np.ndarray:
        """Window-relative tx index of every window output."""
        return self._out("out_tx").astype(np.int64) - self.tx_lo

    @cached_property
    def has_address(self) -> np.ndarray:
        """Outputs that pay an address."""
        return self._out("out_addr") >= 0

    @cached_property
    def spending_tx(self) -> np.ndarray:
        """Global tx id that spends each window output, -1 if unspent."""
        spent_by = self._out("out_spent_by")
        res = np.full(spent_by.shape[0], -1, dtype=np.int64)
        spent = spent_by >= 0
        res[spent] = np.asarray(self.a.in_tx)[spent_by[spent]]
        return res

    @cached_property
    def spent_by_coinjoin(self) -> np.ndarray:
        """Window outputs spent by a tx some CoinJoin detector flags (tx0 included)."""
        spender = self.spending_tx
        spent = spender >= 0
        res = np.zeros(spender.shape[0], dtype=bool)
        if self._verdict is not None:
            res[spent] = np.asarray(self._verdict)[spender[spent]] != 0
            return res
        txs = np.unique(spender[spent])
        if txs.size == 0:
            return res
        if txs.size <= 64:  # a few spenders (one tx's view): judge just those
            flagged = np.array([detect_coinjoins(self.a, t, t + 1)[0] for t in txs.tolist()])
            res[spent] = flagged[np.searchsorted(txs, spender[spent])] != 0
        else:
            lo = int(txs[0])
            res[spent] = detect_coinjoins(self.a, lo, int(txs[-1]) + 1)[spender[spent] - lo] != 0
        return res

    def fingerprint(self, tx_ids: np.ndarray) -> np.ndarray:
        """Client fingerprint of global txs: version, locktime set or not, first input's
        nSequence. (Whether an input carries a witness is left out: it says which script
        type the coin had, not which wallet signed, and one wallet holds several types.)"""
        a = self.a
        tx_ids = np.asarray(tx_ids, dtype=np.int64)
        first_seq = np.zeros(tx_ids.shape[0], dtype=np.int64)
        has_in = np.asarray(a.tx_n_in)[tx_ids] > 0
        starts = np.asarray(a.tx_in_start)[tx_ids[has_in]]
        first_seq[has_in] = np.asarray(a.in_sequence)[starts].astype(np.int64)
        version = np.asarray(a.tx_version)[tx_ids].astype(np.int64) & 0xFF
        locktime_set = (np.asarray(a.tx_locktime)[tx_ids] != 0).astype(np.int64)
        return (version << 40) | (locktime_set << 39) | first_seq

    def address_reuse(self) -> np.ndarray:
        """Outputs paying an address that also funds the same tx (change sent back to an input)."""
        a = self.a
        full = output_addr_in_inputs(
            self._tx("tx_in_start"),
            self._tx("tx_n_in"),
            self._tx("tx_out_start") - self.out_lo,
            self._tx("tx_n_out"),
            np.asarray(a.in_addr),
            self._out("out_addr"),
        )
        return full

    def tx_pays_back(self) -> np.ndarray:
        """Per window tx: does one of its outputs pay an address that funds it? Its change is
        then that output, already in the spender's cluster, so no other output may be merged."""
        reuse = self.address_reuse()
        return np.bincount(self.out_tx[reuse], minlength=self.tx_hi - self.tx_lo) > 0

    def address_type(self) -> np.ndarray:
        """Outputs whose address type equals the one type shared by all the tx's inputs."""
        a = self.a
        uniform = uniform_input_type(
            self._tx("tx_in_start"), self._tx("tx_n_in"), np.asarray(a.in_addr), a.addr_type
        )
        out_addr = self._out("out_addr")
        out_kind = np.full(out_addr.shape[0], 254, dtype=np.uint8)
        out_kind[self.has_address] = np.asarray(a.addr_type)[out_addr[self.has_address]]
        return self.has_address & (out_kind == uniform[self.out_tx])

    def optimal_change(self) -> np.ndarray:
        """Outputs worth less than every input (else the smallest input was not needed)."""
        min_in = min_input_value(
            self._tx("tx_in_start"), self._tx("tx_n_in"), np.asarray(self.a.in_value)
        )[self.out_tx]
        return self.has_address & (min_in >= 0) & (self._out("out_value") < min_in)

    def power_of_ten(self) -> np.ndarray:
        """Outputs whose value is NOT a multiple of 10^digits sat (payments are round, change
        is what is left), only in txs that have at least one round output."""
        round_out = (self._out("out_value") % (10**self.power_of_ten_digits)) == 0
        n = self.tx_hi - self.tx_lo
        tx_has_round = np.bincount(self.out_tx[round_out], minlength=n) > 0
        return self.has_address & ~round_out & tx_has_round[self.out_tx]

    @cached_property
    def spend_fingerprint(self) -> tuple[np.ndarray, np.ndarray]:
        """``(judged, same)`` per window output: spent by a tx no CoinJoin detector flags
        (CoinJoin software, Whirlpool tx0 included, signs with its own fingerprint, not the
        wallet's), and, of those, spent with the creating tx's :meth:`fingerprint`."""
        spender = self.spending_tx
        judged = (spender >= 0) & ~self.spent_by_coinjoin
        same = np.zeros(spender.shape[0], dtype=bool)
        own = self.fingerprint(self.out_tx[judged] + self.tx_lo)
        same[judged] = self.fingerprint(spender[judged]) == own
        return judged, same

    def _verdict_of(self, tx_ids: np.ndarray) -> np.ndarray:
        """CoinJoin verdicts of global txs (as given; else detected for just these when few)."""
        if self._verdict is not None:
            return np.asarray(self._verdict)[tx_ids]
        if tx_ids.size <= 4096:
            return np.array([detect_coinjoins(self.a, t, t + 1)[0] for t in tx_ids.tolist()],
                            dtype=np.uint8)  # fmt: skip
        return detect_coinjoins(self.a)[tx_ids]

    @cached_property
    def sender_cluster(self) -> np.ndarray:
        """Cluster id of each window tx's sender (its first input's address's cluster; the
        address itself without a clustering); -1 for txs without a resolved input."""
        first_in = self._tx("tx_in_start")
        has = self._tx("tx_n_in") > 0
        addr = np.full(first_in.shape[0], -1, np.int64)
        addr[has] = np.asarray(self.a.in_addr)[first_in[has]]
        if self._clusters is None:
            return addr
        out = np.full(addr.shape[0], -1, np.int64)
        ok = addr >= 0
        out[ok] = np.asarray(self._clusters)[addr[ok]]
        return out

    def _stable_senders(self, key_of: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Per window tx: has its sender's cluster signed every one of its (non-CoinJoin) txs
        in the chain with the same ``key_of(tx ids)`` value? Only the window's senders' txs
        are looked at when the window is small (one tx's view)."""
        a = self.a
        first_in = np.asarray(a.tx_in_start)
        has = np.asarray(a.tx_n_in) > 0
        txs = np.flatnonzero(has)
        addr = np.asarray(a.in_addr)[first_in[txs]].astype(np.int64)
        ok = addr >= 0
        txs, addr = txs[ok], addr[ok]
        cl = addr if self._clusters is None else np.asarray(self._clusters)[addr].astype(np.int64)
        mine = self.sender_cluster
        if self.tx_hi - self.tx_lo <= 64:
            keep = np.isin(cl, mine[mine >= 0])
            txs, cl = txs[keep], cl[keep]
        plain = self._verdict_of(txs) == 0
        txs, cl = txs[plain], cl[plain]
        _, kid = np.unique(key_of(txs), return_inverse=True)
        width = int(kid.max()) + 1 if kid.size else 1
        n_keys = np.bincount(np.unique(cl * width + kid) // width)
        res = np.zeros(mine.shape[0], dtype=bool)
        known = (mine >= 0) & (mine < n_keys.shape[0])
        res[known] = n_keys[mine[known]] == 1
        return res

    def stable_fingerprint(self) -> np.ndarray:
        """Every addressed output of txs whose sender's cluster signs all its txs with one
        client fingerprint (:meth:`fingerprint`): a filter. A wallet that changed software, a
        user running two wallets that got merged, or a shared wallet whose co-signers use
        different software make fingerprint evidence about that sender unreliable."""
        return self.has_address & self._stable_senders(self.fingerprint)[self.out_tx]

    def stable_type(self) -> np.ndarray:
        """Every addressed output of txs whose sender's cluster spends inputs of one script
        type only (the type of each tx's first input): a filter for ``address_type``. A
        wallet that moved to a new script type sends change of the new type from coins of
        the old one."""
        a = self.a

        def first_input_type(tx_ids: np.ndarray) -> np.ndarray:
            addr = np.asarray(a.in_addr)[np.asarray(a.tx_in_start)[tx_ids]]
            return np.asarray(a.addr_type)[addr].astype(np.int64)  # callers pass txs with one

        return self.has_address & self._stable_senders(first_input_type)[self.out_tx]

    def client_fingerprint(self) -> np.ndarray:
        """Outputs spent by a tx with the same client fingerprint (:meth:`fingerprint`) as
        the tx that created them: the sender's wallet spends its change, payees' wallets
        spend theirs. Judged only in txs whose addressed outputs are all spent and none by a
        CoinJoin (an unspent output could be the change). A payee whose wallet happens to
        share the fingerprint makes the tx ambiguous, not wrong."""
        judged, same = self.spend_fingerprint
        open_out = self.has_address & ~judged
        all_judged = np.bincount(self.out_tx[open_out], minlength=self.tx_hi - self.tx_lo) == 0
        return self.has_address & same & all_judged[self.out_tx]

    def fingerprint_exclusion(self) -> np.ndarray:
        """Outputs the client fingerprint does not rule out: an output spent (outside
        CoinJoins) by a tx whose fingerprint differs from the creating tx's went to another
        wallet; unspent outputs and outputs spent with the same fingerprint stay candidates.
        Unique when every other output is ruled out, so unlike ``client_fingerprint`` it
        also decides txs whose change is not spent yet (where ``client_fingerprint`` decides,
        it picks the same output). Combined with ``&`` it keeps other heuristics off
        outputs the fingerprint says are payees'."""
        judged, same = self.spend_fingerprint
        return self.has_address & ~(judged & ~same)

    def fresh_address(self) -> np.ndarray:
        """Outputs paying an address never paid before and not funding this tx."""
        first = first_output_of_address(np.asarray(self.a.out_addr), self.out_lo, self.out_hi)
        return first & ~self.address_reuse()

    def few_outputs(self) -> np.ndarray:
        """Every addressed output of a tx with at most ``few_outputs_max`` (default 10)
        outputs: a filter, not a pick. Batched payouts (pools, exchanges) pay many payees,
        some for the first time, so one fresh output of the input type says nothing there."""
        n_out = self._tx("tx_n_out")
        return self.has_address & (n_out <= self.few_outputs_max)[self.out_tx]

    def peel_chain(self) -> np.ndarray:
        """In a 1-input/2-output tx, the output spent by another 1-input/2-output tx (the
        chain continues through the change)."""
        a = self.a
        n_in = np.asarray(a.tx_n_in)
        n_out = np.asarray(a.tx_n_out)
        own = self.out_tx + self.tx_lo
        own_peel = (n_in[own] == 1) & (n_out[own] == 2)
        spender = self.spending_tx
        spent = spender >= 0
        continues = np.zeros(spender.shape[0], dtype=bool)
        continues[spent] = (n_in[spender[spent]] == 1) & (n_out[spender[spent]] == 2)
        return self.has_address & own_peel & continues


HEURISTICS: dict[str, Callable[[ChangeContext], np.ndarray]] = {
    "address_reuse": ChangeContext.address_reuse,
    "address_type": ChangeContext.address_type,
    "optimal_change": ChangeContext.optimal_change,
    "power_of_ten": ChangeContext.power_of_ten,
    "client_fingerprint": ChangeContext.client_fingerprint,
    "fingerprint_exclusion": ChangeContext.fingerprint_exclusion,
    "fresh_address": ChangeContext.fresh_address,
    "peel_chain": ChangeContext.peel_chain,
    "few_outputs": ChangeContext.few_outputs,
    "stable_fingerprint": ChangeContext.stable_fingerprint,
    "stable_type": ChangeContext.stable_type,
}
# Heuristics that take one integer parameter, ``name(N)``: the ChangeContext attribute it sets.
HEURISTIC_PARAMS: dict[str, str] = {
    "power_of_ten": "power_of_ten_digits",
    "few_outputs": "few_outputs_max",
}


def unique_change(
    ctx: ChangeContext, candidate: np.ndarray, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Per window tx, the global output id of its change if exactly one of its outputs is a
    candidate, else -1 (:data:`NO_CHANGE`).

    Txs with fewer than two outputs never have change; ``eligible`` (bool per window tx)
    excludes more, e.g. CoinJoins and coinbases.
    """
    n = ctx.tx_hi - ctx.tx_lo
    if eligible is None:
        eligible = np.ones(n, dtype=bool)
    rel = unique_per_tx(
        ctx._tx("tx_out_start") - ctx.out_lo, ctx._tx("tx_n_out"), candidate, eligible
    )
    return np.where(rel >= 0, rel + ctx.out_lo, NO_CHANGE)
