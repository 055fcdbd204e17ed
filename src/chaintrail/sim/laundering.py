"""How criminals launder through CoinJoins: Whirlpool or WabiSabi, remixes, staged consolidation.

Each routine is a generator (``yield n`` waits n blocks) that takes a criminal's coins (output
ids at untracked addresses), mixes them, waits, consolidates the mixed coins in
``consolidation_stages`` rounds (groups of 2-4 coins into fresh collection addresses) and returns
the coins left to cash out. Every tx the funds pass through is appended to the scenario's
record; Whirlpool mixes are collected by the pool as they happen (``World.criminal_txs``).
"""

from __future__ import annotations

from collections.abc import Generator

from chaintrail.sim.coinjoin import WHIRLPOOL_EXTRA, pool_fee, tx0, wasabi_round
from chaintrail.sim.ledger import P2WPKH
from chaintrail.sim.records import ScenarioRecord
from chaintrail.sim.txbuild import Habits, sweep
from chaintrail.sim.wabisabi import wabisabi_round
from chaintrail.sim.world import PoolCoin, World

Laundering = Generator[int, None, list[int]]
MAX_PREMIX = 25  # premix outputs per criminal tx0 (the rest stays as toxic change)
MAX_WAIT = 60  # blocks a criminal waits for the pool before taking what is there
TX0_ROUNDS = 4  # tx0s a criminal chains, each spending the previous one's toxic change
LIQUID_POOL = 8  # users' coins a pool needs for a criminal to pick it (each mix takes one of
# the criminal's coins and four others)


def _draw(w: World, lo_hi: tuple[int, int]) -> int:
    lo, hi = lo_hi
    return lo if hi == lo else lo + w.rnd.below(hi - lo + 1)


def _pool_users(w: World, denom: int) -> int:
    """Users' coins waiting in (or remixing through) the pool of ``denom``."""
    wp = w.whirlpool
    return sum(c.user >= 0 for q in (wp.premix, wp.postmix) for c in q.get(denom, []))


def consolidate(w: World, rec: ScenarioRecord, entity: int, coins: list[int]) -> Laundering:
    """Merge ``coins`` in ``consolidation_stages`` rounds of groups of 2-4; returns the coins
    left (one per group of the last round)."""
    L, rnd = w.ledger, w.rnd
    cur = list(coins)
    for _ in range(w.b.consolidation_stages):
        if len(cur) <= 1:
            break
        nxt: list[int] = []
        k = 0
        while k < len(cur):
            size = 2 + rnd.below(3)
            group = cur[k : k + size]
            k += size
            if len(group) == 1:
                nxt.append(group[0])
                continue
            dest = L.new_address(entity, P2WPKH, "collection", -1)
            tx, out = sweep(L, "consolidation", entity, group, dest, w.rate)
            if tx < 0:
                raise ValueError(f"planner bug: {rec.name} consolidation would be dust")
            rec.txs.append(tx)
            nxt.append(out)
        cur = nxt
        yield w.pause(1)
    return cur


def whirlpool(w: World, rec: ScenarioRecord, entity: int, coins: list[int]) -> Laundering:
    """A chain of up to ``TX0_ROUNDS`` tx0s (each into the largest pool its coins fill twice
    that has ``LIQUID_POOL`` users' coins waiting, else the busiest, at most ``MAX_PREMIX``
    premix coins, the toxic change feeding the next), then wait until
    every premix coin has been mixed (and remixed ``remixes`` times) or ``MAX_WAIT`` blocks
    passed, take the coins out and consolidate them. Returns the coins to cash out (the
    consolidated postmix plus the last toxic change)."""
    wp = w.whirlpool
    cur = list(coins)
    pools_used: set[int] = set()
    for _ in range(TX0_ROUNDS):
        amount = w.ledger.value_of(cur)
        fits = [d for d in w.b.whirlpool_pools if amount * 9 // 10 // (d + WHIRLPOOL_EXTRA) >= 2]
        if not fits:
            break
        liquid = [d for d in fits if _pool_users(w, d) >= LIQUID_POOL]
        denom = max(liquid) if liquid else max(fits, key=lambda d: (_pool_users(w, d), d))
        n = min(MAX_PREMIX, (amount - pool_fee(denom) - 50_000) // (denom + WHIRLPOOL_EXTRA))
        if n < 2:
            break
        tx, premix, toxic = tx0(w, entity, cur, denom, int(n), -1, Habits(version=1), w.rate)
        rec.txs.append(tx)
        wp.premix.setdefault(denom, []).extend(PoolCoin(o, -1, entity) for o in premix)
        pools_used.add(denom)
        cur = [toxic] if toxic >= 0 else []
        yield w.pause(1)
        if not cur:
            break
    target = 1 + _draw(w, w.b.remixes)
    for _ in range(MAX_WAIT):
        waiting = any(c.entity == entity for d in pools_used for c in wp.premix[d])
        mine = [c for d in pools_used for c in wp.postmix.get(d, []) if c.entity == entity]
        if not waiting and all(c.mixes >= target for c in mine):
            break
        yield 1
    out: list[int] = []
    for d in sorted(pools_used):
        for queue in (wp.postmix.setdefault(d, []), wp.premix[d]):
            out += [c.out for c in queue if c.entity == entity]
            queue[:] = [c for c in queue if c.entity != entity]
    rec.txs.extend(w.criminal_txs.pop(entity, []))
    yield w.pause(1)
    left = yield from consolidate(w, rec, entity, out)
    return left + cur


def wabisabi(w: World, rec: ScenarioRecord, entity: int, coins: list[int]) -> Laundering:
    """Join WabiSabi rounds (the first that happens, then ``remixes`` more with half of the
    outputs each time), then consolidate. Returns the coins to cash out."""
    scale = w.p.scenario_scale
    cur = list(coins)
    rounds = 1 + _draw(w, w.b.remixes)
    for r in range(rounds):
        entering = cur if r == 0 else cur[: max(1, len(cur) // 2)]
        staying = [] if r == 0 else cur[len(entering) :]
        for _ in range(60):
            got = wabisabi_round(w, 10 + 8 * scale, extra=[(entity, entering)])
            if got:
                rec.txs.append(w.ledger.out_tx[got[entity][0]])
                cur = staying + got[entity]
                break
            yield 1
        yield w.pause(1)
    return (yield from consolidate(w, rec, entity, cur))


def wasabi(w: World, rec: ScenarioRecord, entity: int, coins: list[int]) -> Laundering:
    """Join the next Wasabi-1-style round that has enough participants (the original economy's
    ransomware step). Returns the mixed output(s) and the change, or ``coins`` if no round
    happened."""
    scale = w.p.scenario_scale
    for _ in range(40):
        result = wasabi_round(w, 6 + 4 * scale, extra=[(entity, coins)])
        if result:
            rec.txs.append(w.ledger.out_tx[result[entity][0]])
            yield 2
            return result[entity]
        yield 1
    return list(coins)


MIXERS = {"wasabi": wasabi, "whirlpool": whirlpool, "wabisabi": wabisabi}
