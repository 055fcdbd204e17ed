"""Change heuristics: each names a set of candidate change outputs per transaction.

Every heuristic maps the chain to a boolean mask over output ids (``True`` = "this output may
be the change of its transaction"), as BlockSci's change heuristics return output sets. Masks
compose with ``&`` (and), ``|`` (or) and ``-`` (minus) via :mod:`chaintrail.analysis.change_expr`;
:func:`unique_change` then picks, per transaction, the one candidate if there is exactly one.

All heuristics see the chain as it is stored now: the spend-based ones (``client_fingerprint``,
``peel_chain``) only know spends already ingested.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
from numba import njit

from chaintrail.store.arrays import ChainArrays

NO_CHANGE = -1
COMMON_FINGERPRINT_SHARE = 0.2


@njit(cache=True)
def _min_input_value(tx_in_start, tx_n_in, in_value):
    """Smallest input value per tx; -1 if any input value is unknown or the tx has none."""
    n = tx_n_in.shape[0]
    out = np.full(n, -1, np.int64)
    for t in range(n):
        s = tx_in_start[t]
        k = tx_n_in[t]
        if k == 0:
            continue
        best = in_value[s]
        ok = True
        for i in range(s, s + k):
            v = in_value[i]
            if v < 0:
                ok = False
                break
            if v < best:
                best = v
        if ok:
            out[t] = best
    return out


@njit(cache=True)
def _uniform_input_type(tx_in_start, tx_n_in, in_addr, addr_type):
    """The one address type all of a tx's inputs share, or 255 (mixed, none or unresolved)."""
    n = tx_n_in.shape[0]
    out = np.full(n, 255, np.uint8)
    for t in range(n):
        s = tx_in_start[t]
        k = tx_n_in[t]
        if k == 0:
            continue
        ty = -1
        ok = True
        for i in range(s, s + k):
            a = in_addr[i]
            if a < 0:
                ok = False
                break
            at = addr_type[a]
            if ty < 0:
                ty = at
            elif at != ty:
                ok = False
                break
        if ok:
            out[t] = ty
    return out


@njit(cache=True)
def _output_addr_in_inputs(tx_in_start, tx_n_in, tx_out_start, tx_n_out, in_addr, out_addr):
    """Per output: does its address also appear among its own transaction's inputs?

    ``tx_out_start`` is relative to ``out_addr`` (a window of the output column)."""
    res = np.zeros(out_addr.shape[0], np.bool_)
    for t in range(tx_n_in.shape[0]):
        k = tx_n_in[t]
        if k == 0:
            continue
        ins = np.sort(in_addr[tx_in_start[t] : tx_in_start[t] + k])
        for o in range(tx_out_start[t], tx_out_start[t] + tx_n_out[t]):
            a = out_addr[o]
            if a >= 0:
                j = np.searchsorted(ins, a)
                res[o] = j < k and ins[j] == a
    return res


