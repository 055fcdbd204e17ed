"""What ordinary users do: pay peers and merchants, use exchanges, gamble, shop on the market,
use the mixer, consolidate, enter Whirlpool, PayJoin, move funds between their own wallets.

:func:`user_action` picks one persona and one action, with the probabilities of the original
economy; knobs add PayJoins (:func:`payjoin`, BIP78: the receiver adds one of its coins and
takes it back in its output) and self-transfers between a user's wallets.
"""

from __future__ import annotations

from chaintrail.sim import coinjoin
from chaintrail.sim.actors import deposit_address
from chaintrail.sim.ledger import DUST, P2SH, P2TR, P2WPKH
from chaintrail.sim.txbuild import spend, sweep
from chaintrail.sim.users import change_address, receive_address
from chaintrail.sim.world import World

ROUND_AMOUNTS = (100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 50_000_000)
PAYJOIN_SENDERS = 0.5  # share of payments to a PayJoin receiver whose sending wallet does BIP78
_RECEIVER_TRIES = 12  # coins a careful PayJoin receiver looks at to avoid the UIH patterns


def user_action(w: World) -> None:
    """One random persona does one thing (most often pays someone)."""
    L, u, rnd, h, b = w.ledger, w.users, w.rnd, w.height, w.b
    i = rnd.below(u.n)
    bal = L.balance[u.wallet[i]]
    if bal < 60_000:
        buy(w, i)
        return
    if b.self_transfer > 0 and len(u.siblings[u.entity[i]]) > 1 and rnd.u() < b.self_transfer:
        self_transfer(w, i, bal)
        return
    r = rnd.u()
    if r < 0.28:
        p2p(w, i, bal)
    elif r < 0.53:
        m = rnd.below(len(w.merchants))
        mer = w.merchants[m]
        amount = int(min(bal * 0.8, rnd.lognormal(300_000, 1.0)))
        if amount >= DUST:
            invoice = L.new_address(mer.entity, (P2WPKH, P2SH, P2TR)[m % 3], "invoice", mer.wallet)
            if not (mer.payjoin and rnd.u() < PAYJOIN_SENDERS
                    and payjoin(w, i, amount, mer.wallet, invoice) >= 0):  # fmt: skip
                w.user_pay(i, [(amount, invoice)])
    elif r < 0.64:
        ex = w.exchanges[u.exchange[i]]
        dest = deposit_address(L, ex, w.user_entity(i))
        if rnd.u() < 0.3:
            wallet = u.wallet[i]
            sweep(L, "payment", w.user_entity(i), L.take_all(wallet, 50), dest, w.tx_rate(),
                  habits=w.habits(i))  # fmt: skip
        else:
            w.user_pay(i, [(int(bal * (0.3 + 0.6 * rnd.u())), dest)])
    elif r < 0.68:
        g = w.gambling[i % len(w.gambling)]
        amount = int(min(bal * 0.5, rnd.lognormal(200_000, 1.0)))
        if (
            amount >= DUST
            and w.user_pay(i, [(amount, deposit_address(L, g, w.user_entity(i)))]) >= 0
        ):
            if rnd.u() < 0.45:
                g.queue.append((h + 1 + rnd.below(3), i, int(amount * 1.9), -1))
    elif r < 0.71:
        if i % 25 == 0:
            market_order(w, i, bal)
        else:
            p2p(w, i, bal)
    elif r < 0.715:
        if bal > 1_000_000:
            use_mixer(w, i, bal)
        else:
            p2p(w, i, bal)
    elif r < 0.76:
        if len(L.wallets[u.wallet[i]]) >= 4:
            inputs = L.take_all(u.wallet[i], 3 + rnd.below(8))
            dest = change_address(L, u, i, L.out_addr[inputs[0]], rnd, h)
            sweep(L, "consolidation", w.user_entity(i), inputs, dest, w.tx_rate(),
                  habits=w.habits(i))  # fmt: skip
        else:
            p2p(w, i, bal)
    elif r < 0.77:
        if bal > 6_000_000:
            coinjoin.whirlpool_tx0(w, i)
        else:
            p2p(w, i, bal)
    elif r < 0.90:
        p2p(w, i, bal)
    else:
        buy(w, i)


