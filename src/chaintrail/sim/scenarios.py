"""Crime scenarios with exact ground truth: ransomware, market cash-out, exchange hack, scam.

Each scenario is a generator run by the economy's block loop: it creates transactions on the
ledger and ``yield``s how many blocks to wait. It records in a :class:`ScenarioRecord` the seed
addresses an investigator starts from, every tx the funds pass through (in chain order), and
the terminals: exchange deposit addresses with the satoshis of scenario funds each received.
Perpetrator addresses are untracked (wallet -1), so the economy never spends them; only the
scenario moves its funds. How criminals mix (the ``ransom_mixer``/``hack_mixer`` knobs) is in
:mod:`chaintrail.sim.laundering`.
"""

from __future__ import annotations

from collections.abc import Callable

from chaintrail.sim import laundering
from chaintrail.sim.actors import Service, deposit_address
from chaintrail.sim.ledger import P2PKH, P2WPKH, Ledger
from chaintrail.sim.records import ScenarioRecord
from chaintrail.sim.txbuild import spend, split, sweep
from chaintrail.sim.users import change_address
from chaintrail.sim.world import COIN, Scenario, World

__all__ = ["ScenarioRecord", "start_all"]


def _deposit(w: World, rec: ScenarioRecord, ex: Service, account: int, inputs: list[int]) -> None:
    """Move ``inputs`` entirely to the perpetrator's deposit address at ``ex`` (a terminal)."""
    dest = deposit_address(w.ledger, ex, account)
    tx, out = sweep(w.ledger, "payment", rec.perpetrators[0], inputs, dest, w.rate)
    if tx < 0:
        raise ValueError(f"planner bug: {rec.name} deposit would be dust")
    rec.txs.append(tx)
    rec.terminal(dest, w.ledger.out_value[out])


def _account(entity: int, k: int) -> int:
    """A customer key for perpetrator ``entity``'s k-th account at an exchange."""
    return -(entity * 16 + k + 1)


def _victim_funds(w: World, i: int, amount: int) -> int:
    """User ``i`` buys ``amount`` on their exchange: a withdrawal to a fresh address; out id."""
    L = w.ledger
    ex = w.exchanges[w.users.exchange[i]]
    addr = L.new_address(w.user_entity(i), w.users.addr_type(i, w.height), "receive", -1)
    inputs = L.select(ex.hot_wallet, amount + 100_000, w.rate, w.rnd)
    if not inputs:
        w.cold_to_hot(ex, amount * 2)
        inputs = L.select(ex.hot_wallet, amount + 100_000, w.rate, w.rnd)
    if not inputs:
        raise ValueError("planner bug: exchange cannot fund a ransomware victim")
    _, first, cv = spend(
        L, "batch_withdrawal", ex.entity, inputs, [(amount, addr)], ex.hot_addr, w.rate
    )
    return first + (1 if cv == 0 else 0)


def _peel_share(w: World) -> float:
    lo, hi = w.b.peel_fraction
    return lo + round(hi - lo, 12) * w.rnd.u()


def _mix_and_deposit(
    w: World, rec: ScenarioRecord, mixer: str, coins: list[int], targets: list[tuple[Service, int]]
) -> Scenario:
    """Launder ``coins`` with ``mixer`` and deposit what comes out, spread over ``targets``
    ((exchange, account) pairs, in turn)."""
    left = yield from laundering.MIXERS[mixer](w, rec, rec.perpetrators[0], coins)
    if mixer != "wasabi":
        yield w.pause(1)
    if mixer == "wasabi" or len(left) <= 1:
        _deposit(w, rec, *targets[0], left)
        return
    for k, t in enumerate(targets):
        part = left[k :: len(targets)]
        if part:
            _deposit(w, rec, *t, part)
            yield w.pause(1)


