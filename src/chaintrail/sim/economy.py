"""The simulated economy: who pays whom, block by block.

:class:`Economy` owns the ledger, the random stream and every actor. ``run`` mines a
bootstrap (coinbase-only blocks, so coins mature), distributes those coins to users and
services, then fills blocks with user activity (payments, merchant invoices, exchange
deposits, gambling, market orders, mixer use, consolidations), service housekeeping
(sweeps, batched withdrawals, cold storage), pool payouts of matured coinbases, CoinJoin
rounds and the crime scenarios, until the preset's transaction count is reached.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import numpy as np

from chaintrail.sim import coinjoin, scenarios
from chaintrail.sim.actors import (
    EXCHANGE_NAMES,
    GAMBLING_NAMES,
    POOL_NAMES,
    POOL_SHARES,
    Entities,
    Service,
    change_address,
    deposit_address,
    make_pool,
    make_service,
    make_users,
    merchant_name,
    receive_address,
)
from chaintrail.sim.ledger import DUST, P2PKH, P2SH, P2TR, P2WPKH, Ledger, RandomStream
from chaintrail.sim.presets import Preset
from chaintrail.sim.txbuild import Habits, spend, sweep

COIN = 100_000_000
SUBSIDY = 50 * COIN
MATURITY = 100
GENESIS_TIME = 1_700_000_000
# distribution blocks are cut below the consensus limit (4,000,000 weight units) with room
# for the coinbase; a 400-output distribution tx weighs ~55-70k
DISTRIBUTION_BLOCK_WEIGHT = 3_800_000
ROUND_AMOUNTS = (100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 50_000_000)

Scenario = Generator[int, None, None]


class Economy:
    """Every actor of one simulated chain plus the block loop that makes them transact."""

    def __init__(self, preset: Preset, seed: int) -> None:
        self.p = preset
        self.rnd = RandomStream(np.random.Generator(np.random.PCG64(seed)))
        self.ledger = L = Ledger()
        self.ents = ents = Entities()
        self.height = 0
        self.rate = 1
        self.genesis = ents.add("miner", "Genesis Miner")
        self.genesis_addr = L.new_address(self.genesis, P2PKH, "coinbase", -1)
        self.exchanges = [
            make_service(L, ents, "exchange", EXCHANGE_NAMES[k],
                         hot_type=(P2WPKH, P2SH, P2PKH)[k % 3], deposit_type=(P2WPKH, P2SH)[k % 2],
                         cold=True, fresh_deposits=False, sweep_every=4 + k, batch_every=1,
                         max_batch=150)
            for k in range(preset.n_exchanges)
        ]  # fmt: skip
        self.gambling = [
            make_service(L, ents, "gambling", name, hot_type=P2WPKH, deposit_type=P2WPKH,
                         cold=False, fresh_deposits=False, sweep_every=6, batch_every=2,
                         max_batch=60)
            for name in GAMBLING_NAMES
        ]  # fmt: skip
        self.market = make_service(L, ents, "darknet_market", "Nightshade Market",
                                   hot_type=P2WPKH, deposit_type=P2WPKH, cold=False,
                                   fresh_deposits=True, sweep_every=5, batch_every=3,
                                   max_batch=40)  # fmt: skip
        self.mixer = make_service(L, ents, "mixer", "Fogbank Mixer", hot_type=P2WPKH,
                                  deposit_type=P2WPKH, cold=False, fresh_deposits=True,
                                  sweep_every=3, batch_every=1,
                                  max_batch=max(3, preset.txs_per_block // 50))  # fmt: skip
        self.services: list[Service] = [*self.exchanges, *self.gambling, self.market, self.mixer]
        self.coordinators = coinjoin.make_coordinators(self)
        self.merchants: list[tuple[int, int, int]] = []  # entity, wallet, exchange index
        for m in range(preset.n_merchants):
            e = ents.add("merchant", merchant_name(m))
            self.merchants.append((e, L.new_wallet(e), m % preset.n_exchanges))
        self.users = make_users(L, ents, preset.n_users, preset.n_exchanges, self.rnd)
        n_miners = max(10, preset.n_users // 50)
        self.pools = [
            make_pool(L, ents, name, self.users, n_miners, self.rnd) for name in POOL_NAMES
        ]
        self.coinbase_of: dict[int, tuple[int, int]] = {}  # height -> (pool index or -1, out id)
        self.whirlpool = coinjoin.Whirlpool()
        self.scenarios: list[tuple[int, Scenario]] = []
        self.records: list[scenarios.ScenarioRecord] = []
        self.on_block: Callable[[int], None] | None = None

    # ------------------------------------------------------------------ small helpers
    def user_entity(self, i: int) -> int:
        """Entity id of user ``i``."""
        return self.users.first + i

    def habits(self, i: int) -> Habits:
        """User ``i``'s tx fingerprint at the current height."""
        u = self.users
        lock = self.height - 1 if u.locktime_height[i] else 0
        return Habits(u.version[i], lock, u.sequence[i])

    def tx_rate(self) -> int:
        """A fee rate (sat/vB) for one transaction in the current block."""
        return max(1, int(self.rate * (0.6 + 0.8 * self.rnd.u())))

    def user_pay(self, i: int, payees: list[tuple[int, int]], kind: str = "payment") -> int:
        """User ``i`` pays ``payees`` from its wallet with change; returns the tx id or -1."""
        L, u = self.ledger, self.users
        rate = self.tx_rate()
        need = sum(v for v, _ in payees) + rate * (11 + 43 * (len(payees) + 1))
        inputs = L.select(u.wallet[i], need, rate, self.rnd)
        if not inputs:
            return -1
        change = change_address(L, u, i, L.out_addr[inputs[0]], self.rnd)
        pos = -1 if u.change_last[i] else self.rnd.below(len(payees) + 1)
        tx, _, _ = spend(L, kind, self.user_entity(i), inputs, payees, change, rate,
                         change_pos=pos, habits=self.habits(i))  # fmt: skip
        return tx

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
        self.records = scenarios.start_all(self, self.height + 1)
        while L.n_txs < self.p.target_txs:
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
            batch = []
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
        self._pool_payouts()
        for svc in self.services:
            if h % svc.sweep_every == 0:
                self._sweep_deposits(svc)
            if h % svc.batch_every == 0:
                self._payouts(svc)
        for ex in self.exchanges:
            self._cold_storage(ex)
        self._merchants()
        coinjoin.block_rounds(self)
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
            self._user_action()

    # ------------------------------------------------------------------ services
    def _pool_payouts(self) -> None:
        L, rnd = self.ledger, self.rnd
        pool_i, cb = self.coinbase_of.get(self.height - MATURITY, (-1, -1))
        if pool_i >= 0:
            pool = self.pools[pool_i]
            k = min(len(pool.miners), 20 + rnd.below(40))
            picks = sorted({rnd.below(len(pool.miners)) for _ in range(k)})
            value = L.out_value[cb]
            weights = [0.2 + rnd.u() for _ in picks]
            tot = sum(weights)
            payees = [
                (int(value * 0.97 * w / tot), pool.miner_addr[j])
                for w, j in zip(weights, picks, strict=True)
            ]
            payees = [p for p in payees if p[0] >= DUST]
            spend(
                L,
                "pool_payout",
                pool.entity,
                [cb],
                payees,
                pool.change_addr,
                max(1, self.rate // 2),
            )
        for pool in self.pools:
            if L.balance[pool.wallet] > 25 * COIN and rnd.u() < 0.2:
                dest = deposit_address(L, self.exchanges[0], pool.entity)
                sweep(L, "payment", pool.entity, L.take_all(pool.wallet, 100), dest, self.rate)

    def _sweep_deposits(self, svc: Service) -> None:
        L = self.ledger
        for _ in range(3):
            if not L.wallets[svc.deposit_wallet]:
                return
            inputs = L.take_all(svc.deposit_wallet, 200)
            tx, _ = sweep(L, "sweep", svc.entity, inputs, svc.hot_addr, max(1, self.rate // 2))
            if tx < 0:
                return

    def _payouts(self, svc: Service) -> None:
        L, h, rnd = self.ledger, self.height, self.rnd
        due = [q for q in svc.queue if q[0] <= h][: svc.max_batch]
        if not due:
            return
        need = sum(q[2] for q in due)
        if svc.cold_wallet >= 0 and L.balance[svc.hot_wallet] < need * 1.2:
            self._cold_to_hot(svc, need * 2 + svc.hot_target)
        budget = L.balance[svc.hot_wallet] * 0.9
        chosen, total = [], 0
        for q in due:
            if total + q[2] <= budget:
                chosen.append(q)
                total += q[2]
        if not chosen:
            return
        rate = max(1, int(self.rate * 0.8))
        inputs = L.select(svc.hot_wallet, total + rate * (20 + 45 * len(chosen)), rate, rnd)
        if not inputs:
            return
        u = self.users
        payees = []
        for _, i, amount, addr in chosen:
            payees.append(
                (amount, addr if addr >= 0 else receive_address(L, u, i, rnd, svc.kind == "mixer"))
            )
        kind = "mixer_payout" if svc.kind == "mixer" else "batch_withdrawal"
        if svc.kind == "mixer":
            change = L.new_address(svc.entity, P2WPKH, "hot", svc.hot_wallet)
            pos = rnd.below(len(payees) + 1)
        else:
            change, pos = (
                svc.hot_addr,
                (-1 if svc.kind == "exchange" else rnd.below(len(payees) + 1)),
            )
        spend(L, kind, svc.entity, inputs, payees, change, rate, change_pos=pos)
        done = set(map(id, chosen))
        svc.queue = [q for q in svc.queue if id(q) not in done]

    def _cold_to_hot(self, svc: Service, amount: int) -> None:
        L = self.ledger
        amount = min(amount, L.balance[svc.cold_wallet] - 100_000)
        if amount < COIN // 100:
            return
        inputs = L.select(svc.cold_wallet, amount, self.rate, self.rnd)
        if inputs:
            spend(
                L,
                "cold_storage",
                svc.entity,
                inputs,
                [(amount, svc.hot_addr)],
                svc.cold_addr,
                self.rate,
            )

    def _cold_storage(self, ex: Service) -> None:
        L = self.ledger
        bal = L.balance[ex.hot_wallet]
        if bal > 3 * ex.hot_target:
            amount = bal - 2 * ex.hot_target
            inputs = L.select(ex.hot_wallet, amount, self.rate, self.rnd)
            if inputs:
                spend(
                    L,
                    "cold_storage",
                    ex.entity,
                    inputs,
                    [(amount, ex.cold_addr)],
                    ex.hot_addr,
                    self.rate,
                )

    def _merchants(self) -> None:
        L, h = self.ledger, self.height
        for m, (e, w, ex) in enumerate(self.merchants):
            if (h + m) % 12 == 0 and L.balance[w] > 2_000_000:
                dest = deposit_address(L, self.exchanges[ex], e)
                sweep(L, "payment", e, L.take_all(w, 150), dest, self.rate)

    # ------------------------------------------------------------------ users
    def _user_action(self) -> None:
        L, u, rnd, h = self.ledger, self.users, self.rnd, self.height
        i = rnd.below(u.n)
        bal = L.balance[u.wallet[i]]
        if bal < 60_000:
            self._buy(i)
            return
        r = rnd.u()
        if r < 0.28:
            self._p2p(i, bal)
        elif r < 0.53:
            m = rnd.below(len(self.merchants))
            e, w, _ = self.merchants[m]
            amount = int(min(bal * 0.8, rnd.lognormal(300_000, 1.0)))
            if amount >= DUST:
                self.user_pay(
                    i, [(amount, L.new_address(e, (P2WPKH, P2SH, P2TR)[m % 3], "invoice", w))]
                )
        elif r < 0.64:
            ex = self.exchanges[u.exchange[i]]
            dest = deposit_address(L, ex, self.user_entity(i))
            if rnd.u() < 0.3:
                wallet = u.wallet[i]
                sweep(L, "payment", self.user_entity(i), L.take_all(wallet, 50), dest, self.tx_rate(),
                      habits=self.habits(i))  # fmt: skip
            else:
                self.user_pay(i, [(int(bal * (0.3 + 0.6 * rnd.u())), dest)])
        elif r < 0.68:
            g = self.gambling[i % len(self.gambling)]
            amount = int(min(bal * 0.5, rnd.lognormal(200_000, 1.0)))
            if (
                amount >= DUST
                and self.user_pay(i, [(amount, deposit_address(L, g, self.user_entity(i)))]) >= 0
            ):
                if rnd.u() < 0.45:
                    g.queue.append((h + 1 + rnd.below(3), i, int(amount * 1.9), -1))
        elif r < 0.71:
            if i % 25 == 0:
                self._market_order(i, bal)
            else:
                self._p2p(i, bal)
        elif r < 0.715:
            if bal > 1_000_000:
                self._use_mixer(i, bal)
            else:
                self._p2p(i, bal)
        elif r < 0.76:
            if len(L.wallets[u.wallet[i]]) >= 4:
                inputs = L.take_all(u.wallet[i], 3 + rnd.below(8))
                dest = change_address(L, u, i, L.out_addr[inputs[0]], rnd)
                sweep(L, "consolidation", self.user_entity(i), inputs, dest, self.tx_rate(),
                      habits=self.habits(i))  # fmt: skip
            else:
                self._p2p(i, bal)
        elif r < 0.77:
            if bal > 6_000_000:
                coinjoin.whirlpool_tx0(self, i)
            else:
                self._p2p(i, bal)
        elif r < 0.90:
            self._p2p(i, bal)
        else:
            self._buy(i)

    def _market_order(self, i: int, bal: int) -> None:
        L, rnd, u = self.ledger, self.rnd, self.users
        amount = int(min(bal * 0.7, rnd.lognormal(500_000, 0.8)))
        dest = deposit_address(L, self.market, self.user_entity(i))
        if amount >= DUST and self.user_pay(i, [(amount, dest)]) >= 0:
            vendor = (rnd.below(u.n // 97 + 1) * 97 + 1) % u.n
            self.market.queue.append(
                (self.height + 3 + rnd.below(8), vendor, int(amount * 0.95), -1)
            )

    def _buy(self, i: int) -> None:
        ex = self.exchanges[self.users.exchange[i]]
        amount = int(max(100_000, self.rnd.lognormal(3_000_000, 1.0)))
        ex.queue.append((self.height + 1 + self.rnd.below(2), i, amount, -1))

    def _p2p(self, i: int, bal: int) -> None:
        L, u, rnd = self.ledger, self.users, self.rnd
        if rnd.u() < 0.35:
            fitting = [a for a in ROUND_AMOUNTS if a <= bal // 2]
            amount = rnd.choice(fitting) if fitting else bal // 3
        else:
            amount = int(bal * (0.05 + 0.6 * rnd.u()))
        payees = [(amount, receive_address(L, u, rnd.below(u.n), rnd))]
        if rnd.u() < 0.08:
            payees.append(
                (int(amount * rnd.u()) + DUST, receive_address(L, u, rnd.below(u.n), rnd))
            )
        if rnd.u() < 0.01:
            payees.append((0, -20))
        self.user_pay(i, payees)

    def _use_mixer(self, i: int, bal: int) -> None:
        rnd, h = self.rnd, self.height
        amount = int(bal * (0.5 + 0.4 * rnd.u()))
        dest = deposit_address(self.ledger, self.mixer, self.user_entity(i), "mixer_deposit")
        if self.user_pay(i, [(amount, dest)]) >= 0:
            parts = 1 + rnd.below(3)
            for _ in range(parts):
                self.mixer.queue.append((h + 2 + rnd.below(12), i, int(amount * 0.975 / parts), -1))
