"""Crime scenarios with exact ground truth: ransomware, market cash-out, exchange hack, scam.

Each scenario is a generator run by :class:`~chaintrail.sim.economy.Economy`: it creates
transactions on the ledger and ``yield``s how many blocks to wait. It records in a
:class:`ScenarioRecord` the seed addresses an investigator starts from, every tx the funds
pass through (in chain order), and the terminals: exchange deposit addresses with the
satoshis of scenario funds each received. Perpetrator addresses are untracked (wallet -1),
so the economy never spends them; only the scenario moves its funds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chaintrail.sim.actors import Service, change_address, deposit_address
from chaintrail.sim.coinjoin import wasabi_round
from chaintrail.sim.ledger import P2PKH, P2WPKH, Ledger
from chaintrail.sim.txbuild import spend, split, sweep

if TYPE_CHECKING:
    from chaintrail.sim.economy import Economy, Scenario

COIN = 100_000_000


@dataclass
class ScenarioRecord:
    """What the truth says about one scenario (tx and address ids; the writer makes strings)."""

    name: str
    kind: str
    perpetrators: list[int]
    notes: str
    seed_addresses: list[int] = field(default_factory=list)
    txs: list[int] = field(default_factory=list)
    terminals: dict[int, int] = field(default_factory=dict)  # address id -> satoshis
    total: int = 0

    def terminal(self, addr: int, amount: int) -> None:
        """Record that exchange deposit address ``addr`` received ``amount`` scenario sats."""
        self.terminals[addr] = self.terminals.get(addr, 0) + amount


def _deposit(
    econ: Economy, rec: ScenarioRecord, ex: Service, account: int, inputs: list[int]
) -> None:
    """Move ``inputs`` entirely to the perpetrator's deposit address at ``ex`` (a terminal)."""
    dest = deposit_address(econ.ledger, ex, account)
    tx, out = sweep(econ.ledger, "payment", rec.perpetrators[0], inputs, dest, econ.rate)
    if tx < 0:
        raise ValueError(f"planner bug: {rec.name} deposit would be dust")
    rec.txs.append(tx)
    rec.terminal(dest, econ.ledger.out_value[out])


def _account(entity: int, k: int) -> int:
    """A customer key for perpetrator ``entity``'s k-th account at an exchange."""
    return -(entity * 16 + k + 1)


def _victim_funds(econ: Economy, i: int, amount: int) -> int:
    """User ``i`` buys ``amount`` on their exchange: a withdrawal to a fresh address; out id."""
    L = econ.ledger
    ex = econ.exchanges[econ.users.exchange[i]]
    addr = L.new_address(econ.user_entity(i), econ.users.addr_type[i], "receive", -1)
    inputs = L.select(ex.hot_wallet, amount + 100_000, econ.rate, econ.rnd)
    if not inputs:
        econ._cold_to_hot(ex, amount * 2)
        inputs = L.select(ex.hot_wallet, amount + 100_000, econ.rate, econ.rnd)
    if not inputs:
        raise ValueError("planner bug: exchange cannot fund a ransomware victim")
    _, first, cv = spend(
        L, "batch_withdrawal", ex.entity, inputs, [(amount, addr)], ex.hot_addr, econ.rate
    )
    return first + (1 if cv == 0 else 0)


