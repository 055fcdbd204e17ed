"""Who acts in the simulated economy: entities, ordinary users and custodial services.

Every address belongs to exactly one entity (the truth's ``entity_id``). Users carry a
wallet *fingerprint* (tx version, nSequence, locktime habit, script type, change placement,
address reuse) so that wallet-fingerprint and change heuristics have something real to find.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chaintrail.sim.ledger import P2PKH, P2SH, P2TR, P2WPKH, P2WSH, Ledger, RandomStream

EXCHANGE_NAMES = (
    "Northbank Exchange",
    "Kestrel Exchange",
    "Bluewater Exchange",
    "Harbor Exchange",
    "Meridian Exchange",
    "Solace Exchange",
)
POOL_NAMES = ("Ironhash Pool", "Granite Pool", "Cinder Pool")
POOL_SHARES = (0.45, 0.35, 0.20)
GAMBLING_NAMES = ("LuckyOtter Casino", "DiceRidge")
_MERCHANT_A = ("Amber", "Cobalt", "Juniper", "Saffron", "Willow", "Onyx", "Maple", "Quartz")
_MERCHANT_B = ("Books", "Coffee", "Hosting", "VPN", "Games", "Electronics", "Tickets", "Art")

# Script-type mix of user wallets (roughly the mix of recent mainnet outputs).
USER_TYPES = (P2PKH, P2SH, P2WPKH, P2TR)
USER_TYPE_WEIGHTS = (0.14, 0.16, 0.56, 0.14)


class Entities:
    """The entity table: dense ids with a kind and a fictional name."""

    def __init__(self) -> None:
        self.kind: list[str] = []
        self.name: list[str] = []

    def add(self, kind: str, name: str) -> int:
        """Register an entity; returns its id."""
        self.kind.append(kind)
        self.name.append(name)
        return len(self.kind) - 1


@dataclass
class Users:
    """Ordinary users as parallel lists indexed by user number (entity = first + index)."""

    first: int
    wallet: list[int] = field(default_factory=list)
    addr_type: list[int] = field(default_factory=list)
    version: list[int] = field(default_factory=list)
    sequence: list[int] = field(default_factory=list)
    locktime_height: list[bool] = field(default_factory=list)
    reuse_p: list[float] = field(default_factory=list)
    change_to_input: list[bool] = field(default_factory=list)
    change_last: list[bool] = field(default_factory=list)
    receive: list[list[int]] = field(default_factory=list)
    exchange: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of users."""
        return len(self.wallet)


def make_users(
    ledger: Ledger, ents: Entities, n: int, n_exchanges: int, rnd: RandomStream
) -> Users:
    """Create ``n`` users with randomly drawn but individually stable wallet fingerprints."""
    users = Users(first=len(ents.kind))
    for i in range(n):
        e = ents.add("user", f"user-{i:07d}")
        users.wallet.append(ledger.new_wallet(e))
        u = rnd.u()
        acc = 0.0
        t = USER_TYPES[-1]
        for ty, wgt in zip(USER_TYPES, USER_TYPE_WEIGHTS, strict=True):
            acc += wgt
            if u < acc:
                t = ty
                break
        users.addr_type.append(t)
        modern = t != P2PKH or rnd.u() < 0.3
        users.version.append(2 if modern else 1)
        anti_snipe = modern and rnd.u() < 0.55  # Core-like wallets set locktime = tip height
        users.locktime_height.append(anti_snipe)
        if anti_snipe:
            users.sequence.append(0xFFFFFFFD if rnd.u() < 0.7 else 0xFFFFFFFE)
        else:
            users.sequence.append(0xFFFFFFFF if rnd.u() < 0.8 else 0xFFFFFFFD)
        users.reuse_p.append(0.6 if rnd.u() < 0.15 else 0.03)
        users.change_to_input.append(rnd.u() < 0.05)
        users.change_last.append(rnd.u() < 0.3)
        users.receive.append([])
        users.exchange.append(rnd.below(n_exchanges))
    return users


def receive_address(
    ledger: Ledger, users: Users, i: int, rnd: RandomStream, fresh: bool = False
) -> int:
    """An address user ``i`` gives a payer: often fresh, sometimes a reused one."""
    addrs = users.receive[i]
    if addrs and not fresh and rnd.u() < users.reuse_p[i]:
        return addrs[rnd.below(len(addrs))]
    a = ledger.new_address(users.first + i, users.addr_type[i], "receive", users.wallet[i])
    addrs.append(a)
    return a