@njit(cache=True)
def _first_output_of_address(out_addr, out_lo, out_hi):
    """Per output in ``[out_lo, out_hi)``: is it the first output ever paying its address?"""
    top = 0
    for o in range(out_lo, out_hi):
        top = max(top, out_addr[o] + 1)
    mark = np.zeros(top, np.bool_)
    for o in range(out_lo, out_hi):
        if out_addr[o] >= 0:
            mark[out_addr[o]] = True
    seen = np.zeros(top, np.bool_)
    for o in range(out_lo):  # addresses of the window already paid before it
        a = out_addr[o]
        if a >= 0 and a < top and mark[a]:
            seen[a] = True
    first = np.zeros(out_hi - out_lo, np.bool_)
    for o in range(out_lo, out_hi):
        a = out_addr[o]
        if a >= 0 and not seen[a]:
            seen[a] = True
            first[o - out_lo] = True
    return first


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
        power_of_ten_digits: int = 6,
    ) -> None:
        self.a = arrays
        self.tx_lo = tx_lo
        self.tx_hi = arrays.n_txs if tx_hi is None else tx_hi
        self.power_of_ten_digits = power_of_ten_digits
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

    def fingerprint(self, tx_ids: np.ndarray) -> np.ndarray:
        """Client fingerprint of global txs: version, locktime set, first input's sequence,
        whether the first input carries a witness."""
        a = self.a
        tx_ids = np.asarray(tx_ids, dtype=np.int64)
        first_seq = np.zeros(tx_ids.shape[0], dtype=np.int64)
        first_wit = np.zeros(tx_ids.shape[0], dtype=np.int64)
        has_in = np.asarray(a.tx_n_in)[tx_ids] > 0
        starts = np.asarray(a.tx_in_start)[tx_ids[has_in]]
        first_seq[has_in] = np.asarray(a.in_sequence)[starts].astype(np.int64)
        first_wit[has_in] = np.asarray(a.in_witness)[starts].astype(np.int64)
        version = np.asarray(a.tx_version)[tx_ids].astype(np.int64) & 0xFF
        locktime_set = (np.asarray(a.tx_locktime)[tx_ids] != 0).astype(np.int64)
        return (version << 40) | (locktime_set << 39) | (first_wit << 38) | first_seq

    def address_reuse(self) -> np.ndarray:
        """Outputs paying an address that also funds the same tx (change sent back to an input)."""
        a = self.a
        full = _output_addr_in_inputs(
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
        uniform = _uniform_input_type(
            self._tx("tx_in_start"), self._tx("tx_n_in"), np.asarray(a.in_addr), a.addr_type
        )
        out_addr = self._out("out_addr")
        out_kind = np.full(out_addr.shape[0], 254, dtype=np.uint8)
        out_kind[self.has_address] = np.asarray(a.addr_type)[out_addr[self.has_address]]
        return self.has_address & (out_kind == uniform[self.out_tx])

    def optimal_change(self) -> np.ndarray:
        """Outputs worth less than every input (else the smallest input was not needed)."""
        min_in = _min_input_value(
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

    def client_fingerprint(self) -> np.ndarray:
        """Outputs spent by a tx with the same client fingerprint (version, locktime set or
        not, first input's sequence, segwit spend) as the tx that created them; judged only
        in txs whose addressed outputs are all spent (an unspent output could be the change)
        and only for fingerprints that are not common (see :attr:`common_fingerprints`)."""
        spender = self.spending_tx
        spent = spender >= 0
        same = np.zeros(spender.shape[0], dtype=bool)
        own = self.fingerprint(self.out_tx[spent] + self.tx_lo)
        same[spent] = self.fingerprint(spender[spent]) == own
        n = self.tx_hi - self.tx_lo
        open_out = self.has_address & ~spent
        all_spent = np.bincount(self.out_tx[open_out], minlength=n) == 0
        fp_own = np.zeros(spender.shape[0], dtype=np.int64)
        fp_own[spent] = own
        common = self.common_fingerprints
        distinctive = ~np.isin(fp_own, common)
        return self.has_address & same & all_spent[self.out_tx] & distinctive

    @cached_property
    def common_fingerprints(self) -> np.ndarray:
        """Fingerprints of more than :data:`COMMON_FINGERPRINT_SHARE` of all txs up to the
        window's end: so many wallets share them that a match says nothing."""
        fp = self.fingerprint(np.arange(self.tx_hi))
        values, counts = np.unique(fp, return_counts=True)
        return values[counts > COMMON_FINGERPRINT_SHARE * max(self.tx_hi, 1)]

    def fresh_address(self) -> np.ndarray:
        """Outputs paying an address never paid before and not funding this tx."""
        first = _first_output_of_address(np.asarray(self.a.out_addr), self.out_lo, self.out_hi)
        return first & ~self.address_reuse()

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
    "fresh_address": ChangeContext.fresh_address,
    "peel_chain": ChangeContext.peel_chain,
}


@njit(cache=True)
def _unique_per_tx(tx_out_start, tx_n_out, candidate, eligible):
    n = tx_n_out.shape[0]
    res = np.full(n, -1, np.int64)
    for t in range(n):
        if not eligible[t] or tx_n_out[t] < 2:
            continue
        pick = -1
        count = 0
        for o in range(tx_out_start[t], tx_out_start[t] + tx_n_out[t]):
            if candidate[o]:
                count += 1
                pick = o
        if count == 1:
            res[t] = pick
    return res


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
    rel = _unique_per_tx(
        ctx._tx("tx_out_start") - ctx.out_lo, ctx._tx("tx_n_out"), candidate, eligible
    )
    return np.where(rel >= 0, rel + ctx.out_lo, NO_CHANGE)
