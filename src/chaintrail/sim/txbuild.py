"""Build fee-paying transactions on the ledger: payments with change, and sweeps.

Both compute the exact vsize first and charge ``fee = vsize * rate``. A payment whose change
would be dust drops the change output and leaves the remainder to the miner, as wallets do.
"""

from __future__ import annotations

from dataclasses import dataclass

from chaintrail.sim.ledger import DUST, FLAG_BIP69, FLAG_LOW_R, Ledger


@dataclass(frozen=True)
class Habits:
    """A sender's tx-level fingerprint: version, locktime, nSequence, BIP69 ordering, low-R."""

    version: int = 2
    locktime: int = 0
    sequence: int = 0xFFFFFFFF
    bip69: bool = False
    low_r: bool = False

    @property
    def flags(self) -> int:
        """The ledger's ``tx_flags`` for a tx written with these habits."""
        return (FLAG_BIP69 if self.bip69 else 0) | (FLAG_LOW_R if self.low_r else 0)


DEFAULT_HABITS = Habits()


def spend(
    ledger: Ledger,
    kind: str,
    entity: int,
    inputs: list[int],
    payees: list[tuple[int, int]],
    change_addr: int,
    rate: int,
    *,
    change_pos: int = -1,
    habits: Habits = DEFAULT_HABITS,
) -> tuple[int, int, int]:
    """Pay ``payees`` (value, address) from ``inputs``, change to ``change_addr`` at ``change_pos``.

    ``change_pos`` -1 puts change last; BIP69 software orders outputs by value instead (then by
    address id, standing in for the script bytes). Returns (tx id, first output id, change vout
    or -1). The caller guarantees the inputs cover the payees plus the fee.
    """
    total = ledger.value_of(inputs)
    paid = sum(v for v, _ in payees)
    addrs = [a for _, a in payees]
    pos = len(payees) if change_pos < 0 or change_pos > len(payees) else change_pos
    with_change = addrs[:pos] + [change_addr] + addrs[pos:]
    fee = ledger.vsize(inputs, with_change, habits.low_r) * rate
    change = total - paid - fee
    outputs = list(payees)
    change_vout = -1
    if change >= DUST:
        outputs.insert(pos, (change, change_addr))
        change_vout = pos
    elif total - paid < ledger.vsize(inputs, addrs, habits.low_r) * rate:
        raise ValueError(f"planner bug: {kind} inputs {total} do not cover {paid} + fee")
    if habits.bip69:
        order = sorted(range(len(outputs)), key=lambda k: outputs[k])
        change_vout = order.index(change_vout) if change_vout >= 0 else -1
        outputs = [outputs[k] for k in order]
    tx = ledger.add_tx(
        kind,
        entity,
        inputs,
        outputs,
        version=habits.version,
        locktime=habits.locktime,
        sequence=habits.sequence,
        change_vout=change_vout,
        flags=habits.flags,
    )
    return tx, ledger.first_out(tx), change_vout


def sweep(
    ledger: Ledger,
    kind: str,
    entity: int,
    inputs: list[int],
    dest: int,
    rate: int,
    *,
    habits: Habits = DEFAULT_HABITS,
) -> tuple[int, int]:
    """Move everything in ``inputs`` (minus the fee) to ``dest``; returns (tx id, output id).

    Returns (-1, -1) and puts tracked inputs back in their wallets if the remainder would
    be dust.
    """
    value = ledger.value_of(inputs) - ledger.vsize(inputs, [dest], habits.low_r) * rate
    if not inputs or value < DUST:
        ledger.give_back(inputs)
        return -1, -1
    tx = ledger.add_tx(
        kind,
        entity,
        inputs,
        [(value, dest)],
        version=habits.version,
        locktime=habits.locktime,
        sequence=habits.sequence,
        flags=habits.flags,
    )
    return tx, ledger.first_out(tx)


def split(
    ledger: Ledger,
    kind: str,
    entity: int,
    inputs: list[int],
    dests: list[int],
    weights: list[float],
    rate: int,
    *,
    habits: Habits = DEFAULT_HABITS,
) -> tuple[int, int]:
    """Spend ``inputs`` entirely into ``dests`` in proportion to ``weights`` (fee deducted).

    The last destination takes the rounding remainder. Returns (tx id, first output id).
    """
    avail = ledger.value_of(inputs) - ledger.vsize(inputs, dests, habits.low_r) * rate
    total_w = sum(weights)
    values = [int(avail * w / total_w) for w in weights[:-1]]
    values.append(avail - sum(values))
    if min(values) < DUST:
        raise ValueError(f"planner bug: {kind} split of {avail} leaves a dust output")
    tx = ledger.add_tx(
        kind,
        entity,
        inputs,
        list(zip(values, dests, strict=True)),
        version=habits.version,
        locktime=habits.locktime,
        sequence=habits.sequence,
        flags=habits.flags,
    )
    return tx, ledger.first_out(tx)
