"""CoinJoins: Wasabi-style rounds, Whirlpool-style tx0 + 5x5 mixes, JoinMarket-style joins.

* Wasabi-style: many participants; each gets one output of the round's denomination and a
  change output; the coordinator takes a fee output. The tx fee is shared equally.
* Whirlpool-style: a user's tx0 makes premix outputs (denomination + mining-fee allowance),
  a coordinator fee output, an OP_RETURN and toxic change; mixes take 5 inputs (new premix
  coins paying the fee, plus free remixes of postmix coins) to 5 equal outputs.
* JoinMarket-style: a taker and 3-5 makers each get one equal output; makers get change
  including their fee; the taker pays the makers' fees and the mining fee.

All of these are multi-party: the truth's ``entity_id`` of the tx is -1 and ``change_vout``
is -1; every output address belongs to the participant it pays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chaintrail.sim.actors import receive_address
from chaintrail.sim.ledger import DUST, KIND, P2WPKH

if TYPE_CHECKING:
    from chaintrail.sim.economy import Economy

WASABI_DENOM = 10_000_000
WASABI_COORD_FEE = 30_000  # per participant (0.3 % of the denomination)
WHIRLPOOL_DENOM = 1_000_000
WHIRLPOOL_EXTRA = 2_000  # mining-fee allowance carried by each premix output
WHIRLPOOL_POOL_FEE = 50_000
JM_FEE_PPM = 150  # makers' relative fee, parts per million


@dataclass
class Coordinators:
    """Fee addresses of the CoinJoin coordinators (their fee outputs are never spent)."""

    wasabi_entity: int
    wasabi_fee_addr: int
    whirlpool_entity: int
    whirlpool_fee_addr: int


@dataclass
class Whirlpool:
    """Unspent premix and postmix coins waiting to be mixed, as (out id, owner user index)."""

    premix: list[tuple[int, int]] = field(default_factory=list)
    postmix: list[tuple[int, int]] = field(default_factory=list)


def make_coordinators(econ: Economy) -> Coordinators:
    """Create the Wasabi-style and Whirlpool-style coordinator entities."""
    L, ents = econ.ledger, econ.ents
    w = ents.add("coinjoin_coordinator", "Zephyr Coordinator")
    wp = ents.add("coinjoin_coordinator", "Eddy Coordinator")
    return Coordinators(
        wasabi_entity=w,
        wasabi_fee_addr=L.new_address(w, P2WPKH, "coordinator_fee", -1),
        whirlpool_entity=wp,
        whirlpool_fee_addr=L.new_address(wp, P2WPKH, "coordinator_fee", -1),
    )


def _shuffle(econ: Economy, items: list) -> list:  # type: ignore[type-arg]
    for k in range(len(items) - 1, 0, -1):
        j = econ.rnd.below(k + 1)
        items[k], items[j] = items[j], items[k]
    return items


def _add_multiparty(
    econ: Economy, kind: str, inputs: list[int], outputs: list[tuple[int, int]]
) -> int:
    version = 2 if kind == "coinjoin_joinmarket" else 1
    return econ.ledger.add_tx(kind, -1, inputs, outputs, version=version)


def _give_back_users(econ: Economy, parts: list[tuple[int, int, list[int]]]) -> None:
    for _, i, inputs in parts:
        if i >= 0:
            econ.ledger.give_back(inputs)


def wasabi_round(
    econ: Economy, n_users: int, extra: list[tuple[int, list[int]]] | None = None
) -> dict[int, tuple[int, int]]:
    """One Wasabi-style round with ``n_users`` random users plus ``extra`` (entity, inputs).

    Extra participants' outputs go to fresh untracked addresses of their entity. Returns
    {entity: (mixed out id, change out id or -1)} for the extra participants.
    """
    L, rnd, u = econ.ledger, econ.rnd, econ.users
    need = WASABI_DENOM + WASABI_COORD_FEE + 40_000
    parts: list[tuple[int, int, list[int]]] = []  # (entity, user index or -1, inputs)
    seen = set()
    for _ in range(n_users * 3):
        if len(parts) >= n_users:
            break
        i = rnd.below(u.n)
        if i in seen or L.balance[u.wallet[i]] < need + 200_000:
            continue
        seen.add(i)
        inputs = L.select(u.wallet[i], need, econ.rate, rnd)
        if inputs:
            parts.append((econ.user_entity(i), i, inputs))
    for e, inputs in extra or []:
        parts.append((e, -1, inputs))
    if len(parts) < 3:
        _give_back_users(econ, parts)
        return {}
    rate = econ.rate
    all_inputs = _shuffle(econ, [o for _, _, ins in parts for o in ins])
    probe = econ.coordinators.wasabi_fee_addr  # any P2WPKH address sizes an output
    vs = L.vsize(all_inputs, [probe] * (2 * len(parts) + 1))
    share = -(-vs * rate // len(parts))
    if any(L.value_of(ins) - WASABI_DENOM - WASABI_COORD_FEE - share < 0 for _, _, ins in parts):
        if extra:
            rate = 1
            share = -(-vs // len(parts))
        else:
            _give_back_users(econ, parts)
            return {}
    equal, changes, result = [], [], {}
    for e, i, inputs in parts:
        wallet = u.wallet[i] if i >= 0 else -1
        mixed = L.new_address(e, P2WPKH, "coinjoin_output", wallet)
        equal.append((WASABI_DENOM, mixed, e, i))
        rest = L.value_of(inputs) - WASABI_DENOM - WASABI_COORD_FEE - share
        if rest >= DUST:
            changes.append((rest, L.new_address(e, P2WPKH, "change", wallet), e, i))
    _shuffle(econ, equal)
    _shuffle(econ, changes)
    fee_out = (WASABI_COORD_FEE * len(parts), econ.coordinators.wasabi_fee_addr, -2, -1)
    outs = [*equal, fee_out, *changes]
    tx = _add_multiparty(econ, "coinjoin_wasabi", all_inputs, [(v, a) for v, a, _, _ in outs])
    first = L.first_out(tx)
    for k, (_, _, e, i) in enumerate(outs):
        if i < 0 and e >= 0:
            mixed, change = result.get(e, (-1, -1))
            if k < len(equal):
                mixed = first + k
            else:
                change = first + k
            result[e] = (mixed, change)
    return result


def whirlpool_tx0(econ: Economy, i: int) -> None:
    """User ``i`` enters Whirlpool: tx0 with premix outputs, pool fee, OP_RETURN, change."""
    L, rnd, u = econ.ledger, econ.rnd, econ.users
    bal = L.balance[u.wallet[i]]
    n = min(8, int(bal * 0.7) // (WHIRLPOOL_DENOM + WHIRLPOOL_EXTRA))
    if n < 2:
        return
    premix_value = WHIRLPOOL_DENOM + WHIRLPOOL_EXTRA
    rate = econ.tx_rate()
    inputs = L.select(u.wallet[i], n * premix_value + WHIRLPOOL_POOL_FEE + 30_000, rate, rnd)
    if not inputs:
        return
    e = econ.user_entity(i)
    premix = [L.new_address(e, P2WPKH, "premix", -1) for _ in range(n)]
    change = L.new_address(e, P2WPKH, "change", u.wallet[i])
    outs = [(WHIRLPOOL_POOL_FEE, econ.coordinators.whirlpool_fee_addr), (0, -46)]
    outs += [(premix_value, a) for a in premix]
    fee = L.vsize(inputs, [a for _, a in outs] + [change]) * rate
    rest = L.value_of(inputs) - n * premix_value - WHIRLPOOL_POOL_FEE - fee
    change_vout = -1
    if rest >= DUST:
        outs.append((rest, change))
        change_vout = len(outs) - 1
    tx = L.add_tx("coinjoin_whirlpool_tx0", e, inputs, outs, version=1, change_vout=change_vout)
    first = L.first_out(tx)
    econ.whirlpool.premix.extend((first + 2 + k, i) for k in range(n))


def whirlpool_mixes(econ: Economy, max_mixes: int) -> None:
    """Run up to ``max_mixes`` 5-in/5-out mixes, then let some postmix coins be spent."""
    L, rnd, wp = econ.ledger, econ.rnd, econ.whirlpool
    for _ in range(max_mixes):
        if not wp.premix or len(wp.premix) + len(wp.postmix) < 5:
            break
        n_new = min(len(wp.premix), 2 + rnd.below(2), 5)
        n_new = max(n_new, 5 - len(wp.postmix))
        picked = [wp.premix.pop(rnd.below(len(wp.premix))) for _ in range(n_new)]
        picked += [wp.postmix.pop(rnd.below(len(wp.postmix))) for _ in range(5 - n_new)]
        _shuffle(econ, picked)
        outs = []
        for _, owner in picked:
            a = L.new_address(econ.user_entity(owner), P2WPKH, "postmix", -1)
            outs.append((WHIRLPOOL_DENOM, a, owner))
        _shuffle(econ, outs)
        tx = _add_multiparty(
            econ, "coinjoin_whirlpool_mix", [o for o, _ in picked], [(v, a) for v, a, _ in outs]
        )
        first = L.first_out(tx)
        wp.postmix.extend((first + k, owner) for k, (_, _, owner) in enumerate(outs))
    n_exit = len(wp.postmix) // 12
    for _ in range(n_exit):
        out, owner = wp.postmix.pop(rnd.below(len(wp.postmix)))
        m = rnd.below(len(econ.merchants))
        me, mw, _ = econ.merchants[m]
        amount = int(WHIRLPOOL_DENOM * (0.5 + 0.4 * rnd.u()))
        change = L.new_address(econ.user_entity(owner), P2WPKH, "change", econ.users.wallet[owner])
        from chaintrail.sim.txbuild import spend

        spend(L, "payment", econ.user_entity(owner), [out],
              [(amount, L.new_address(me, P2WPKH, "invoice", mw))], change, econ.tx_rate(),
              change_pos=rnd.below(2), habits=econ.habits(owner))  # fmt: skip


def joinmarket_round(econ: Economy) -> None:
    """One JoinMarket-style join: a taker and 3-5 makers, equal outputs plus change."""
    L, rnd, u = econ.ledger, econ.rnd, econ.users
    taker = rnd.below(u.n)
    tbal = L.balance[u.wallet[taker]]
    if tbal < 3_000_000:
        return
    amount = int(tbal * (0.3 + 0.4 * rnd.u()))
    cjfee = amount * JM_FEE_PPM // 1_000_000 + 250
    makers: list[tuple[int, list[int]]] = []
    for _ in range(30):
        if len(makers) >= 3 + rnd.below(3):
            break
        m = rnd.below(u.n)
        if (
            m == taker
            or any(m == k for k, _ in makers)
            or L.balance[u.wallet[m]] < amount + 200_000
        ):
            continue
        ins = L.select(u.wallet[m], amount + 20_000, econ.rate, rnd)
        if ins:
            makers.append((m, ins))
    rate = econ.rate
    t_ins = (
        L.select(u.wallet[taker], amount + cjfee * len(makers) + 60_000, rate, rnd)
        if len(makers) >= 2
        else []
    )
    if not t_ins:
        for _, ins in makers:
            L.give_back(ins)
        return
    all_inputs = _shuffle(econ, [o for _, ins in makers for o in ins] + t_ins)
    probe = econ.coordinators.wasabi_fee_addr
    fee = L.vsize(all_inputs, [probe] * (2 * len(makers) + 2)) * rate
    if L.value_of(t_ins) - amount - cjfee * len(makers) - fee < 0:
        for _, ins in [*makers, (taker, t_ins)]:
            L.give_back(ins)
        return
    outs = []
    for m, ins in makers:
        outs.append(
            (amount, L.new_address(econ.user_entity(m), P2WPKH, "coinjoin_output", u.wallet[m]))
        )
        rest = L.value_of(ins) - amount + cjfee
        outs.append((rest, L.new_address(econ.user_entity(m), P2WPKH, "change", u.wallet[m])))
    outs.append(
        (amount, L.new_address(econ.user_entity(taker), P2WPKH, "coinjoin_output", u.wallet[taker]))
    )
    rest = L.value_of(t_ins) - amount - cjfee * len(makers) - fee
    if rest >= DUST:
        outs.append((rest, receive_address(L, u, taker, rnd, fresh=True)))
    _add_multiparty(econ, "coinjoin_joinmarket", all_inputs, _shuffle(econ, outs))


def block_rounds(econ: Economy) -> None:
    """The CoinJoin activity of one block: scheduled rounds and mixes."""
    h, scale = econ.height, econ.p.scenario_scale
    if h % 8 == 0:
        wasabi_round(econ, 8 + 6 * scale)
    if h % 3 == 0:
        joinmarket_round(econ)
    whirlpool_mixes(econ, scale)


assert "coinjoin_wasabi" in KIND
