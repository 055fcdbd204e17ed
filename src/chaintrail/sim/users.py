"""Ordinary users: wallet personas, their software and their addresses.

A *persona* is one wallet: a ledger wallet, a script type and the wallet software that signs
its transactions. A user (an entity of kind ``user``) normally has one persona; with the
``multi_wallet`` knob some have two or three (same entity, different software and type), and
``shared_wallets`` adds co-signed wallets (entity kind ``shared_wallet``) whose transactions
come from whichever co-signer's software coordinated them. With ``software_change`` a
persona's software changes once at a random block (an upgrade or a switch), possibly to a new
script type.

The software is the fingerprint chain analysis sees: tx version, anti-fee-sniping locktime,
nSequence (RBF signalling), BIP69 ordering, low-R signatures, where change goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chaintrail.sim.actors import Entities
from chaintrail.sim.behaviour import Behaviour
from chaintrail.sim.ledger import P2PKH, P2SH, P2TR, P2WPKH, P2WSH, Ledger, RandomStream
from chaintrail.sim.presets import Preset
from chaintrail.sim.txbuild import Habits

USER_TYPES = (P2PKH, P2SH, P2WPKH, P2TR)


@dataclass(frozen=True)
class Software:
    """One wallet software's habits (what it writes into every tx it builds)."""

    version: int
    anti_snipe: bool  # locktime = previous height (Core-like), else 0
    sequence: int
    bip69: bool = False
    low_r: bool = False
    own_type_change: bool = False  # change to the wallet's own type instead of the input's

    def habits(self, height: int) -> Habits:
        """The tx-level fields this software writes at ``height``."""
        return Habits(
            self.version,
            height - 1 if self.anti_snipe else 0,
            self.sequence,
            self.bip69,
            self.low_r,
        )


@dataclass
class Era:
    """From economy block ``start`` on, a persona uses ``software`` and ``addr_type``."""

    start: int
    software: Software
    addr_type: int


@dataclass
class Users:
    """Wallet personas as parallel lists indexed by persona number."""

    entity: list[int] = field(default_factory=list)
    wallet: list[int] = field(default_factory=list)
    eras: list[list[Era]] = field(default_factory=list)
    cosigners: list[list[Software]] = field(default_factory=list)  # [] unless shared
    reuse_p: list[float] = field(default_factory=list)
    change_to_input: list[bool] = field(default_factory=list)
    change_last: list[bool] = field(default_factory=list)
    receive: list[list[int]] = field(default_factory=list)
    exchange: list[int] = field(default_factory=list)
    siblings: dict[int, list[int]] = field(default_factory=dict)  # entity -> its personas
    economy_start: int = 1 << 30  # height of the first economy block (eras count from it)

    @property
    def n(self) -> int:
        """Number of personas."""
        return len(self.wallet)

    def era(self, i: int, height: int) -> Era:
        """Persona ``i``'s software era at ``height``."""
        eras = self.eras[i]
        if len(eras) == 1:
            return eras[0]
        k = height - self.economy_start
        cur = eras[0]
        for e in eras[1:]:
            if k >= e.start:
                cur = e
        return cur

    def addr_type(self, i: int, height: int) -> int:
        """The script type persona ``i`` gives out at ``height``."""
        return self.era(i, height).addr_type

    def habits(self, i: int, height: int, rnd: RandomStream) -> Habits:
        """The fingerprint of a tx persona ``i`` signs at ``height`` (a shared wallet's comes
        from the co-signer who coordinates this one)."""
        if self.cosigners[i]:
            sw = self.cosigners[i][rnd.below(len(self.cosigners[i]))]
            return sw.habits(height)
        return self.era(i, height).software.habits(height)

    def own_type_change(self, i: int, height: int) -> bool:
        """Does persona ``i``'s software send change to its own script type?"""
        return self.era(i, height).software.own_type_change


def _draw_type(rnd: RandomStream, mix: tuple[float, ...]) -> int:
    u = rnd.u()
    acc = 0.0
    for ty, w in zip(USER_TYPES, mix, strict=True):
        acc += w
        if u < acc:
            return ty
    return USER_TYPES[-1]