def ransomware(econ: Economy, rec: ScenarioRecord) -> Scenario:
    """Victims pay, consolidation, a peel chain to two exchanges, one peel via a CoinJoin."""
    L, rnd, s = econ.ledger, econ.rnd, econ.p.scenario_scale
    op = rec.perpetrators[0]
    ex_a, ex_b = econ.exchanges[1], econ.exchanges[2]
    victims = sorted({rnd.below(econ.users.n) for _ in range(4 + 3 * s)})
    ransom_outs = []
    for i in victims:
        ransom = int(min(5 * COIN, max(5_000_000, rnd.lognormal(40_000_000, 0.6)))) // 1000 * 1000
        funded = _victim_funds(econ, i, ransom + 200_000)
        raddr = L.new_address(op, P2PKH if rnd.u() < 0.5 else P2WPKH, "ransom", -1)
        change = change_address(L, econ.users, i, L.out_addr[funded], rnd)
        tx, first, cv = spend(L, "payment", econ.user_entity(i), [funded], [(ransom, raddr)], change,
                              econ.tx_rate(), habits=econ.habits(i))  # fmt: skip
        rec.seed_addresses.append(raddr)
        rec.txs.append(tx)
        rec.total += ransom
        ransom_outs.append(first + (1 if cv == 0 else 0))
        yield 1 + rnd.below(2)
    yield 2
    collect = L.new_address(op, P2WPKH, "collection", -1)
    tx, cur = sweep(L, "consolidation", op, ransom_outs, collect, econ.rate)
    rec.txs.append(tx)
    yield 1
    hops = 5 + 2 * s
    to_mix = -1
    for k in range(hops):
        value = L.out_value[cur]
        peel = int(value * (0.08 + 0.12 * rnd.u()))
        nxt = L.new_address(op, P2WPKH, "change", -1)
        if k == hops // 2:
            peel = max(peel, min(value // 2, 15_000_000))
            dest = L.new_address(op, P2WPKH, "intermediate", -1)
        else:
            dest = deposit_address(L, ex_a if k % 2 == 0 else ex_b, _account(op, k % 3))
        tx, first, cv = spend(L, "peel", op, [cur], [(peel, dest)], nxt, econ.rate,
                              change_pos=rnd.below(2))  # fmt: skip
        rec.txs.append(tx)
        peel_out = first + (1 if cv == 0 else 0)
        if k == hops // 2:
            to_mix = peel_out
        else:
            rec.terminal(dest, peel)
        cur = first + cv
        yield 1
    _deposit(econ, rec, ex_a, _account(op, 0), [cur])
    for _ in range(40):  # join the next Wasabi-style round that has enough participants
        result = wasabi_round(econ, 6 + 4 * s, extra=[(op, [to_mix])])
        if result:
            rec.txs.append(L.out_tx[result[op][0]])
            yield 2
            outs = [o for o in result[op] if o >= 0]
            _deposit(econ, rec, ex_b, _account(op, 1), outs)
            return
        yield 1
    _deposit(econ, rec, ex_b, _account(op, 1), [to_mix])


def market_cashout(econ: Economy, rec: ScenarioRecord) -> Scenario:
    """The market pays its admin, who fans out and deposits at three exchanges."""
    L, rnd = econ.ledger, econ.rnd
    admin = rec.perpetrators[0]
    mk = econ.market
    inputs: list[int] = []
    while not inputs:
        profit = int(L.balance[mk.hot_wallet] * 0.4)
        inputs = L.select(mk.hot_wallet, profit, econ.rate, rnd) if profit > 500_000 else []
        if not inputs:
            yield 1
    first_addr = L.new_address(admin, P2WPKH, "receive", -1)
    tx, first, cv = spend(
        L, "payment", mk.entity, inputs, [(profit, first_addr)], mk.hot_addr, econ.rate
    )
    rec.seed_addresses.append(first_addr)
    rec.txs.append(tx)
    rec.total = profit
    yield 3
    fan = [L.new_address(admin, P2WPKH, "intermediate", -1) for _ in range(3)]
    tx, f0 = split(
        L, "fan_out", admin, [first + (1 if cv == 0 else 0)], fan, [0.5, 0.3, 0.2], econ.rate
    )
    rec.txs.append(tx)
    yield 2
    targets = [econ.exchanges[k % len(econ.exchanges)] for k in (3, 0, 1)]
    for k, ex in enumerate(targets):
        hop = L.new_address(admin, P2PKH, "intermediate", -1)
        tx, out = sweep(L, "payment", admin, [f0 + k], hop, econ.rate)
        rec.txs.append(tx)
        yield 1
        _deposit(econ, rec, ex, _account(admin, k), [out])


def exchange_hack(econ: Economy, rec: ScenarioRecord) -> Scenario:
    """A hot wallet is drained, fanned out to many addresses, fanned in, deposited elsewhere."""
    L, rnd, s = econ.ledger, econ.rnd, econ.p.scenario_scale
    hacker = rec.perpetrators[0]
    victim = econ.exchanges[3 % len(econ.exchanges)]
    inputs: list[int] = []
    while not inputs:
        amount = int(L.balance[victim.hot_wallet] * 0.6)
        inputs = L.select(victim.hot_wallet, amount, econ.rate, rnd) if amount > COIN // 10 else []
        if not inputs:
            yield 1
    loot = L.new_address(hacker, P2WPKH, "receive", -1)
    tx, out = sweep(L, "theft", hacker, inputs, loot, econ.rate * 2)
    rec.seed_addresses.append(loot)
    rec.txs.append(tx)
    rec.total = L.out_value[out]
    yield 2
    n = 10 + 10 * s
    spread = [
        L.new_address(hacker, (P2WPKH, P2PKH, P2WPKH)[k % 3], "intermediate", -1) for k in range(n)
    ]
    tx, f0 = split(
        L, "fan_out", hacker, [out], spread, [0.5 + rnd.u() for _ in range(n)], econ.rate * 2
    )
    rec.txs.append(tx)
    yield 3
    groups = 2 + s // 2
    gathered = []
    for g in range(groups):
        dest = L.new_address(hacker, P2WPKH, "collection", -1)
        tx, o = sweep(L, "fan_in", hacker, [f0 + k for k in range(g, n, groups)], dest, econ.rate)
        rec.txs.append(tx)
        gathered.append(o)
        yield 1
    others = [ex for ex in econ.exchanges if ex is not victim]
    for g, o in enumerate(gathered):
        yield 2
        _deposit(econ, rec, others[g % len(others)], _account(hacker, g), [o])


def scam(econ: Economy, rec: ScenarioRecord) -> Scenario:
    """Many small payers to one published address; consolidated and cashed out."""
    L, rnd, s = econ.ledger, econ.rnd, econ.p.scenario_scale
    scammer = rec.perpetrators[0]
    published = L.new_address(scammer, P2PKH, "scam", -1)
    rec.seed_addresses.append(published)
    outs = []
    payers = 25 * s
    while len(outs) < payers:
        for _ in range(1 + rnd.below(3)):
            i = rnd.below(econ.users.n)
            amount = int(min(5_000_000, max(100_000, rnd.lognormal(1_000_000, 0.8))))
            tx = econ.user_pay(i, [(amount, published)])
            if tx >= 0:
                rec.txs.append(tx)
                rec.total += amount
                outs.append(_paid_out(L, tx, published))
        yield 1
    collected = []
    for k in range(0, len(outs), 40):
        dest = L.new_address(scammer, P2WPKH, "collection", -1)
        tx, o = sweep(L, "consolidation", scammer, outs[k : k + 40], dest, econ.rate)
        rec.txs.append(tx)
        collected.append(o)
        yield 1
    yield 3
    _deposit(econ, rec, econ.exchanges[0], _account(scammer, 0), collected)


def _paid_out(L: Ledger, tx: int, addr: int) -> int:
    first = len(L.out_value) - L.tx_n_out[tx]
    for k in range(L.tx_n_out[tx]):
        if L.out_addr[first + k] == addr:
            return first + k
    raise ValueError("planner bug: payment output not found")


def start_all(econ: Economy, first_block: int) -> list[ScenarioRecord]:
    """Create the perpetrators and schedule the four scenarios; returns their records."""
    ents = econ.ents
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
        econ.add_scenario(first_block + offset, fn(econ, rec))
        records.append(rec)
    return records
