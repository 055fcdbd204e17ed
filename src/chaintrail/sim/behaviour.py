"""Behaviour knobs of the simulated economy and the named variants that set them.

A :class:`Behaviour` is every knob at once; its defaults are the original economy
(variant ``baseline``: one wallet software per user for life, no PayJoin, Wasabi-style rounds
at 0.1 BTC, Whirlpool's 0.01 BTC pool, ransomware through one Wasabi-style round). Variants
(:data:`VARIANTS`) turn behaviours on in different mixes and strengths; a TOML file can
set any knob too (``chaintrail simulate --variant FILE.toml``)::

    base = "drift"              # optional: start from a named variant
    software_change = 0.8
    whirlpool_pools = [1000000, 5000000]

docs/SIMULATOR.md describes each knob and each variant.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from chaintrail.errors import UsageError

MIXERS = ("wasabi", "whirlpool", "wabisabi")


@dataclass(frozen=True)
class Behaviour:
    """Every behaviour knob of the economy (defaults: the ``baseline`` variant)."""

    # --- wallet software (per wallet persona) -------------------------------------------
    software_change: float = 0.0  # share of wallets whose software changes once mid-chain
    software_changes_type: float = 0.0  # of those: share that also move to a new script type
    bip69: float = 0.0  # share of wallet softwares ordering inputs and outputs per BIP69
    low_r: float = 0.0  # share of softwares grinding low-R signatures (always 71-byte DER)
    own_type_change: float = 0.0  # share sending change to the wallet's own type, not the input's
    # --- users -----------------------------------------------------------------------------
    script_mix: tuple[float, float, float, float] = (
        0.14,
        0.16,
        0.56,
        0.14,
    )  # P2PKH P2SH P2WPKH P2TR
    reuse_share: float = 0.15  # share of users who reuse receive addresses often
    multi_wallet: float = 0.0  # share of users holding a second (sometimes third) wallet
    self_transfer: float = (
        0.0  # per action of a multi-wallet user: moving funds between own wallets
    )
    multisig: float = 0.0  # share of users whose wallet is a 2-of-3 P2WSH multisig
    shared_wallets: float = 0.0  # extra co-signed wallets (entity kind shared_wallet), per user
    # --- exchanges -------------------------------------------------------------------------
    exchange_fresh_change: bool = False  # withdrawal batches send change to a fresh address
    exchange_payout_deposits: float = 0.0  # share of withdrawal batches that spend deposit coins
    # --- PayJoin (BIP78) -------------------------------------------------------------------
    payjoin_merchants: float = 0.0  # share of merchants whose payment processor does PayJoin
    payjoin_p2p: float = 0.0  # share of peer payments made as PayJoin
    payjoin_naive: float = 0.0  # share of PayJoin receivers picking their input at random
    # --- CoinJoins -------------------------------------------------------------------------
    wasabi_every: int = 8  # blocks between Wasabi-1-style rounds
    wasabi_denominations: tuple[int, ...] = (10_000_000,)  # base denomination, one per round
    wasabi_levels: int = 1  # mixing levels: outputs of denomination x 2^k for k < levels
    wasabi_fee_ppm: int = 3_000  # coordinator fee per mixed output, ppm of its value
    wabisabi_every: int = 0  # blocks between WabiSabi (Wasabi 2) rounds; 0 = none
    wabisabi_taproot: float = 0.5  # share of WabiSabi participants receiving to P2TR
    joinmarket_makers: tuple[int, int] = (3, 5)  # makers per JoinMarket join (inclusive range)
    joinmarket_sweep: float = 0.0  # share of JoinMarket takers sweeping (no taker change)
    whirlpool_pools: tuple[int, ...] = (1_000_000,)  # Whirlpool pool denominations
    whirlpool_liquidity: int = 0  # extra mixes per block per 8 premix coins waiting
    postmix_consolidation: float = (
        0.0  # share of users' postmix spends that merge 2-4 postmix coins
    )
    # --- crime -----------------------------------------------------------------------------
    ransom_mixer: str = "wasabi"  # how the ransomware operator mixes: wasabi|whirlpool|wabisabi
    hack_mixer: str = "none"  # how the exchange hacker mixes part of the loot: none|MIXERS
    peel_fraction: tuple[float, float] = (0.08, 0.20)  # share of the balance each peel pays
    criminal_wait: tuple[int, int] = (0, 0)  # extra blocks waited between criminal steps
    remixes: tuple[int, int] = (0, 0)  # extra Whirlpool/WabiSabi rounds before cashing out
    consolidation_stages: int = 1  # rounds of consolidating mixed coins before depositing

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not 0.0 <= v <= 1.0:
                raise UsageError(f"behaviour {f.name}: expected a share between 0 and 1, got {v}")
        if abs(sum(self.script_mix) - 1.0) > 1e-6 or min(self.script_mix) < 0:
            raise UsageError(f"behaviour script_mix: shares must sum to 1, got {self.script_mix}")
        for name in ("joinmarket_makers", "criminal_wait", "remixes", "peel_fraction"):
            lo, hi = getattr(self, name)
            if lo > hi or lo < 0:
                raise UsageError(f"behaviour {name}: expected [low, high] with 0 <= low <= high")
        if self.joinmarket_makers[0] < 1:
            raise UsageError("behaviour joinmarket_makers: at least one maker")
        if self.peel_fraction[1] >= 0.9:
            raise UsageError("behaviour peel_fraction: the high end must stay below 0.9")
        if self.ransom_mixer not in MIXERS:
            raise UsageError(f"behaviour ransom_mixer: expected one of {', '.join(MIXERS)}")
        if self.hack_mixer not in ("none", *MIXERS):
            raise UsageError(f"behaviour hack_mixer: expected none or one of {', '.join(MIXERS)}")
        if not self.wasabi_denominations or min(self.wasabi_denominations) < 100_000:
            raise UsageError("behaviour wasabi_denominations: at least one, each >= 100000 sat")
        if not self.whirlpool_pools or min(self.whirlpool_pools) < 50_000:
            raise UsageError("behaviour whirlpool_pools: at least one pool, each >= 50000 sat")
        if self.wasabi_every < 1 or self.wasabi_levels < 1 or self.consolidation_stages < 1:
            raise UsageError("behaviour wasabi_every, wasabi_levels, consolidation_stages: >= 1")


# Named variants. The evaluation splits them into a tuning set and a reporting set
# (bench/eval_variants.py, ACCURACY.md); each changes the economy in a different direction.
VARIANTS: dict[str, Behaviour] = {
    "baseline": Behaviour(),
    # wallets upgrade or switch software mid-chain; some users run several wallets
    "drift": Behaviour(
        software_change=0.5, software_changes_type=0.3, bip69=0.3, low_r=0.5,
        own_type_change=0.2, multi_wallet=0.3, self_transfer=0.05,
    ),
    # privacy tools: PayJoin at merchants, WabiSabi, other denominations, Whirlpool laundering
    "privacy": Behaviour(
        payjoin_merchants=0.5, payjoin_p2p=0.03, payjoin_naive=0.3,
        wasabi_denominations=(5_000_000,), wasabi_levels=3, wasabi_fee_ppm=1_000,
        wabisabi_every=6, joinmarket_makers=(2, 8), joinmarket_sweep=0.3,
        whirlpool_pools=(1_000_000, 5_000_000), whirlpool_liquidity=1,
        postmix_consolidation=0.2, exchange_fresh_change=True,
        ransom_mixer="whirlpool", hack_mixer="wabisabi", remixes=(0, 2), consolidation_stages=2,
        criminal_wait=(0, 6), peel_fraction=(0.05, 0.30),
    ),
    # households: several wallets per person, multisig and co-signed shared wallets
    "households": Behaviour(
        multi_wallet=0.5, self_transfer=0.1, multisig=0.15, shared_wallets=0.05,
        software_change=0.3, own_type_change=0.3, low_r=0.7, bip69=0.1, reuse_share=0.3,
    ),
    # custodians: exchanges paying out of deposits with fresh change, PayJoin everywhere
    "custodial": Behaviour(
        exchange_fresh_change=True, exchange_payout_deposits=0.6, payjoin_merchants=0.7,
        payjoin_p2p=0.05, payjoin_naive=0.5, multisig=0.05, software_change=0.2,
    ),
    # launderers: WabiSabi and several Whirlpool pools, remixes, staged consolidation, patience
    "launder": Behaviour(
        ransom_mixer="wabisabi", hack_mixer="whirlpool", wabisabi_every=4,
        whirlpool_pools=(100_000, 1_000_000, 5_000_000), whirlpool_liquidity=2,
        remixes=(1, 3), consolidation_stages=3, criminal_wait=(2, 20),
        peel_fraction=(0.02, 0.5), postmix_consolidation=0.3,
    ),
    # CoinJoins the detectors were not written for
    "coinjoin_zoo": Behaviour(
        wasabi_every=5, wasabi_denominations=(2_000_000, 20_000_000), wasabi_levels=4,
        wasabi_fee_ppm=5_000, wabisabi_every=3, wabisabi_taproot=0.9,
        joinmarket_makers=(2, 10), joinmarket_sweep=0.5,
        whirlpool_pools=(100_000, 1_000_000, 50_000_000), whirlpool_liquidity=1,
        postmix_consolidation=0.4,
    ),
    # an older population: legacy scripts, heavy address reuse, few upgrades
    "legacy": Behaviour(
        script_mix=(0.55, 0.25, 0.20, 0.0), reuse_share=0.4, software_change=0.1,
        multi_wallet=0.1, own_type_change=0.1,
    ),
    # a bit of everything
    "mixed": Behaviour(
        software_change=0.4, software_changes_type=0.4, bip69=0.2, low_r=0.6,
        own_type_change=0.25, multi_wallet=0.3, self_transfer=0.05, multisig=0.08,
        shared_wallets=0.03, exchange_fresh_change=True, exchange_payout_deposits=0.3,
        payjoin_merchants=0.3, payjoin_p2p=0.02, payjoin_naive=0.3,
        wasabi_denominations=(10_000_000, 5_000_000), wabisabi_every=5,
        joinmarket_makers=(2, 9), whirlpool_pools=(1_000_000, 5_000_000), whirlpool_liquidity=1,
        postmix_consolidation=0.2, ransom_mixer="whirlpool", hack_mixer="wabisabi",
        remixes=(0, 3), consolidation_stages=2, criminal_wait=(0, 15),
        peel_fraction=(0.03, 0.4), script_mix=(0.10, 0.12, 0.50, 0.28),
    ),
}  # fmt: skip


_FIXED_LENGTH = {"joinmarket_makers": 2, "criminal_wait": 2, "remixes": 2, "peel_fraction": 2,
                 "script_mix": 4}  # fmt: skip


def _coerce(name: str, value: Any, default: Any) -> Any:
    """``value`` from TOML as the type of the knob's default; UsageError naming the knob."""
    try:
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise TypeError
            return value
        if isinstance(default, tuple):
            if not isinstance(value, list) or not value:
                raise TypeError
            if name in _FIXED_LENGTH and len(value) != _FIXED_LENGTH[name]:
                raise TypeError
            if isinstance(default[0], float):
                return tuple(float(_number(v)) for v in value)
            return tuple(_int(v) for v in value)
        if isinstance(default, float):
            return float(_number(value))
        if isinstance(default, int):
            return _int(value)
        if not isinstance(value, str):
            raise TypeError
        return value
    except (TypeError, ValueError):
        shown = list(default) if isinstance(default, tuple) else default
        raise UsageError(f"knob {name}: expected a value like {shown!r}, got {value!r}") from None


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError
    return v


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError
    return v