def draw_software(rnd: RandomStream, addr_type: int, b: Behaviour) -> Software:
    """A wallet software plausible for a wallet of ``addr_type`` (legacy wallets are older)."""
    modern = addr_type != P2PKH or rnd.u() < 0.3
    anti_snipe = modern and rnd.u() < 0.55  # Core-like wallets set locktime = tip height
    if anti_snipe:
        seq = 0xFFFFFFFD if rnd.u() < 0.7 else 0xFFFFFFFE
    else:
        seq = 0xFFFFFFFF if rnd.u() < 0.8 else 0xFFFFFFFD
    bip69 = b.bip69 > 0 and rnd.u() < b.bip69
    low_r = b.low_r > 0 and rnd.u() < b.low_r
    own = b.own_type_change > 0 and rnd.u() < b.own_type_change
    return Software(2 if modern else 1, anti_snipe, seq, bip69, low_r, own)


def _add_persona(
    users: Users, ledger: Ledger, e: int, addr_type: int, sw: Software, n_exchanges: int,
    rnd: RandomStream, b: Behaviour,
) -> int:  # fmt: skip
    users.entity.append(e)
    users.wallet.append(ledger.new_wallet(e))
    users.eras.append([Era(0, sw, addr_type)])
    users.cosigners.append([])
    users.reuse_p.append(0.6 if rnd.u() < b.reuse_share else 0.03)
    users.change_to_input.append(rnd.u() < 0.05)
    users.change_last.append(rnd.u() < 0.3)
    users.receive.append([])
    users.exchange.append(rnd.below(n_exchanges))
    users.siblings.setdefault(e, []).append(users.n - 1)
    return users.n - 1


def make_users(
    ledger: Ledger, ents: Entities, preset: Preset, b: Behaviour, rnd: RandomStream
) -> Users:
    """Create the preset's users (and the behaviour's extra wallets and shared wallets)."""
    users = Users()
    n_blocks = max(1, preset.target_txs // preset.txs_per_block)
    for i in range(preset.n_users):
        e = ents.add("user", f"user-{i:07d}")
        t = _draw_type(rnd, b.script_mix)
        if b.multisig > 0 and rnd.u() < b.multisig:
            t = P2WSH
        k = _add_persona(users, ledger, e, t, draw_software(rnd, t, b), preset.n_exchanges, rnd, b)
        if b.multi_wallet > 0 and rnd.u() < b.multi_wallet:
            for _ in range(1 + (rnd.u() < 0.3)):
                t2 = _draw_type(rnd, b.script_mix)
                _add_persona(users, ledger, e, t2, draw_software(rnd, t2, b),
                             preset.n_exchanges, rnd, b)  # fmt: skip
        del k
    for j in range(int(preset.n_users * b.shared_wallets)):
        e = ents.add("shared_wallet", f"shared-{j:06d}")
        k = _add_persona(users, ledger, e, P2WSH, draw_software(rnd, P2WSH, b),
                         preset.n_exchanges, rnd, b)  # fmt: skip
        users.cosigners[k] = [draw_software(rnd, P2WSH, b) for _ in range(2 + rnd.below(2))]
    if b.software_change > 0:
        for k in range(users.n):
            if users.cosigners[k] or rnd.u() >= b.software_change:
                continue
            first = users.eras[k][0]
            t = first.addr_type
            if t != P2WSH and rnd.u() < b.software_changes_type:
                t = P2TR if t != P2TR else P2WPKH
            start = 1 + rnd.below(n_blocks)
            users.eras[k].append(Era(start, draw_software(rnd, t, b), t))
    return users


def receive_address(
    ledger: Ledger, users: Users, i: int, rnd: RandomStream, fresh: bool = False, height: int = 0
) -> int:
    """An address persona ``i`` gives a payer: often fresh, sometimes a reused one."""
    addrs = users.receive[i]
    if addrs and not fresh and rnd.u() < users.reuse_p[i]:
        return addrs[rnd.below(len(addrs))]
    a = ledger.new_address(users.entity[i], users.addr_type(i, height), "receive", users.wallet[i])
    addrs.append(a)
    return a


def change_address(
    ledger: Ledger, users: Users, i: int, input_addr: int, rnd: RandomStream, height: int = 0
) -> int:
    """Where persona ``i`` sends change: a fresh address of the input's type, mostly (of the
    wallet's own type if its software does that)."""
    if users.change_to_input[i] and rnd.u() < 0.8:
        return input_addr
    own = users.addr_type(i, height)
    t = ledger.addr_type[input_addr]
    if t == P2WSH or rnd.u() < 0.05 or users.own_type_change(i, height):
        t = own
    return ledger.new_address(users.entity[i], t, "change", users.wallet[i])


__all__ = ["P2SH", "P2WPKH", "Era", "Software", "Users", "make_users"]