def market_order(w: World, i: int, bal: int) -> None:
    """User ``i`` orders on the darknet market; the vendor is paid out a few blocks later."""
    L, rnd, u = w.ledger, w.rnd, w.users
    amount = int(min(bal * 0.7, rnd.lognormal(500_000, 0.8)))
    dest = deposit_address(L, w.market, w.user_entity(i))
    if amount >= DUST and w.user_pay(i, [(amount, dest)]) >= 0:
        vendor = (rnd.below(u.n // 97 + 1) * 97 + 1) % u.n
        w.market.queue.append((w.height + 3 + rnd.below(8), vendor, int(amount * 0.95), -1))


def buy(w: World, i: int) -> None:
    """User ``i`` buys coins on its exchange (a withdrawal request)."""
    ex = w.exchanges[w.users.exchange[i]]
    amount = int(max(100_000, w.rnd.lognormal(3_000_000, 1.0)))
    ex.queue.append((w.height + 1 + w.rnd.below(2), i, amount, -1))


def p2p(w: World, i: int, bal: int) -> None:
    """User ``i`` pays one (sometimes two) other users; round amounts a third of the time."""
    L, u, rnd, h = w.ledger, w.users, w.rnd, w.height
    if rnd.u() < 0.35:
        fitting = [a for a in ROUND_AMOUNTS if a <= bal // 2]
        amount = fitting[rnd.below(len(fitting))] if fitting else bal // 3
    else:
        amount = int(bal * (0.05 + 0.6 * rnd.u()))
    j = rnd.below(u.n)
    if w.b.payjoin_p2p > 0 and u.entity[j] != u.entity[i] and rnd.u() < w.b.payjoin_p2p:
        addr = receive_address(L, u, j, rnd, fresh=True, height=h)
        if payjoin(w, i, amount, u.wallet[j], addr) >= 0:
            return
        w.user_pay(i, [(amount, addr)])
        return
    payees = [(amount, receive_address(L, u, j, rnd, height=h))]
    if rnd.u() < 0.08:
        payees.append((int(amount * rnd.u()) + DUST, receive_address(L, u, rnd.below(u.n), rnd,
                                                                      height=h)))  # fmt: skip
    if rnd.u() < 0.01:
        payees.append((0, -20))
    w.user_pay(i, payees)


def use_mixer(w: World, i: int, bal: int) -> None:
    """User ``i`` sends coins through the custodial mixer (paid back in 1-3 parts later)."""
    rnd, h = w.rnd, w.height
    amount = int(bal * (0.5 + 0.4 * rnd.u()))
    dest = deposit_address(w.ledger, w.mixer, w.user_entity(i), "mixer_deposit")
    if w.user_pay(i, [(amount, dest)]) >= 0:
        parts = 1 + rnd.below(3)
        for _ in range(parts):
            w.mixer.queue.append((h + 2 + rnd.below(12), i, int(amount * 0.975 / parts), -1))


def self_transfer(w: World, i: int, bal: int) -> None:
    """User ``i`` moves part of one wallet's balance to another of its own wallets."""
    u, rnd = w.users, w.rnd
    others = [k for k in u.siblings[u.entity[i]] if k != i]
    j = others[rnd.below(len(others))]
    amount = int(bal * (0.2 + 0.6 * rnd.u()))
    addr = receive_address(w.ledger, u, j, rnd, fresh=True, height=w.height)
    w.user_pay(i, [(amount, addr)], kind="self_transfer")


def _uih(sender_in: list[int], r: int, amount: int, fee: int) -> bool:
    """Would a PayJoin with receiver coin ``r`` show an unnecessary-input pattern? UIH1: an
    output smaller than every input; UIH2: the largest output funded without the smallest
    input."""
    ins = [*sender_in, r]
    change = sum(sender_in) - amount - fee
    outs = (change, amount + r)
    uih1 = min(outs) < min(ins)
    uih2 = sum(ins) - min(ins) >= max(outs) + fee
    return uih1 or uih2


def payjoin(w: World, i: int, amount: int, recv_wallet: int, pay_addr: int) -> int:
    """User ``i`` pays ``amount`` to ``pay_addr`` as a BIP78 PayJoin; returns the tx id or -1.

    The receiver adds one coin of the sender's input script type (BIP78 asks it to match) and
    takes it back in its payment output; the sender pays the whole fee from its change. A
    careful receiver (BTCPay-like) picks a coin that avoids the UIH1/UIH2 patterns when it can;
    a naive one (``payjoin_naive``) takes a random coin. Multi-party: the truth's entity_id and
    change_vout are -1, as for CoinJoins.
    """
    L, u, rnd = w.ledger, w.users, w.rnd
    coins = L.wallets[recv_wallet]
    if not coins:
        return -1
    rate = w.tx_rate()
    inputs = L.select(u.wallet[i], amount + rate * (11 + 43 * 2 + 70), rate, rnd)
    if not inputs:
        return -1
    types = {L.addr_type[L.out_addr[o]] for o in inputs}
    fits = [k for k, o in enumerate(coins) if len(types) > 1 or L.addr_type[L.out_addr[o]] in types]
    if not fits:
        L.give_back(inputs)
        return -1
    fee_guess = rate * (11 + 70 * (len(inputs) + 1) + 2 * 34)
    pick = fits[rnd.below(len(fits))]
    if not (w.b.payjoin_naive > 0 and rnd.u() < w.b.payjoin_naive):
        for _ in range(_RECEIVER_TRIES):
            if not _uih(
                [L.out_value[o] for o in inputs], L.out_value[coins[pick]], amount, fee_guess
            ):
                break
            pick = fits[rnd.below(len(fits))]
    r = L.take(recv_wallet, pick)
    at = rnd.below(len(inputs) + 1)
    all_in = inputs[:at] + [r] + inputs[at:]
    change = change_address(L, u, i, L.out_addr[inputs[0]], rnd, w.height)
    pos = 1 if u.change_last[i] else rnd.below(2)
    outs_addr = [pay_addr, change] if pos == 1 else [change, pay_addr]
    habits = w.habits(i)
    fee = L.vsize(all_in, outs_addr, habits.low_r) * rate
    rest = L.value_of(inputs) - amount - fee
    if rest < DUST:
        L.give_back(all_in)
        return -1
    pay = (amount + L.out_value[r], pay_addr)
    outs = [pay, (rest, change)] if pos == 1 else [(rest, change), pay]
    return L.add_tx("payjoin", -1, all_in, outs, version=habits.version, locktime=habits.locktime,
                    sequence=habits.sequence, flags=habits.flags)  # fmt: skip


__all__ = ["ROUND_AMOUNTS", "buy", "p2p", "payjoin", "spend", "user_action"]
