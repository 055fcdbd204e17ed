"""Who acts in the simulated economy: entities, custodial services and mining pools.

Every address belongs to exactly one entity (the truth's ``entity_id``). Ordinary users and
their wallet software are in :mod:`chaintrail.sim.users`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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


class PersonaTable(Protocol):
    """What a pool needs of the user table: personas' entities, wallets and script types."""

    entity: list[int]
    wallet: list[int]

    @property
    def n(self) -> int:
        """Number of wallet personas."""

    def addr_type(self, i: int, height: int) -> int:
        """The script type persona ``i`` gives out at ``height``."""


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
    ledger: Ledger,
    ents: Entities,
    name: str,
    users: PersonaTable,
    n_miners: int,
    rnd: RandomStream,
) -> Pool:
    """Create a pool paying a fixed set of users at reused payout addresses."""
    e = ents.add("mining_pool", name)
    w = ledger.new_wallet(e)
    cb = ledger.new_address(e, P2WPKH, "coinbase", -1)
    change = ledger.new_address(e, P2WPKH, "hot", w)
    miners = [rnd.below(users.n) for _ in range(n_miners)]
    miner_addr = [
        ledger.new_address(users.entity[m], users.addr_type(m, 0), "payout", users.wallet[m])
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
