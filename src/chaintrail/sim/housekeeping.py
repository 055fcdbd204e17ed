"""What services do every block: pool payouts, deposit sweeps, withdrawal batches, cold storage,
merchant settlements.

Exchanges sweep per-customer deposit addresses into a reused hot address and pay withdrawals in
batches with change back to the hot address; with the ``exchange_fresh_change`` knob the change
goes to a fresh hot-wallet address at a random position, and with ``exchange_payout_deposits``
some batches spend customers' deposit coins directly (consolidating them into payouts).
"""

from __future__ import annotations

from chaintrail.sim.actors import Service, deposit_address
from chaintrail.sim.ledger import DUST, P2WPKH
from chaintrail.sim.txbuild import spend, sweep
from chaintrail.sim.users import receive_address
from chaintrail.sim.world import COIN, World

MATURITY = 100


def pool_payouts(w: World, coinbase_of: dict[int, tuple[int, int]]) -> None:
    """Pay the miners of the coinbase maturing now; sell big pool balances on an exchange."""
    L, rnd = w.ledger, w.rnd
    pool_i, cb = coinbase_of.get(w.height - MATURITY, (-1, -1))
    if pool_i >= 0:
        pool = w.pools[pool_i]
        k = min(len(pool.miners), 20 + rnd.below(40))
        picks = sorted({rnd.below(len(pool.miners)) for _ in range(k)})
        value = L.out_value[cb]
        weights = [0.2 + rnd.u() for _ in picks]
        tot = sum(weights)
        payees = [
            (int(value * 0.97 * wgt / tot), pool.miner_addr[j])
            for wgt, j in zip(weights, picks, strict=True)
        ]
        payees = [p for p in payees if p[0] >= DUST]
        spend(L, "pool_payout", pool.entity, [cb], payees, pool.change_addr, max(1, w.rate // 2))
    for pool in w.pools:
        if L.balance[pool.wallet] > 25 * COIN and rnd.u() < 0.2:
            dest = deposit_address(L, w.exchanges[0], pool.entity)
            sweep(L, "payment", pool.entity, L.take_all(pool.wallet, 100), dest, w.rate)


def sweep_deposits(w: World, svc: Service) -> None:
    """Move up to 3 x 200 deposit coins of ``svc`` into its hot address."""
    L = w.ledger
    for _ in range(3):
        if not L.wallets[svc.deposit_wallet]:
            return
        inputs = L.take_all(svc.deposit_wallet, 200)
        tx, _ = sweep(L, "sweep", svc.entity, inputs, svc.hot_addr, max(1, w.rate // 2))
        if tx < 0:
            return


def payouts(w: World, svc: Service) -> None:
    """Pay the due withdrawals (or winnings, vendor payouts, mixer payouts) of ``svc`` in one
    batch."""
    L, h, rnd, b = w.ledger, w.height, w.rnd, w.b
    due = [q for q in svc.queue if q[0] <= h][: svc.max_batch]
    if not due:
        return
    need = sum(q[2] for q in due)
    if svc.cold_wallet >= 0 and L.balance[svc.hot_wallet] < need * 1.2:
        w.cold_to_hot(svc, need * 2 + svc.hot_target)
    budget = L.balance[svc.hot_wallet] * 0.9
    chosen, total = [], 0
    for q in due:
        if total + q[2] <= budget:
            chosen.append(q)
            total += q[2]
    if not chosen:
        return
    rate = max(1, int(w.rate * 0.8))
    exchange = svc.kind == "exchange"
    deposits: list[int] = []
    if exchange and b.exchange_payout_deposits > 0 and rnd.u() < b.exchange_payout_deposits:
        deposits = L.take_all(svc.deposit_wallet, 20 + rnd.below(40))
    want = total + rate * (20 + 45 * len(chosen) + 70 * len(deposits)) - L.value_of(deposits)
    inputs = L.select(svc.hot_wallet, max(want, 1), rate, rnd)
    if not inputs:
        L.give_back(deposits)
        return
    inputs = deposits + inputs
    u = w.users
    payees = []
    for _, i, amount, addr in chosen:
        if addr < 0:
            addr = receive_address(L, u, i, rnd, svc.kind == "mixer", height=h)
        payees.append((amount, addr))
    kind = "mixer_payout" if svc.kind == "mixer" else "batch_withdrawal"
    if svc.kind == "mixer":
        change = L.new_address(svc.entity, P2WPKH, "hot", svc.hot_wallet)
        pos = rnd.below(len(payees) + 1)
    elif exchange and b.exchange_fresh_change:
        change = L.new_address(svc.entity, L.addr_type[svc.hot_addr], "hot", svc.hot_wallet)
        pos = rnd.below(len(payees) + 1)
    else:
        change, pos = svc.hot_addr, (-1 if exchange else rnd.below(len(payees) + 1))
    spend(L, kind, svc.entity, inputs, payees, change, rate, change_pos=pos)
    done = set(map(id, chosen))
    svc.queue = [q for q in svc.queue if id(q) not in done]


def cold_storage(w: World, ex: Service) -> None:
    """Move an exchange's hot balance above twice its target to the cold address."""
    L = w.ledger
    bal = L.balance[ex.hot_wallet]
    if bal > 3 * ex.hot_target:
        amount = bal - 2 * ex.hot_target
        inputs = L.select(ex.hot_wallet, amount, w.rate, w.rnd)
        if inputs:
            spend(L, "cold_storage", ex.entity, inputs, [(amount, ex.cold_addr)], ex.hot_addr,
                  w.rate)  # fmt: skip


def settle_merchants(w: World) -> None:
    """Every 12 blocks each merchant sends its balance to its exchange deposit address."""
    L, h = w.ledger, w.height
    for m, mer in enumerate(w.merchants):
        if (h + m) % 12 == 0 and L.balance[mer.wallet] > 2_000_000:
            dest = deposit_address(L, w.exchanges[mer.exchange], mer.entity)
            sweep(L, "payment", mer.entity, L.take_all(mer.wallet, 150), dest, w.rate)
