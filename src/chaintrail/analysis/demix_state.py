"""What one forward trace knows while it demixes: the chain columns the rules read (plain
ndarray views, so single lookups skip the memmap wrapper), the coins known to be the party's,
every mix its coins entered and the *exit structure* built from them, grown as mixes are
entered.

An *exit* is a consolidation (a one-output tx outside any mix) spending an output of a party
mix. Two exits are joined when one spends the other's output or a later (non-mix) tx spends
outputs of both: the party gathering its coins in stages. ``exit_mixes(tx)`` is how many
party mixes feed the exits joined with ``tx`` (docs/TRACING.md, ``exit_consolidation``).
"""

from __future__ import annotations

import numpy as np

from chaintrail.store.arrays import ChainArrays


class DemixState:
    """A trace's demixing memory over ``chain`` with CoinJoin mix flags ``coinjoin_tx``."""

    def __init__(self, chain: ChainArrays, coinjoin_tx: np.ndarray) -> None:
        self.out_value = np.asarray(chain.out_value)
        self.out_addr = np.asarray(chain.out_addr)
        self.out_spent_by = np.asarray(chain.out_spent_by)
        self.in_tx = np.asarray(chain.in_tx)
        self.in_prev_out = np.asarray(chain.in_prev_out)
        self.in_value = np.asarray(chain.in_value)
        self.in_addr = np.asarray(chain.in_addr)
        self.tx_in_start = np.asarray(chain.tx_in_start)
        self.tx_n_in = np.asarray(chain.tx_n_in)
        self.tx_out_start = np.asarray(chain.tx_out_start)
        self.tx_n_out = np.asarray(chain.tx_n_out)
        self.coinjoin_tx = np.asarray(coinjoin_tx)
        self.known: set[int] = set()  # coins traced so far (the party's, to some confidence)
        self.sure: set[int] = set()  # coins traced with high confidence
        self.party_mixes: set[int] = set()
        self._parent: dict[int, int] = {}  # exit -> exit (union-find)
        self._feeds: dict[int, set[int]] = {}  # root exit -> party mixes feeding its group
        self._by_next: dict[int, int] = {}  # tx spending an exit's output -> that exit
        self._one_each: dict[int, bool] = {}

    # ---- chain lookups ---------------------------------------------------------------
    def outputs(self, tx: int) -> np.ndarray:
        """Output ids of ``tx``."""
        s = int(self.tx_out_start[tx])
        return np.arange(s, s + int(self.tx_n_out[tx]), dtype=np.int64)

    def spenders(self, outs: np.ndarray) -> np.ndarray:
        """The tx spending each output (-1 if unspent)."""
        spent_by = self.out_spent_by[outs]
        res = np.full(outs.shape[0], -1, np.int64)
        ok = spent_by >= 0
        res[ok] = self.in_tx[spent_by[ok]]
        return res

    def inputs_prev(self, tx: int) -> np.ndarray:
        """The output ids ``tx`` spends."""
        s = int(self.tx_in_start[tx])
        return self.in_prev_out[s : s + int(self.tx_n_in[tx])]

    def out_addrs(self, tx: int) -> np.ndarray:
        """Address ids ``tx`` pays (outputs without an address left out)."""
        s = int(self.tx_out_start[tx])
        a = self.out_addr[s : s + int(self.tx_n_out[tx])]
        return a[a >= 0]

    def one_coin_each(self, tx: int) -> bool:
        """A Whirlpool-style mix: as many inputs as outputs, every output of one value (each
        party brings one coin)."""
        hit = self._one_each.get(tx)
        if hit is None:
            n = int(self.tx_n_out[tx])
            s = int(self.tx_out_start[tx])
            vals = self.out_value[s : s + n]
            hit = int(self.tx_n_in[tx]) == n and bool((vals == vals[0]).all())
            self._one_each[tx] = hit
        return hit

    # ---- what the trace knows ----------------------------------------------------------
    def see(self, known: np.ndarray, sure: np.ndarray) -> None:
        """The coins traced so far (``known``) and those traced with high confidence."""
        self.known = set(known.tolist())
        self.sure = set(sure.tolist())

    def exit_mixes(self, tx: int) -> int:
        """How many party mixes feed the exit structure ``tx`` belongs to (0: not an exit)."""
        if tx not in self._parent:
            return 0
        return len(self._feeds[self._find(tx)])

    def enter(self, mixes: np.ndarray) -> None:
        """Record that the party's coins entered ``mixes``; grow the exit structure."""
        for m in (int(t) for t in mixes):
            if m in self.party_mixes:
                continue
            self.party_mixes.add(m)
            for sp in self.spenders(self.outputs(m)).tolist():
                if sp < 0 or self.coinjoin_tx[sp] or int(self.tx_n_out[sp]) != 1:
                    continue
                if sp in self._parent:
                    self._feeds[self._find(sp)].add(m)
                else:
                    self._add_exit(sp, m)

    def _find(self, x: int) -> int:
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[rb] = ra
            self._feeds[ra] |= self._feeds.pop(rb)

    def _add_exit(self, t: int, mix: int) -> None:
        self._parent[t] = t
        self._feeds[t] = {mix}
        earlier = self._by_next.get(t)
        if earlier is not None:  # an earlier exit's output is spent by this one
            self._union(earlier, t)
        for nxt in self.spenders(self.outputs(t)).tolist():
            if nxt < 0 or self.coinjoin_tx[nxt]:
                continue
            if nxt in self._parent:  # this exit feeds a later consolidation stage
                self._union(nxt, t)
            if nxt in self._by_next:
                self._union(self._by_next[nxt], t)
            else:
                self._by_next[nxt] = t
