"""Put input blocks in chain order: follow prev-hash links from the store's blocks (or genesis)
and pick the branch with the most work; say whether that needs a reorg and from where.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chaintrail.chains.model import hash_to_hex
from chaintrail.errors import ValidationError

ZERO_HASH = bytes(32)


def block_work(bits: int) -> int:
    """Expected hashes for a block at compact target ``bits``: 2**256 // (target + 1)."""
    exponent, mantissa = bits >> 24, bits & 0x007FFFFF
    target = mantissa >> (8 * (3 - exponent)) if exponent <= 3 else mantissa << (8 * (exponent - 3))
    return (1 << 256) // (target + 1) if target > 0 else 0


@dataclass
class HeaderItem:
    """One input block known by its header; ``load`` is the reader's handle for its bytes."""

    hash: bytes  # internal order
    prev_hash: bytes
    bits: int
    source: str
    offset: int
    load: object = field(repr=False, default=None)


@dataclass
class ChainPlan:
    """What to apply: roll back to ``fork_height`` (if not None) then append ``items``."""

    fork_height: int | None
    fork_hash: str | None
    fork_work: int
    items: list[HeaderItem]
    heights: list[int]
    works: list[int]  # cumulative chainwork after each item
    skipped_known: int
    stale: int


@dataclass
class StoreChain:
    """What the planner needs to know about the store's chain."""

    tip_height: int
    tip_hash: bytes | None  # internal order
    tip_work: int
    height_of: dict[bytes, int]  # internal hash -> height, every stored block
    work_at: Callable[[int], int]  # cumulative work at a stored height


def plan_chain(items: list[HeaderItem], store: StoreChain) -> ChainPlan:
    """Order ``items`` onto the store's chain (most work wins; ties keep the current tip).

    Raises ValidationError naming a block whose parent is neither stored nor in the input.
    """
    known = 0
    fresh: dict[bytes, HeaderItem] = {}
    for it in items:
        if it.hash in store.height_of:
            known += 1
        elif it.hash not in fresh:
            fresh[it.hash] = it
    children: dict[bytes, list[HeaderItem]] = {}
    for it in fresh.values():
        children.setdefault(it.prev_hash, []).append(it)

    roots: list[tuple[bytes, int, int]] = []  # (hash, height, work) of attach points
    for prev in children:
        if prev in store.height_of:
            h = store.height_of[prev]
            roots.append((prev, h, store.work_at(h)))
        elif prev == ZERO_HASH and not store.height_of:
            roots.append((prev, -1, 0))

    best: tuple[int, int, bytes] | None = None  # (work, -order, hash)
    info: dict[bytes, tuple[int, int, bytes]] = {}  # hash -> (height, work, parent)
    order = {h: i for i, h in enumerate(fresh)}
    reached = 0
    for root_hash, root_height, root_work in roots:
        stack = [(c, root_height + 1, root_work) for c in children.get(root_hash, [])]
        while stack:
            it, height, parent_work = stack.pop()
            work = parent_work + block_work(it.bits)
            info[it.hash] = (height, work, it.prev_hash)
            reached += 1
            key = (work, -order[it.hash], it.hash)
            if best is None or key > best:
                best = key
            stack.extend((c, height + 1, work) for c in children.get(it.hash, []))
    if reached < len(fresh):
        orphan = next(it for it in fresh.values() if it.hash not in info)
        raise ValidationError(
            f"block {hash_to_hex(orphan.hash)}: its parent {hash_to_hex(orphan.prev_hash)} is "
            "neither in the store nor in the input (ingest the earlier blocks first, or use "
            "--allow-gaps)",
            source=orphan.source,
            offset=orphan.offset,
        )
    if best is None or best[0] <= store.tip_work and store.tip_hash is not None:
        return ChainPlan(None, None, 0, [], [], [], known, len(fresh))
    path: list[bytes] = []
    cur = best[2]
    while cur in info:
        path.append(cur)
        cur = info[cur][2]
    path.reverse()
    fork_height, fork_hash, fork_work = None, None, 0
    if store.tip_hash is not None and cur != store.tip_hash:
        fork_height = store.height_of[cur]
        fork_hash = hash_to_hex(cur)
        fork_work = store.work_at(fork_height)
    return ChainPlan(
        fork_height=fork_height,
        fork_hash=fork_hash,
        fork_work=fork_work,
        items=[fresh[h] for h in path],
        heights=[info[h][0] for h in path],
        works=[info[h][1] for h in path],
        skipped_known=known,
        stale=len(fresh) - len(path),
    )