def behaviour_from_mapping(doc: dict[str, Any], where: str = "variant") -> Behaviour:
    """A Behaviour from ``{knob: value}`` (``base`` names a variant to start from)."""
    base_name = doc.get("base", "baseline")
    if base_name not in VARIANTS:
        raise UsageError(
            f"{where}: base {base_name!r} is not a variant; known: {', '.join(VARIANTS)}"
        )
    base = VARIANTS[base_name]
    known = {f.name: getattr(base, f.name) for f in fields(base)}
    changes = {}
    for key, value in doc.items():
        if key == "base":
            continue
        if key not in known:
            raise UsageError(f"{where}: unknown knob {key!r}; known: {', '.join(known)}")
        try:
            changes[key] = _coerce(key, value, known[key])
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
    try:
        return replace(base, **changes)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


def load_behaviour(name_or_path: str) -> tuple[str, Behaviour]:
    """(name, Behaviour) for a variant name or a TOML file of knobs (see the module doc)."""
    if name_or_path in VARIANTS:
        return name_or_path, VARIANTS[name_or_path]
    path = Path(name_or_path)
    if path.suffix != ".toml":
        raise UsageError(
            f"--variant {name_or_path!r}: not a variant ({', '.join(VARIANTS)}) nor a .toml file"
        )
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--variant {path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--variant {path}: not valid TOML ({exc})") from None
    return path.stem, behaviour_from_mapping(doc, str(path))


def behaviour_dict(b: Behaviour) -> dict[str, Any]:
    """The knobs as plain JSON-able values (tuples as lists), for the truth's record."""
    return {
        f.name: (list(v) if isinstance(v := getattr(b, f.name), tuple) else v) for f in fields(b)
    }
