"""WabiSabi (Wasabi 2) rounds: unequal inputs in, standard denominations out.

Each participant brings 1-3 coins and gets its amount back as up to eight outputs, each a
*standard denomination* (powers of 2 and 3 and the 1-2-5 series, from 5,000 sat), the
denomination drawn among the largest that fit; what is left once eight outputs are used (or
below the smallest denomination but above 20,000 sat) comes back as a change output of an
unequal amount. Participants receive to P2WPKH or P2TR (``wabisabi_taproot``). The
coordinator takes 0.1 % of inputs above 0.01 BTC; inputs and outputs are ordered by value,
largest first, as Wasabi 2 orders them. Multi-party: entity -1, change_vout -1 in the truth.
"""

from __future__ import annotations

from chaintrail.sim.ledger import DUST, P2TR, P2WPKH, input_sizes, output_size
from chaintrail.sim.world import World

MIN_DENOMINATION = 5_000
MAX_OUTPUTS = 8
CHANGE_MIN = 20_000
COORD_FEE_PPM = 1_000
COORD_FEE_FREE_BELOW = 1_000_000
STANDARD_DENOMINATIONS = tuple(
    sorted(
        {2**k for k in range(13, 33)}
        | {3**k for k in range(8, 21)}
        | {m * 10**k for k in range(3, 10) for m in (1, 2, 5)}
    )
)
STANDARD_DENOMINATIONS = tuple(d for d in STANDARD_DENOMINATIONS if d >= MIN_DENOMINATION)


def decompose(w: World, amount: int, out_vbytes: int) -> tuple[list[int], int]:
    """Split ``amount`` into standard denominations (each output also costs ``out_vbytes``
    of fee at the round's rate); returns (denominations, change or 0)."""
    rnd = w.rnd
    outs: list[int] = []
    rest = amount
    per_out = out_vbytes * w.rate
    while len(outs) < MAX_OUTPUTS and rest >= MIN_DENOMINATION + per_out:
        fitting = [d for d in STANDARD_DENOMINATIONS if d + per_out <= rest]
        top = fitting[-3:]
        d = top[-1] if rnd.u() < 0.6 else top[rnd.below(len(top))]
        outs.append(d)
        rest -= d + per_out
    change = rest - per_out if rest - per_out >= CHANGE_MIN else 0
    return outs, change


def wabisabi_round(
    w: World, n_users: int, extra: list[tuple[int, list[int]]] | None = None
) -> dict[int, list[int]]:
    """One WabiSabi round with up to ``n_users`` random users plus ``extra`` (entity, inputs)
    participants, whose outputs go to fresh untracked addresses of their entity. Returns
    {entity: [its output ids]} for the extra participants ({} if the round did not happen)."""
    L, rnd, u = w.ledger, w.rnd, w.users
    parts: list[tuple[int, int, list[int]]] = []
    seen: set[int] = set()
    for _ in range(n_users * 3):
        if len(parts) >= n_users:
            break
        i = rnd.below(u.n)
        bal = L.balance[u.wallet[i]]
        if i in seen or bal < 400_000:
            continue
        seen.add(i)
        inputs = L.select(u.wallet[i], int(bal * (0.3 + 0.6 * rnd.u())), w.rate, rnd)
        if inputs and len(inputs) <= 3:
            parts.append((w.user_entity(i), i, inputs))
        elif inputs:
            L.give_back(inputs)
    for e, inputs in extra or []:
        parts.append((e, -1, inputs))
    if len(parts) < 5:
        for _, i, inputs in parts:
            if i >= 0:
                L.give_back(inputs)
        return {}
    outs: list[tuple[int, int, int]] = []  # (value, address, entity or -1 when not extra)
    coord = 0
    n_in = len(L.in_prev)
    for e, i, inputs in parts:
        value = L.value_of(inputs)
        fee_in = 0
        for k, o in enumerate(inputs):
            base, wit = input_sizes(L.addr_type[L.out_addr[o]], n_in + k)
            fee_in += (4 * base + wit + 3) // 4
        n_in += len(inputs)
        coord_fee = value * COORD_FEE_PPM // 1_000_000 if value >= COORD_FEE_FREE_BELOW else 0
        coord += coord_fee
        taproot = rnd.u() < w.b.wabisabi_taproot
        t = P2TR if taproot else P2WPKH
        denoms, change = decompose(w, value - coord_fee - fee_in * w.rate, output_size(0, t))
        wallet = u.wallet[i] if i >= 0 else -1
        owner = e if i < 0 else -1
        for d in denoms:
            outs.append((d, L.new_address(e, t, "coinjoin_output", wallet), owner))
        if change:
            outs.append((change, L.new_address(e, t, "change", wallet), owner))
    if coord >= DUST:
        outs.append((coord, w.coordinators.wabisabi_fee_addr, -1))
    all_inputs = sorted((o for _, _, ins in parts for o in ins), key=lambda o: -L.out_value[o])
    outs.sort(key=lambda x: -x[0])
    tx = L.add_tx("coinjoin_wabisabi", -1, all_inputs, [(v, a) for v, a, _ in outs], version=2)
    first = L.first_out(tx)
    result: dict[int, list[int]] = {}
    for k, (_, _, owner) in enumerate(outs):
        if owner >= 0:
            result.setdefault(owner, []).append(first + k)
    return result
