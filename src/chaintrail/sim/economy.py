"""The simulated economy: who pays whom, block by block.

:class:`Economy` is a :class:`~chaintrail.sim.world.World` plus the block loop. ``run`` mines a
bootstrap (coinbase-only blocks, so coins mature), distributes those coins to users and
services, then fills blocks with service housekeeping (:mod:`~chaintrail.sim.housekeeping`),
CoinJoin rounds (:mod:`~chaintrail.sim.coinjoin`, :mod:`~chaintrail.sim.wabisabi`), the crime
scenarios (:mod:`~chaintrail.sim.scenarios`) and user activity
(:mod:`~chaintrail.sim.activity`) until the preset's transaction count is reached.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chaintrail.sim import coinjoin, housekeeping, scenarios, wabisabi
from chaintrail.sim.activity import user_action
from chaintrail.sim.actors import POOL_SHARES
from chaintrail.sim.behaviour import Behaviour
from chaintrail.sim.housekeeping import MATURITY
from chaintrail.sim.ledger import P2WPKH
from chaintrail.sim.presets import Preset
from chaintrail.sim.txbuild import spend
from chaintrail.sim.users import receive_address
from chaintrail.sim.world import COIN, Scenario, World

SUBSIDY = 50 * COIN
GENESIS_TIME = 1_700_000_000
# distribution blocks are cut below the consensus limit (4,000,000 weight units) with room
# for the coinbase; a 400-output distribution tx weighs ~55-70k
DISTRIBUTION_BLOCK_WEIGHT = 3_800_000
MAX_OVERTIME = 300  # blocks the chain may run past its tx target for scenarios to finish


class Economy(World):
    """Every actor of one simulated chain plus the block loop that makes them transact."""

    def __init__(self, preset: Preset, seed: int, behaviour: Behaviour | None = None) -> None:
        super().__init__(preset, seed, behaviour)
        self.coinbase_of: dict[int, tuple[int, int]] = {}  # height -> (pool index or -1, out id)
        self.scenarios: list[tuple[int, Scenario]] = []
        self.records: list[scenarios.ScenarioRecord] = []
        self.on_block: Callable[[int], None] | None = None

    def add_scenario(self, start: int, scenario: Scenario) -> None:
        """Run ``scenario`` from block ``start``; each ``yield n`` waits n blocks."""
        self.scenarios.append((start, scenario))

    # ------------------------------------------------------------------ the block loop
    def run(self) -> None:
        """Mine the bootstrap, distribute, then economy blocks until the target tx count."""
        L = self.ledger
        alloc = self._initial_allocation()
        n_cb = sum(v for v, _ in alloc) // (SUBSIDY - COIN) + 1
        time = GENESIS_TIME
        for h in range(n_cb + MATURITY + 1):
            self.height = h
            L.begin_block(time, 0)
            tx = L.add_tx("coinbase", self.genesis, [], [(SUBSIDY, self.genesis_addr)], version=1)
            self.coinbase_of[h] = (-1, L.first_out(tx))
            time += 60 + self.rnd.below(600)
            self._tick(1)
        self.height = h = n_cb + MATURITY + 1
        self._block_start(time)
        time = self._distribute(alloc, [self.coinbase_of[k][1] for k in range(1, n_cb + 1)], time)
        self._block_end()
        self.users.economy_start = self.height + 1
        self.records = scenarios.start_all(self, self.height + 1, self.add_scenario)
        overtime = 0  # blocks past the target while a scenario still has steps to take
        while L.n_txs < self.p.target_txs or (self.scenarios and overtime < MAX_OVERTIME):
            overtime += L.n_txs >= self.p.target_txs
            self.height += 1
            time += 1 + int(-600 * np.log(max(self.rnd.u(), 1e-9)))
            self._block_start(time)
            self._economy_block()
            self._block_end()

    def _tick(self, n: int) -> None:
        if self.on_block is not None:
            self.on_block(n)

    def _block_start(self, time: int) -> None:
        u = self.rnd.u()
        pool = 0 if u < POOL_SHARES[0] else (1 if u < POOL_SHARES[0] + POOL_SHARES[1] else 2)
        self.rate = max(1, min(300, int(self.rnd.lognormal(6.0, 0.6))))
        self.ledger.begin_block(time, pool + 1)
        p = self.pools[pool]
        tx = self.ledger.add_tx("coinbase", p.entity, [], [(SUBSIDY, p.coinbase_addr)], version=2)
        self._cb = (pool, self.ledger.first_out(tx))
        self.coinbase_of[self.height] = self._cb

    def _block_end(self) -> None:
        self.ledger.out_value[self._cb[1]] = SUBSIDY + self.ledger.block_fees
        self._tick(1)

    def _initial_allocation(self) -> list[tuple[int, int]]:
        L, u, rnd = self.ledger, self.users, self.rnd
        alloc = []
        for i in range(u.n):
            v = int(min(5 * COIN, rnd.lognormal(2_000_000, 1.0)))
            alloc.append((max(v, 20_000), receive_address(L, u, i, rnd)))
        scale = max(1, u.n // 200)
        for k, ex in enumerate(self.exchanges):
            ex.hot_target = (20 - 2 * k) * COIN * scale // 4
            alloc.append((ex.hot_target, ex.hot_addr))
            alloc.append((ex.hot_target * 3, ex.cold_addr))
        for svc in (*self.gambling, self.market, self.mixer):
            svc.hot_target = 2 * COIN * scale // 4
            alloc.append((svc.hot_target, svc.hot_addr))
        return alloc

    def _distribute(self, alloc: list[tuple[int, int]], coinbases: list[int], time: int) -> int:
        """Hand out the initial allocation in 400-output txs, starting a new block whenever
        the next tx could push this one past ``DISTRIBUTION_BLOCK_WEIGHT``; returns the time
        of the last block."""
        L = self.ledger
        weight = 0
        change = L.new_address(self.genesis, P2WPKH, "change", -1)
        pending = list(alloc)
        carry: list[int] = []
        coinbases = list(coinbases)
        while pending:
            inputs = [*carry, coinbases.pop(0)] if coinbases else carry
            avail = L.value_of(inputs) - 300_000
            batch: list[tuple[int, int]] = []
            while pending and len(batch) < 400 and pending[-1][0] + 20_000 <= avail:
                v, a = pending.pop()
                batch.append((v, a))
                avail -= v + 20_000
            if not batch:
                if not coinbases:
                    raise ValueError(f"planner bug: {len(pending)} initial allocations unfunded")
                carry = inputs
                continue
            tx_weight = 4 * L.vsize(inputs, [a for _, a in batch] + [change])
            if weight and weight + tx_weight > DISTRIBUTION_BLOCK_WEIGHT:
                self._block_end()
                self.height += 1
                time += 1 + self.rnd.below(600)
                self._block_start(time)
                weight = 0
            weight += tx_weight
            _, first, cv = spend(L, "distribution", self.genesis, inputs, batch, change, 2)
            carry = [first + cv] if cv >= 0 else []
        return time

    def _economy_block(self) -> None:
        L, h = self.ledger, self.height
        start = L.n_txs
        housekeeping.pool_payouts(self, self.coinbase_of)
        for svc in self.services:
            if h % svc.sweep_every == 0:
                housekeeping.sweep_deposits(self, svc)
            if h % svc.batch_every == 0:
                housekeeping.payouts(self, svc)
        for ex in self.exchanges:
            housekeeping.cold_storage(self, ex)
        housekeeping.settle_merchants(self)
        self._coinjoin_rounds()
        due = [s for s in self.scenarios if s[0] <= h]
        self.scenarios = [s for s in self.scenarios if s[0] > h]
        for _, gen in due:
            try:
                self.scenarios.append((h + next(gen), gen))
            except StopIteration:
                pass
        budget = self.p.txs_per_block - (L.n_txs - start)
        tries = 0
        while L.n_txs - start < self.p.txs_per_block and tries < 4 * budget:
            tries += 1
            user_action(self)

    def _coinjoin_rounds(self) -> None:
        """The CoinJoin activity of one block: scheduled rounds and mixes."""
        h, scale, b = self.height, self.p.scenario_scale, self.b
        if h % b.wasabi_every == 0:
            coinjoin.wasabi_round(self, 8 + 6 * scale)
        if h % 3 == 0:
            coinjoin.joinmarket_round(self)
        if b.wabisabi_every and h % b.wabisabi_every == 0:
            wabisabi.wabisabi_round(self, 10 + 8 * scale)
        coinjoin.whirlpool_mixes(self, scale)