def ransomware(w: World, rec: ScenarioRecord) -> Scenario:
    """Victims pay, consolidation, a peel chain to two exchanges, one peel via a CoinJoin."""
    L, rnd, s = w.ledger, w.rnd, w.p.scenario_scale
    op = rec.perpetrators[0]
    ex_a, ex_b = w.exchanges[1], w.exchanges[2]
    victims = sorted({rnd.below(w.users.n) for _ in range(4 + 3 * s)})
    ransom_outs = []
    for i in victims:
        ransom = int(min(5 * COIN, max(5_000_000, rnd.lognormal(40_000_000, 0.6)))) // 1000 * 1000
        funded = _victim_funds(w, i, ransom + 200_000)
        raddr = L.new_address(op, P2PKH if rnd.u() < 0.5 else P2WPKH, "ransom", -1)
        change = change_address(L, w.users, i, L.out_addr[funded], rnd, w.height)
        tx, first, cv = spend(L, "payment", w.user_entity(i), [funded], [(ransom, raddr)], change,
                              w.tx_rate(), habits=w.habits(i))  # fmt: skip
        rec.seed_addresses.append(raddr)
        rec.txs.append(tx)
        rec.total += ransom
        ransom_outs.append(first + (1 if cv == 0 else 0))
        yield 1 + rnd.below(2)
    yield w.pause(2)
    collect = L.new_address(op, P2WPKH, "collection", -1)
    tx, cur = sweep(L, "consolidation", op, ransom_outs, collect, w.rate)
    rec.txs.append(tx)
    yield w.pause(1)
    hops = 5 + 2 * s
    mixer = w.b.ransom_mixer
    to_mix = -1
    for k in range(hops):
        value = L.out_value[cur]
        peel = int(value * _peel_share(w))
        nxt = L.new_address(op, P2WPKH, "change", -1)
        if k == hops // 2:
            big = min(value // 2, 15_000_000) if mixer == "wasabi" else value // 2
            peel = max(peel, big)
            dest = L.new_address(op, P2WPKH, "intermediate", -1)
        else:
            dest = deposit_address(L, ex_a if k % 2 == 0 else ex_b, _account(op, k % 3))
        tx, first, cv = spend(L, "peel", op, [cur], [(peel, dest)], nxt, w.rate,
                              change_pos=rnd.below(2))  # fmt: skip
        rec.txs.append(tx)
        peel_out = first + (1 if cv == 0 else 0)
        if k == hops // 2:
            to_mix = peel_out
        else:
            rec.terminal(dest, peel)
        cur = first + cv
        yield w.pause(1)
    _deposit(w, rec, ex_a, _account(op, 0), [cur])
    targets = [(ex_b, _account(op, 1)), (ex_a, _account(op, 2))]
    yield from _mix_and_deposit(w, rec, mixer, [to_mix], targets)
    rec.txs.sort()


def market_cashout(w: World, rec: ScenarioRecord) -> Scenario:
    """The market pays its admin, who fans out and deposits at three exchanges."""
    L, rnd = w.ledger, w.rnd
    admin = rec.perpetrators[0]
    mk = w.market
    inputs: list[int] = []
    while not inputs:
        profit = int(L.balance[mk.hot_wallet] * 0.4)
        inputs = L.select(mk.hot_wallet, profit, w.rate, rnd) if profit > 500_000 else []
        if not inputs:
            yield 1
    first_addr = L.new_address(admin, P2WPKH, "receive", -1)
    tx, first, cv = spend(L, "payment", mk.entity, inputs, [(profit, first_addr)], mk.hot_addr,
                          w.rate)  # fmt: skip
    rec.seed_addresses.append(first_addr)
    rec.txs.append(tx)
    rec.total = profit
    yield w.pause(3)
    fan = [L.new_address(admin, P2WPKH, "intermediate", -1) for _ in range(3)]
    tx, f0 = split(
        L, "fan_out", admin, [first + (1 if cv == 0 else 0)], fan, [0.5, 0.3, 0.2], w.rate
    )
    rec.txs.append(tx)
    yield w.pause(2)
    targets = [w.exchanges[k % len(w.exchanges)] for k in (3, 0, 1)]
    for k, ex in enumerate(targets):
        hop = L.new_address(admin, P2PKH, "intermediate", -1)
        tx, out = sweep(L, "payment", admin, [f0 + k], hop, w.rate)
        rec.txs.append(tx)
        yield w.pause(1)
        _deposit(w, rec, ex, _account(admin, k), [out])


def exchange_hack(w: World, rec: ScenarioRecord) -> Scenario:
    """A hot wallet is drained, fanned out to many addresses, fanned in, deposited elsewhere
    (with ``hack_mixer``, the first fanned-in coin is laundered first)."""
    L, rnd, s = w.ledger, w.rnd, w.p.scenario_scale
    hacker = rec.perpetrators[0]
    victim = w.exchanges[3 % len(w.exchanges)]
    inputs: list[int] = []
    while not inputs:
        amount = int(L.balance[victim.hot_wallet] * 0.6)
        inputs = L.select(victim.hot_wallet, amount, w.rate, rnd) if amount > COIN // 10 else []
        if not inputs:
            yield 1
    loot = L.new_address(hacker, P2WPKH, "receive", -1)
    tx, out = sweep(L, "theft", hacker, inputs, loot, w.rate * 2)
    rec.seed_addresses.append(loot)
    rec.txs.append(tx)
    rec.total = L.out_value[out]
    yield w.pause(2)
    n = 10 + 10 * s
    spread = [
        L.new_address(hacker, (P2WPKH, P2PKH, P2WPKH)[k % 3], "intermediate", -1) for k in range(n)
    ]
    tx, f0 = split(
        L, "fan_out", hacker, [out], spread, [0.5 + rnd.u() for _ in range(n)], w.rate * 2
    )
    rec.txs.append(tx)
    yield w.pause(3)
    groups = 2 + s // 2
    gathered = []
    for g in range(groups):
        dest = L.new_address(hacker, P2WPKH, "collection", -1)
        tx, o = sweep(L, "fan_in", hacker, [f0 + k for k in range(g, n, groups)], dest, w.rate)
        rec.txs.append(tx)
        gathered.append(o)
        yield w.pause(1)
    others = [ex for ex in w.exchanges if ex is not victim]
    if w.b.hack_mixer != "none":
        targets = [(others[k % len(others)], _account(hacker, 8 + k)) for k in range(2)]
        yield from _mix_and_deposit(w, rec, w.b.hack_mixer, [gathered.pop(0)], targets)
    for g, o in enumerate(gathered):
        yield w.pause(2)
        _deposit(w, rec, others[g % len(others)], _account(hacker, g), [o])
    rec.txs.sort()


def scam(w: World, rec: ScenarioRecord) -> Scenario:
    """Many small payers to one published address; consolidated and cashed out."""
    L, rnd, s = w.ledger, w.rnd, w.p.scenario_scale
    scammer = rec.perpetrators[0]
    published = L.new_address(scammer, P2PKH, "scam", -1)
    rec.seed_addresses.append(published)
    outs: list[int] = []
    payers = 25 * s
    while len(outs) < payers:
        for _ in range(1 + rnd.below(3)):
            i = rnd.below(w.users.n)
            amount = int(min(5_000_000, max(100_000, rnd.lognormal(1_000_000, 0.8))))
            tx = w.user_pay(i, [(amount, published)])
            if tx >= 0:
                rec.txs.append(tx)
                rec.total += amount
                outs.append(_paid_out(L, tx, published))
        yield 1
    collected = []
    for k in range(0, len(outs), 40):
        dest = L.new_address(scammer, P2WPKH, "collection", -1)
        tx, o = sweep(L, "consolidation", scammer, outs[k : k + 40], dest, w.rate)
        rec.txs.append(tx)
        collected.append(o)
        yield w.pause(1)
    yield w.pause(3)
    _deposit(w, rec, w.exchanges[0], _account(scammer, 0), collected)


def _paid_out(L: Ledger, tx: int, addr: int) -> int:
    first = len(L.out_value) - L.tx_n_out[tx]
    for k in range(L.tx_n_out[tx]):
        if L.out_addr[first + k] == addr:
            return first + k
    raise ValueError("planner bug: payment output not found")


def start_all(
    w: World, first_block: int, schedule: Callable[[int, Scenario], None]
) -> list[ScenarioRecord]:
    """Create the perpetrators and ``schedule(start block, generator)`` the four scenarios;
    returns their records."""
    ents = w.ents
    specs = [
        ("ransomware", "ransomware", "BlackFen Ransomware", ransomware, 5,
         "Victims pay unique ransom addresses (the seeds); the operator consolidates, peels to "
         "two exchanges, sends one peel through a Wasabi-style CoinJoin, then deposits."),
        ("darknet_market_cashout", "darknet_admin", "Nightshade Market admin", market_cashout, 20,
         "The market's hot wallet pays the admin (seed = the admin's first address); the admin "
         "fans out to three addresses and deposits at three exchanges."),
        ("exchange_hack", "hacker", "Crimson Lynx", exchange_hack, 30,
         "A hot wallet is drained to the seed address, fanned out, fanned in and deposited at "
         "other exchanges."),
        ("scam", "scammer", "Moonrise Giveaway", scam, 10,
         "Many small payers send to one published address (the seed, tagged in the TagPack); "
         "the scammer consolidates and deposits at one exchange."),
    ]  # fmt: skip
    records = []
    for name, kind, label, fn, offset, notes in specs:
        rec = ScenarioRecord(name, name, [ents.add(kind, label)], notes)
        schedule(first_block + offset, fn(w, rec))
        records.append(rec)
    return records