def change_address(ledger: Ledger, users: Users, i: int, input_addr: int, rnd: RandomStream) -> int:
    """Where user ``i`` sends change: a fresh address of the input's type, mostly."""
    if users.change_to_input[i] and rnd.u() < 0.8:
        return input_addr
    t = ledger.addr_type[input_addr]
    if t == P2WSH or rnd.u() < 0.05:
        t = users.addr_type[i]
    return ledger.new_address(users.first + i, t, "change", users.wallet[i])


@dataclass
class Service:
    """A custodial service: deposit addresses swept into a hot wallet, payouts from it."""

    entity: int
    kind: str
    deposit_wallet: int
    hot_wallet: int
    cold_wallet: int
    hot_addr: int
    cold_addr: int
    deposit_type: int
    fresh_deposits: bool
    sweep_every: int
    batch_every: int
    max_batch: int
    hot_target: int = 0
    deposit_addr: dict[int, int] = field(default_factory=dict)
    queue: list[tuple[int, int, int, int]] = field(default_factory=list)  # due, user, amount, addr


def make_service(
    ledger: Ledger,
    ents: Entities,
    kind: str,
    name: str,
    *,
    hot_type: int,
    deposit_type: int,
    cold: bool,
    fresh_deposits: bool,
    sweep_every: int,
    batch_every: int,
    max_batch: int,
) -> Service:
    """Create a service entity with its deposit, hot and (optionally) cold wallets."""
    e = ents.add(kind, name)
    dep = ledger.new_wallet(e)
    hot = ledger.new_wallet(e)
    cold_w = ledger.new_wallet(e) if cold else -1
    hot_addr = ledger.new_address(e, hot_type, "hot", hot)
    cold_addr = ledger.new_address(e, P2WSH, "cold", cold_w) if cold else -1
    return Service(
        entity=e,
        kind=kind,
        deposit_wallet=dep,
        hot_wallet=hot,
        cold_wallet=cold_w,
        hot_addr=hot_addr,
        cold_addr=cold_addr,
        deposit_type=deposit_type,
        fresh_deposits=fresh_deposits,
        sweep_every=sweep_every,
        batch_every=batch_every,
        max_batch=max_batch,
    )


def deposit_address(ledger: Ledger, svc: Service, customer: int, role: str = "deposit") -> int:
    """The deposit address ``svc`` shows ``customer`` (an entity id): per customer or fresh."""
    if not svc.fresh_deposits and customer in svc.deposit_addr:
        return svc.deposit_addr[customer]
    a = ledger.new_address(svc.entity, svc.deposit_type, role, svc.deposit_wallet)
    if not svc.fresh_deposits:
        svc.deposit_addr[customer] = a
    return a


@dataclass
class Pool:
    """A mining pool: a reused coinbase address, a payout wallet and its miners' addresses."""

    entity: int
    coinbase_addr: int
    wallet: int
    change_addr: int
    miners: list[int]  # user indexes
    miner_addr: list[int]  # their payout addresses


def make_pool(
    ledger: Ledger, ents: Entities, name: str, users: Users, n_miners: int, rnd: RandomStream
) -> Pool:
    """Create a pool paying a fixed set of users at reused payout addresses."""
    e = ents.add("mining_pool", name)
    w = ledger.new_wallet(e)
    cb = ledger.new_address(e, P2WPKH, "coinbase", -1)
    change = ledger.new_address(e, P2WPKH, "hot", w)
    miners = [rnd.below(users.n) for _ in range(n_miners)]
    miner_addr = [
        ledger.new_address(users.first + m, users.addr_type[m], "payout", users.wallet[m])
        for m in miners
    ]
    return Pool(
        entity=e,
        coinbase_addr=cb,
        wallet=w,
        change_addr=change,
        miners=miners,
        miner_addr=miner_addr,
    )


def merchant_name(i: int) -> str:
    """A fictional merchant name, unique per index."""
    a = _MERCHANT_A[i % len(_MERCHANT_A)]
    b = _MERCHANT_B[(i // len(_MERCHANT_A)) % len(_MERCHANT_B)]
    k = i // (len(_MERCHANT_A) * len(_MERCHANT_B))
    return f"{a} {b}" + (f" #{k + 1}" if k else "")


__all__ = ["P2PKH", "P2SH", "P2TR", "P2WPKH", "P2WSH"]
