"""CoinJoins: Wasabi-1-style rounds, Whirlpool-style tx0 + 5x5 mixes, JoinMarket-style joins.

* Wasabi-1-style: many participants; each gets one output of the round's denomination (more
  with mixing levels: 2x, 4x ... the denomination) and a change output; the coordinator takes
  a fee output. The tx fee is shared equally.
* Whirlpool-style: a tx0 makes premix outputs (pool denomination + mining-fee allowance), a
  coordinator fee output, an OP_RETURN and toxic change; mixes take 5 inputs (new premix coins
  paying the fee, plus free remixes of postmix coins) to 5 equal outputs, per pool.
* JoinMarket-style: a taker and several makers each get one equal output; makers get change
  including their fee; the taker pays the makers' fees and the mining fee (a sweeping taker
  has no change).

All of these are multi-party: the truth's ``entity_id`` of the tx is -1 and ``change_vout``
is -1; every output address belongs to the participant it pays. WabiSabi rounds are in
:mod:`chaintrail.sim.wabisabi`.
"""

from __future__ import annotations

from chaintrail.sim.ledger import DUST, P2WPKH
from chaintrail.sim.txbuild import Habits, spend
from chaintrail.sim.users import change_address, receive_address
from chaintrail.sim.world import PoolCoin, World

WHIRLPOOL_EXTRA = 2_000  # mining-fee allowance carried by each premix output
WHIRLPOOL_POOL_FEES = {100_000: 5_000, 1_000_000: 50_000, 5_000_000: 175_000,
                       50_000_000: 1_750_000}  # fmt: skip
JM_FEE_PPM = 150  # makers' relative fee, parts per million
WASABI_MARGIN = 40_000  # what a participant brings beyond denomination + coordinator fee


def shuffle(w: World, items: list) -> list:  # type: ignore[type-arg]
    """Shuffle ``items`` in place with the world's random stream; returns it."""
    for k in range(len(items) - 1, 0, -1):
        j = w.rnd.below(k + 1)
        items[k], items[j] = items[j], items[k]
    return items


def _add_multiparty(w: World, kind: str, inputs: list[int], outputs: list[tuple[int, int]]) -> int:
    version = 2 if kind == "coinjoin_joinmarket" else 1
    return w.ledger.add_tx(kind, -1, inputs, outputs, version=version)


def _give_back_users(w: World, parts: list[tuple[int, int, list[int]]]) -> None:
    for _, i, inputs in parts:
        if i >= 0:
            w.ledger.give_back(inputs)


