"""The state every actor of a simulated chain acts on, and the helpers they share.

:class:`World` holds the ledger, the random stream, the behaviour knobs and every actor
(users, services, pools, merchants, CoinJoin coordinators). The economy's block loop
(:mod:`chaintrail.sim.economy`), the CoinJoins (:mod:`chaintrail.sim.coinjoin`) and the crime
scenarios (:mod:`chaintrail.sim.scenarios`) all act on a World; none of them imports another's
module to reach it.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np

from chaintrail.sim.actors import (
    EXCHANGE_NAMES,
    GAMBLING_NAMES,
    POOL_NAMES,
    Entities,
    Pool,
    Service,
    make_pool,
    make_service,
    merchant_name,
)
from chaintrail.sim.behaviour import Behaviour
from chaintrail.sim.ledger import P2PKH, P2SH, P2TR, P2WPKH, Ledger, RandomStream
from chaintrail.sim.presets import Preset
from chaintrail.sim.txbuild import Habits, spend
from chaintrail.sim.users import change_address, make_users

COIN = 100_000_000

# a crime scenario or a laundering routine: ``yield n`` waits n blocks
Scenario = Generator[int, None, None]


@dataclass
class Coordinators:
    """Fee addresses of the CoinJoin coordinators (their fee outputs are never spent)."""

    wasabi_entity: int
    wasabi_fee_addr: int
    whirlpool_entity: int
    whirlpool_fee_addr: int
    wabisabi_entity: int = -1
    wabisabi_fee_addr: int = -1


@dataclass
class PoolCoin:
    """A Whirlpool premix or postmix coin waiting to be mixed and who owns it.

    ``user`` is the owner's user index, or -1 for a coin a scenario holds (``entity`` and
    ``wallet`` then say whose it is; wallet -1 = the scenario tracks it itself).
    """

    out: int
    user: int
    entity: int
    wallet: int = -1
    mixes: int = 0  # mixes this coin's lineage has been through


@dataclass
class Whirlpool:
    """Unspent premix and postmix coins per pool denomination."""

    premix: dict[int, list[PoolCoin]] = field(default_factory=dict)
    postmix: dict[int, list[PoolCoin]] = field(default_factory=dict)


@dataclass
class Merchant:
    """A shop: one entity and wallet, settling at one exchange; ``payjoin`` if its payment
    processor answers BIP78 PayJoin requests."""

    entity: int
    wallet: int
    exchange: int
    payjoin: bool = False


class World:
    """Every actor of one simulated chain and the ledger they transact on."""

    def __init__(self, preset: Preset, seed: int, behaviour: Behaviour | None = None) -> None:
        self.p = preset
        self.b = behaviour or Behaviour()
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
        wabisabi = self.b.wabisabi_every > 0 or "wabisabi" in (
            self.b.ransom_mixer,
            self.b.hack_mixer,
        )
        self.coordinators = _make_coordinators(L, ents, wabisabi)
        self.merchants: list[Merchant] = []
        for m in range(preset.n_merchants):
            e = ents.add("merchant", merchant_name(m))
            self.merchants.append(Merchant(e, L.new_wallet(e), m % preset.n_exchanges))
        self.users = make_users(L, ents, preset, self.b, self.rnd)
        n_miners = max(10, preset.n_users // 50)
        self.pools: list[Pool] = [
            make_pool(L, ents, name, self.users, n_miners, self.rnd) for name in POOL_NAMES
        ]
        if self.b.payjoin_merchants > 0:
            for mer in self.merchants:
                mer.payjoin = self.rnd.u() < self.b.payjoin_merchants
        self.whirlpool = Whirlpool()
        self.criminal_txs: dict[int, list[int]] = {}  # entity -> mixes its pool coins were in

    # ------------------------------------------------------------------ helpers
    def user_entity(self, i: int) -> int:
        """Entity id of user (wallet persona) ``i``."""
        return self.users.entity[i]

    def habits(self, i: int) -> Habits:
        """User ``i``'s tx fingerprint at the current height."""
        return self.users.habits(i, self.height, self.rnd)

    def tx_rate(self) -> int:
        """A fee rate (sat/vB) for one transaction in the current block."""
        return max(1, int(self.rate * (0.6 + 0.8 * self.rnd.u())))

    def pause(self, blocks: int) -> int:
        """``blocks`` plus the extra wait of a patient criminal (the ``criminal_wait`` knob)."""
        lo, hi = self.b.criminal_wait
        return blocks if hi == 0 else blocks + lo + self.rnd.below(hi - lo + 1)

    def user_pay(self, i: int, payees: list[tuple[int, int]], kind: str = "payment") -> int:
        """User ``i`` pays ``payees`` from its wallet with change; returns the tx id or -1."""
        L, u = self.ledger, self.users
        rate = self.tx_rate()
        need = sum(v for v, _ in payees) + rate * (11 + 43 * (len(payees) + 1))
        inputs = L.select(u.wallet[i], need, rate, self.rnd)
        if not inputs:
            return -1
        habits = self.habits(i)
        change = change_address(L, u, i, L.out_addr[inputs[0]], self.rnd, self.height)
        pos = -1 if u.change_last[i] else self.rnd.below(len(payees) + 1)
        tx, _, _ = spend(L, kind, self.user_entity(i), inputs, payees, change, rate,
                         change_pos=pos, habits=habits)  # fmt: skip
        return tx

    def cold_to_hot(self, svc: Service, amount: int) -> None:
        """Refill ``svc``'s hot wallet with ``amount`` from its cold wallet (if it has one)."""
        L = self.ledger
        amount = min(amount, L.balance[svc.cold_wallet] - 100_000)
        if amount < COIN // 100:
            return
        inputs = L.select(svc.cold_wallet, amount, self.rate, self.rnd)
        if inputs:
            spend(L, "cold_storage", svc.entity, inputs, [(amount, svc.hot_addr)],
                  svc.cold_addr, self.rate)  # fmt: skip


def _make_coordinators(L: Ledger, ents: Entities, wabisabi: bool) -> Coordinators:
    """Create the Wasabi-style and Whirlpool-style coordinator entities (and WabiSabi's)."""
    w = ents.add("coinjoin_coordinator", "Zephyr Coordinator")
    wp = ents.add("coinjoin_coordinator", "Eddy Coordinator")
    c = Coordinators(
        wasabi_entity=w,
        wasabi_fee_addr=L.new_address(w, P2WPKH, "coordinator_fee", -1),
        whirlpool_entity=wp,
        whirlpool_fee_addr=L.new_address(wp, P2WPKH, "coordinator_fee", -1),
    )
    if wabisabi:
        ws = ents.add("coinjoin_coordinator", "Gyre Coordinator")
        c.wabisabi_entity = ws
        c.wabisabi_fee_addr = L.new_address(ws, P2TR, "coordinator_fee", -1)
    return c
