"""Trace rows (internal calls, creates, selfdestructs, rewards) and the value they move.

Both trace sources become the same rows, named as ethereum-etl names them:

* Parity/Erigon ``trace_block``: one row per trace as given (``action``/``result`` mapped as
  ethereum-etl's trace mapper does; ``suicide`` and ``reward`` rows included);
* geth ``debug_traceBlockByNumber`` callTracer: frames flattened depth-first, ``trace_address``
  and ``subtraces`` computed, ``CALL``/``CALLCODE``/``DELEGATECALL``/``STATICCALL`` -> call with
  that call type, ``CREATE``/``CREATE2`` -> create, ``SELFDESTRUCT`` -> suicide. geth has no
  reward frames, and geth before 1.11 gave a SELFDESTRUCT frame no from/to/value.

``tr_status`` is 0 when the frame or any ancestor failed (ethereum-etl's rule). Value moves
(:func:`value_moves`) only on successful CALL-type calls, creates and selfdestructs with a
known non-zero value: CALLCODE runs another contract's code in the caller's own account (the
"transfer" is to itself; geth even names the code address as ``to``), DELEGATECALL and
STATICCALL move nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from chaintrail.chains.ethereum import hexcodec, u256
from chaintrail.chains.ethereum.address import address_column_nullable
from chaintrail.chains.ethereum.batch import CallType, EthBatch, RewardType, TraceType, Var

MAX_CALL_DEPTH = 1024  # EVM limit; a trace address is at most this long
_GETH_TYPES = {
    "CALL": (TraceType.CALL, CallType.CALL),
    "CALLCODE": (TraceType.CALL, CallType.CALLCODE),
    "DELEGATECALL": (TraceType.CALL, CallType.DELEGATECALL),
    "STATICCALL": (TraceType.CALL, CallType.STATICCALL),
    "CREATE": (TraceType.CREATE, CallType.NONE),
    "CREATE2": (TraceType.CREATE, CallType.NONE),
    "SELFDESTRUCT": (TraceType.SUICIDE, CallType.NONE),
}
CALL_TYPES = {label.lower(): ct for label, (_, ct) in _GETH_TYPES.items() if ct}
TRACE_TYPES = {"call": TraceType.CALL, "create": TraceType.CREATE, "suicide": TraceType.SUICIDE,
               "reward": TraceType.REWARD}  # fmt: skip
REWARD_TYPES = {"block": RewardType.BLOCK, "uncle": RewardType.UNCLE}


@dataclass(frozen=True)
class TraceAt:
    """Where trace rows belong: block number, tx row in the batch (-1: none), tx index and hash."""

    block_number: int
    tx_row: int = -1
    tx_index: int = -1
    tx_hash: str | None = None


REWARD_AT = -1  # tx_index of block-scoped rows


class TraceShapeError(ValueError):
    """A trace that does not have the shape its type needs (message says what)."""


@dataclass
class TraceRows:
    """Trace rows collected from any source before they become columns (:meth:`into`)."""

    block_number: list[int] = field(default_factory=list)
    tx: list[int] = field(default_factory=list)
    tx_index: list[int] = field(default_factory=list)
    tx_hash: list[str | None] = field(default_factory=list)
    type: list[int] = field(default_factory=list)
    call_type: list[int] = field(default_factory=list)
    reward_type: list[int] = field(default_factory=list)
    sender: list[str | None] = field(default_factory=list)
    to: list[str | None] = field(default_factory=list)
    value: list[int | None] = field(default_factory=list)
    gas: list[int | None] = field(default_factory=list)
    gas_used: list[int | None] = field(default_factory=list)
    input: list[str | None] = field(default_factory=list)
    output: list[str | None] = field(default_factory=list)
    subtraces: list[int] = field(default_factory=list)
    address: list[list[int]] = field(default_factory=list)
    error: list[str | None] = field(default_factory=list)

    def add(self, at: TraceAt, ttype: int, call_type: int, reward_type: int,
            sender: str | None, to: str | None, value: int | None, gas: int | None,
            gas_used: int | None, inp: str | None, out: str | None, subtraces: int,
            address: list[int], error: str | None) -> None:  # fmt: skip
        """Append one row (addresses and data as ``0x`` hex, amounts as ints)."""
        self.block_number.append(at.block_number)
        self.tx.append(at.tx_row)
        self.tx_index.append(at.tx_index)
        self.tx_hash.append(at.tx_hash)
        self.type.append(ttype)
        self.call_type.append(call_type)
        self.reward_type.append(reward_type)
        self.sender.append(sender)
        self.to.append(to)
        self.value.append(value)
        self.gas.append(gas)
        self.gas_used.append(gas_used)
        self.input.append(inp)
        self.output.append(out)
        self.subtraces.append(subtraces)
        self.address.append(address)
        self.error.append(error or None)

    def into(self, b: EthBatch) -> None:
        """Set the ``tr_*`` columns of ``b`` (raises HexColumnError naming a row)."""
        b.tr_block_number = np.array(self.block_number, np.int64)
        b.tr_tx = np.array(self.tx, np.int64)
        b.tr_tx_index = np.array(self.tx_index, np.int32)
        b.tr_tx_hash, b.tr_tx_hash_has = hexcodec.fixed_nullable(self.tx_hash, 32)
        b.tr_type = np.array(self.type, np.uint8)
        b.tr_call_type = np.array(self.call_type, np.uint8)
        b.tr_reward_type = np.array(self.reward_type, np.uint8)
        b.tr_from, b.tr_from_has = address_column_nullable(self.sender)
        b.tr_to, b.tr_to_has = address_column_nullable(self.to)
        b.tr_value_has = np.array([v is not None for v in self.value], bool)
        b.tr_value = u256.from_ints([v or 0 for v in self.value])
        b.tr_gas = np.array([-1 if g is None else g for g in self.gas], np.int64)
        b.tr_gas_used = np.array([-1 if g is None else g for g in self.gas_used], np.int64)
        b.tr_input = _var_nullable(self.input)
        b.tr_output = _var_nullable(self.output)
        b.tr_subtraces = np.array(self.subtraces, np.int32)
        addr = Var.from_rows([np.array(a, np.int32).tobytes() for a in self.address], "i4")
        b.tr_address = addr
        b.tr_error = Var.from_rows([e.encode() if e is not None else None for e in self.error])
        b.tr_status = statuses(b)


def _var_nullable(values: list[str | None]) -> Var:
    has = np.array([v is not None for v in values], bool)
    offsets, buf = hexcodec.var_bytes([v if v is not None else "0x" for v in values])
    return Var(offsets, buf, has)


def _int(h: str | None) -> int | None:
    return None if h is None else int(h, 16)


def add_parity(rows: TraceRows, trace: Any, at: TraceAt) -> None:
    """One ``trace_block`` element -> a row (mapped as ethereum-etl's trace mapper does)."""
    a, r = trace.action, trace.result
    ttype = TRACE_TYPES.get(trace.type)
    if ttype is None:
        raise TraceShapeError(f"unknown trace type {trace.type!r}; expected one of {sorted(TRACE_TYPES)}")  # fmt: skip
    gas_used = _int(r.gasUsed) if r is not None else None
    out = None
    if ttype is TraceType.CALL:
        ct = CALL_TYPES.get(a.callType or "")
        if ct is None:
            raise TraceShapeError(f"unknown callType {a.callType!r}; expected one of {sorted(CALL_TYPES)}")  # fmt: skip
        out = r.output if r is not None else None
        rows.add(at, ttype, ct, 0, a.sender, a.to, _int(a.value), _int(a.gas),
                 gas_used, a.input, out, trace.subtraces, trace.traceAddress, trace.error)  # fmt: skip
    elif ttype is TraceType.CREATE:
        to = r.address if r is not None else None
        out = r.code if r is not None else None
        rows.add(at, ttype, 0, 0, a.sender, to, _int(a.value), _int(a.gas),
                 gas_used, a.init, out, trace.subtraces, trace.traceAddress, trace.error)  # fmt: skip
    elif ttype is TraceType.SUICIDE:
        rows.add(at, ttype, 0, 0, a.address, a.refundAddress, _int(a.balance),
                 None, None, None, None, trace.subtraces, trace.traceAddress, trace.error)  # fmt: skip
    else:
        rt = REWARD_TYPES.get(a.rewardType or "")
        if rt is None:
            raise TraceShapeError(f"unknown rewardType {a.rewardType!r}; expected block or uncle")
        rows.add(TraceAt(at.block_number), ttype, 0, rt, None, a.author, _int(a.value), None, None, None,
                 None, trace.subtraces, trace.traceAddress, trace.error)  # fmt: skip


def add_geth(rows: TraceRows, frame: Any, at: TraceAt, address: Sequence[int] = ()) -> None:
    """One callTracer frame and its sub-calls -> rows, depth-first (ethereum-etl's order)."""
    kinds = _GETH_TYPES.get(frame.type.upper())
    if kinds is None:
        raise TraceShapeError(f"unknown frame type {frame.type!r}; expected one of {sorted(_GETH_TYPES)}")  # fmt: skip
    calls = frame.calls or []
    rows.add(at, kinds[0], kinds[1], 0, frame.sender, frame.to, _int(frame.value),
             _int(frame.gas), _int(frame.gasUsed), frame.input, frame.output, len(calls),
             list(address), frame.error)  # fmt: skip
    for i, sub in enumerate(calls):
        add_geth(rows, sub, at, [*address, i])


@njit(cache=True)
def _status_kernel(tx: np.ndarray, depth: np.ndarray, failed: np.ndarray, out: np.ndarray) -> None:
    stack = np.ones(MAX_CALL_DEPTH + 2, np.int8)
    for r in range(tx.shape[0]):
        ok = np.int8(0) if failed[r] else np.int8(1)
        d = depth[r]
        if tx[r] >= 0 and d > 0 and stack[min(d, MAX_CALL_DEPTH + 1) - 1] == 0:
            ok = np.int8(0)
        if d <= MAX_CALL_DEPTH + 1:
            stack[d] = ok
        out[r] = ok


def depths(b: EthBatch) -> np.ndarray:
    """Length of each trace's ``trace_address`` (0: the transaction's top frame, or a reward)."""
    return np.diff(b.tr_address.offsets).astype(np.int64)


def statuses(b: EthBatch) -> np.ndarray:
    """1/0 per trace: 0 if the frame or an ancestor has an error (rows in depth-first order)."""
    out = np.zeros(b.n_traces, np.int8)
    failed = b.tr_error.has & (np.diff(b.tr_error.offsets) > 0)
    _status_kernel(b.tr_tx_index, depths(b), failed, out)
    return out


def value_moves(b: EthBatch) -> np.ndarray:
    """Trace rows whose value really changes hands (see the module doc); rewards excluded."""
    t, ct = b.tr_type, b.tr_call_type
    kind = ((t == TraceType.CALL) & (ct == CallType.CALL)) | (t == TraceType.CREATE) | (
        t == TraceType.SUICIDE
    )
    nonzero = b.tr_value.any(axis=1)
    moves: np.ndarray = kind & (b.tr_status == 1) & b.tr_value_has & nonzero & b.tr_from_has & b.tr_to_has
    return moves


def internal_transfers(b: EthBatch) -> np.ndarray:
    """Rows of value moves inside transactions (depth >= 1): what a transaction's own
    ``from``/``to``/``value`` does not show. The top frame repeats the transaction itself."""
    return np.flatnonzero(value_moves(b) & (depths(b) >= 1))


def rewards(b: EthBatch) -> np.ndarray:
    """Rows of block and uncle rewards (new ether to ``to``; Parity traces only)."""
    return np.flatnonzero(b.tr_type == TraceType.REWARD)


def unknown_value_frames(b: EthBatch) -> np.ndarray:
    """Rows of successful selfdestructs whose value the tracer did not say (old geth)."""
    return np.flatnonzero((b.tr_type == TraceType.SUICIDE) & ~b.tr_value_has & (b.tr_status == 1))