def pool_fee(denomination: int) -> int:
    """Whirlpool's coordinator fee for entering the pool of ``denomination``."""
    return WHIRLPOOL_POOL_FEES.get(denomination, denomination // 20)


def wasabi_round(
    w: World, n_users: int, extra: list[tuple[int, list[int]]] | None = None
) -> dict[int, list[int]]:
    """One Wasabi-style round with ``n_users`` random users plus ``extra`` (entity, inputs).

    Extra participants' outputs go to fresh untracked addresses of their entity. Returns
    {entity: [mixed out ids..., change out id if any]} for the extra participants.
    """
    L, rnd, u, b = w.ledger, w.rnd, w.users, w.b
    denoms = b.wasabi_denominations
    denom = denoms[0] if len(denoms) == 1 else denoms[rnd.below(len(denoms))]
    coord_fee = denom * b.wasabi_fee_ppm // 1_000_000
    need = denom + coord_fee + WASABI_MARGIN
    parts: list[tuple[int, int, list[int]]] = []  # (entity, user index or -1, inputs)
    seen = set()
    for _ in range(n_users * 3):
        if len(parts) >= n_users:
            break
        i = rnd.below(u.n)
        if i in seen or L.balance[u.wallet[i]] < need + 200_000:
            continue
        seen.add(i)
        inputs = L.select(u.wallet[i], need, w.rate, rnd)
        if inputs:
            parts.append((w.user_entity(i), i, inputs))
    for e, inputs in extra or []:
        parts.append((e, -1, inputs))
    if len(parts) < 3:
        _give_back_users(w, parts)
        return {}
    rate = w.rate
    all_inputs = shuffle(w, [o for _, _, ins in parts for o in ins])
    probe = w.coordinators.wasabi_fee_addr  # any P2WPKH address sizes an output
    levels = [_levels(L.value_of(ins), denom, coord_fee, b.wasabi_levels) for _, _, ins in parts]
    n_mixed = sum(len(lv) for lv in levels)
    vs = L.vsize(all_inputs, [probe] * (n_mixed + len(parts) + 1))
    share = -(-vs * rate // len(parts))
    costs = [sum(d + d * b.wasabi_fee_ppm // 1_000_000 for d in lv) for lv in levels]
    if any(L.value_of(ins) - c - share < 0 for (_, _, ins), c in zip(parts, costs, strict=True)):
        if extra:
            rate = 1
            share = -(-vs // len(parts))
        else:
            _give_back_users(w, parts)
            return {}
    equal, changes = [], []
    fee_total = 0
    for (e, i, inputs), lv, cost in zip(parts, levels, costs, strict=True):
        wallet = u.wallet[i] if i >= 0 else -1
        for d in lv:
            equal.append((d, L.new_address(e, P2WPKH, "coinjoin_output", wallet), e, i))
        fee_total += cost - sum(lv)
        rest = L.value_of(inputs) - cost - share
        if rest >= DUST:
            changes.append((rest, L.new_address(e, P2WPKH, "change", wallet), e, i))
    shuffle(w, equal)
    shuffle(w, changes)
    outs = list(equal)
    if fee_total >= DUST:
        outs.append((fee_total, w.coordinators.wasabi_fee_addr, -2, -1))
    outs += changes
    tx = _add_multiparty(w, "coinjoin_wasabi", all_inputs, [(v, a) for v, a, _, _ in outs])
    first = L.first_out(tx)
    result: dict[int, list[int]] = {}
    for k, (_, _, e, i) in enumerate(outs):
        if i < 0 and e >= 0:
            result.setdefault(e, []).append(first + k)
    return result


def _levels(value: int, denom: int, coord_fee: int, levels: int) -> list[int]:
    """The mixed outputs a participant bringing ``value`` gets: the base denomination, then
    2x, 4x ... while its coins cover them (Wasabi 1.1 mixing levels)."""
    got = [denom]
    spent = denom + coord_fee
    for k in range(1, levels):
        d = denom << k
        if value - spent - WASABI_MARGIN < d * 1.01:
            break
        got.append(d)
        spent += d + d * coord_fee // denom
    return got


# ---------------------------------------------------------------------------- Whirlpool
def tx0(
    w: World,
    entity: int,
    inputs: list[int],
    denom: int,
    n: int,
    change_wallet: int,
    habits: Habits,
    rate: int,
) -> tuple[int, list[int], int]:
    """A tx0: ``n`` premix outputs of pool ``denom`` for ``entity`` from ``inputs``, the pool
    fee, a 46-byte OP_RETURN and toxic change to a fresh address in ``change_wallet`` (-1:
    untracked). Returns (tx, premix out ids, change out id or -1). Premix addresses are fresh
    and untracked (the pool queues them)."""
    L = w.ledger
    premix_value = denom + WHIRLPOOL_EXTRA
    premix = [L.new_address(entity, P2WPKH, "premix", -1) for _ in range(n)]
    change = L.new_address(entity, P2WPKH, "change", change_wallet)
    outs = [(pool_fee(denom), w.coordinators.whirlpool_fee_addr), (0, -46)]
    outs += [(premix_value, a) for a in premix]
    fee = L.vsize(inputs, [a for _, a in outs] + [change], habits.low_r) * rate
    rest = L.value_of(inputs) - n * premix_value - pool_fee(denom) - fee
    change_vout = -1
    if rest >= DUST:
        outs.append((rest, change))
        change_vout = len(outs) - 1
    tx = L.add_tx("coinjoin_whirlpool_tx0", entity, inputs, outs, version=habits.version,
                  locktime=habits.locktime, sequence=habits.sequence, change_vout=change_vout,
                  flags=habits.flags)  # fmt: skip
    first = L.first_out(tx)
    return tx, [first + 2 + k for k in range(n)], (first + change_vout if change_vout >= 0 else -1)


def whirlpool_tx0(w: World, i: int) -> None:
    """User ``i`` enters Whirlpool: a tx0 into a pool it can afford (premixes queue there)."""
    L, rnd, u = w.ledger, w.rnd, w.users
    bal = L.balance[u.wallet[i]]
    pools = [d for d in w.b.whirlpool_pools if int(bal * 0.7) // (d + WHIRLPOOL_EXTRA) >= 2]
    if not pools:
        return
    denom = pools[0] if len(pools) == 1 else pools[rnd.below(len(pools))]
    n = min(8, int(bal * 0.7) // (denom + WHIRLPOOL_EXTRA))
    rate = w.tx_rate()
    need = n * (denom + WHIRLPOOL_EXTRA) + pool_fee(denom) + 30_000
    inputs = L.select(u.wallet[i], need, rate, rnd)
    if not inputs:
        return
    e = w.user_entity(i)
    _, premix, _ = tx0(w, e, inputs, denom, n, u.wallet[i], Habits(version=1), rate)
    w.whirlpool.premix.setdefault(denom, []).extend(PoolCoin(o, i, e) for o in premix)


def whirlpool_mixes(w: World, max_mixes: int) -> None:
    """Per pool: up to ``max_mixes`` 5-in/5-out mixes, then let some postmix coins be spent."""
    for denom in w.b.whirlpool_pools:
        premix = w.whirlpool.premix.setdefault(denom, [])
        extra = w.b.whirlpool_liquidity * (len(premix) // 8)
        _pool_mixes(w, denom, max_mixes + extra)
        _postmix_exits(w, denom)


def _pool_mixes(w: World, denom: int, max_mixes: int) -> None:
    L, rnd = w.ledger, w.rnd
    premix = w.whirlpool.premix.setdefault(denom, [])
    postmix = w.whirlpool.postmix.setdefault(denom, [])
    for _ in range(max_mixes):
        if not premix or len(premix) + len(postmix) < 5:
            break
        n_new = min(len(premix), 2 + rnd.below(2), 5)
        n_new = max(n_new, 5 - len(postmix))
        picked = [premix.pop(rnd.below(len(premix))) for _ in range(n_new)]
        picked += [postmix.pop(rnd.below(len(postmix))) for _ in range(5 - n_new)]
        if not _one_coin_per_scenario(picked, premix, postmix):
            break
        shuffle(w, picked)
        outs = []
        for coin in picked:
            a = L.new_address(coin.entity, P2WPKH, "postmix", -1)
            outs.append((denom, a, coin))
        shuffle(w, outs)
        tx = _add_multiparty(
            w, "coinjoin_whirlpool_mix", [c.out for c in picked], [(v, a) for v, a, _ in outs]
        )
        first = L.first_out(tx)
        for k, (_, _, coin) in enumerate(outs):
            postmix.append(PoolCoin(first + k, coin.user, coin.entity, coin.wallet, coin.mixes + 1))
            if coin.user < 0:
                w.criminal_txs.setdefault(coin.entity, []).append(tx)


def _one_coin_per_scenario(
    picked: list[PoolCoin], premix: list[PoolCoin], postmix: list[PoolCoin]
) -> bool:
    """A coordinator never puts two coins of one party in a mix: swap a scenario's second coin
    for a user's postmix coin; False (every coin put back) if there is none to swap in."""
    seen: set[int] = set()
    for k, coin in enumerate(picked):
        if coin.user >= 0:
            continue
        if coin.entity not in seen:
            seen.add(coin.entity)
            continue
        spare = next((j for j, c in enumerate(postmix) if c.user >= 0), -1)
        if spare < 0:
            for c in picked:
                (premix if c.mixes == 0 else postmix).append(c)
            return False
        (premix if coin.mixes == 0 else postmix).append(coin)
        picked[k] = postmix.pop(spare)
    return True


def _postmix_exits(w: World, denom: int) -> None:
    """Users spend some postmix coins at merchants (a few consolidate several at once)."""
    L, rnd = w.ledger, w.rnd
    postmix = w.whirlpool.postmix.setdefault(denom, [])
    for _ in range(len(postmix) // 12):
        k = rnd.below(len(postmix))
        if postmix[k].user < 0:
            continue  # a scenario's coin: only the scenario spends it
        coin = postmix.pop(k)
        owner = coin.user
        inputs = [coin.out]
        if w.b.postmix_consolidation > 0 and rnd.u() < w.b.postmix_consolidation:
            mine = [j for j, c in enumerate(postmix) if c.user == owner][:3]
            inputs += [postmix[j].out for j in mine]
            for j in sorted(mine, reverse=True):
                postmix.pop(j)
        mer = w.merchants[rnd.below(len(w.merchants))]
        amount = int(denom * len(inputs) * (0.5 + 0.4 * rnd.u()))
        change = L.new_address(w.user_entity(owner), P2WPKH, "change", w.users.wallet[owner])
        spend(L, "payment", w.user_entity(owner), inputs,
              [(amount, L.new_address(mer.entity, P2WPKH, "invoice", mer.wallet))], change,
              w.tx_rate(), change_pos=rnd.below(2), habits=w.habits(owner))  # fmt: skip


# ---------------------------------------------------------------------------- JoinMarket
def joinmarket_round(w: World) -> None:
    """One JoinMarket-style join: a taker and several makers, equal outputs plus change."""
    L, rnd, u, b = w.ledger, w.rnd, w.users, w.b
    taker = rnd.below(u.n)
    tbal = L.balance[u.wallet[taker]]
    if tbal < 3_000_000:
        return
    sweep = b.joinmarket_sweep > 0 and rnd.u() < b.joinmarket_sweep
    amount = int(tbal * (0.3 + 0.4 * rnd.u())) if not sweep else int(tbal * 0.97)
    cjfee = amount * JM_FEE_PPM // 1_000_000 + 250
    lo, hi = b.joinmarket_makers
    makers: list[tuple[int, list[int]]] = []
    for _ in range(30):
        if len(makers) >= lo + rnd.below(hi - lo + 1):
            break
        m = rnd.below(u.n)
        if (
            m == taker
            or u.entity[m] == u.entity[taker]
            or any(m == k for k, _ in makers)
            or L.balance[u.wallet[m]] < amount + 200_000
        ):
            continue
        ins = L.select(u.wallet[m], amount + 20_000, w.rate, rnd)
        if ins:
            makers.append((m, ins))
    rate = w.rate
    enough = len(makers) >= min(2, lo)
    if sweep and enough:
        t_ins = L.take_all(u.wallet[taker], 8)
    else:
        t_ins = (
            L.select(u.wallet[taker], amount + cjfee * len(makers) + 60_000, rate, rnd)
            if enough
            else []
        )
    if not t_ins:
        for _, ins in makers:
            L.give_back(ins)
        return
    all_inputs = shuffle(w, [o for _, ins in makers for o in ins] + t_ins)
    probe = w.coordinators.wasabi_fee_addr
    n_out = 2 * len(makers) + (1 if sweep else 2)
    fee = L.vsize(all_inputs, [probe] * n_out) * rate
    if sweep:
        amount = L.value_of(t_ins) - cjfee * len(makers) - fee
        ok = amount >= DUST and all(L.value_of(ins) >= amount + 1_000 for _, ins in makers)
    else:
        ok = L.value_of(t_ins) - amount - cjfee * len(makers) - fee >= 0
    if not ok:
        for _, ins in [*makers, (taker, t_ins)]:
            L.give_back(ins)
        return
    outs = []
    for m, ins in makers:
        outs.append(
            (amount, L.new_address(w.user_entity(m), P2WPKH, "coinjoin_output", u.wallet[m]))
        )
        rest = L.value_of(ins) - amount + cjfee
        outs.append((rest, L.new_address(w.user_entity(m), P2WPKH, "change", u.wallet[m])))
    outs.append(
        (amount, L.new_address(w.user_entity(taker), P2WPKH, "coinjoin_output", u.wallet[taker]))
    )
    rest = L.value_of(t_ins) - amount - cjfee * len(makers) - fee
    if not sweep and rest >= DUST:
        outs.append((rest, receive_address(L, u, taker, rnd, fresh=True, height=w.height)))
    _add_multiparty(w, "coinjoin_joinmarket", all_inputs, shuffle(w, outs))


__all__ = ["change_address", "joinmarket_round", "tx0", "wasabi_round", "whirlpool_mixes"]
