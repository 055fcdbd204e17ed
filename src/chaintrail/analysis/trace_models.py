"""Value types of a trace: what was asked (params, seeds), the raw flow, and the result.

Amounts inside a trace are float satoshis (haircut divides); every amount a user sees is
rounded to integer satoshis when the result is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import numpy as np

from chaintrail.errors import UsageError
from chaintrail.limits import MAX_FRONTIER, MAX_TRACE_HOPS


class Direction(StrEnum):
    """Forward follows where money went; backward where it came from."""

    FORWARD = "forward"
    BACKWARD = "backward"


class TaintModel(StrEnum):
    """How taint spreads through a transaction (see docs/TRACING.md)."""

    POISON = "poison"
    HAIRCUT = "haircut"
    FIFO = "fifo"


class EndReason(IntEnum):
    """Why a trail ended at an output (the terminal's ``reason``)."""

    UNSPENT = 1  # forward: the coins are still there
    WINDOW = 2  # the next transaction is outside the height/time window
    MINED = 3  # backward: newly mined coins (coinbase)
    NO_DATA = 5  # backward: the creating tx's inputs are not in this store
    SERVICE = 6  # stop-at-services: a tagged service (exchange, mixer ...) received it
    MAX_HOPS = 7  # the hop limit was reached with taint still moving
    BUDGET = 8  # the work budget (time, result size) ran out with taint still moving

    @property
    def label(self) -> str:
        """Lower-case name used in JSON."""
        return self.name.lower()


class Rule(IntEnum):
    """How a flow record was derived: the taint model itself or a demixing rule."""

    MODEL = 0
    TOXIC_CHANGE = 1
    COSPEND = 2
    CONSOLIDATION = 3
    COMMON_DESTINATION = 4
    REMIX = 5
    ANONYMITY_SET = 6
    EXIT_CONSOLIDATION = 7
    AMOUNT = 8

    @property
    def label(self) -> str:
        """Lower-case name used in JSON."""
        return self.name.lower()


# confidence each demixing rule gives a link it makes (docs/TRACING.md explains each)
RULE_CONFIDENCE: dict[Rule, float] = {
    Rule.MODEL: 1.0,
    Rule.TOXIC_CHANGE: 0.9,
    Rule.COSPEND: 0.95,
    Rule.CONSOLIDATION: 0.85,
    Rule.COMMON_DESTINATION: 0.75,
    Rule.REMIX: 0.7,
    Rule.ANONYMITY_SET: 0.0,  # replaced by (party outputs / anonymity set) per mix
    Rule.EXIT_CONSOLIDATION: 0.8,
    Rule.AMOUNT: 0.9,
}


@dataclass(frozen=True)
class TraceParams:
    """Everything that shapes a trace besides its seeds."""

    direction: Direction = Direction.FORWARD
    model: TaintModel = TaintModel.HAIRCUT
    hops: int = 6
    min_value: int = 0  # outputs carrying less traced value are not followed
    height_from: int | None = None
    height_to: int | None = None
    time_from: int | None = None
    time_to: int | None = None
    stop_at_services: bool = False
    demix: bool = True
    max_frontier: int = 10_000  # outputs followed per hop; the rest is cut and reported
    max_paths: int = 3  # paths kept per terminal
    min_confidence: float = 0.0  # demix links below this confidence are not followed

    def __post_init__(self) -> None:
        for name, kind in (("direction", Direction), ("model", TaintModel)):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, kind(value))
            except ValueError as exc:
                choices = ", ".join(k.value for k in kind)
                raise UsageError(f"--{name}: expected one of {choices}; got {value!r}") from exc
        if not 0 <= self.hops <= MAX_TRACE_HOPS:
            raise UsageError(f"--hops must be between 0 and {MAX_TRACE_HOPS}, got {self.hops}")
        if self.min_value < 0:
            raise UsageError(f"--min-value must be >= 0 satoshis, got {self.min_value}")
        if not 1 <= self.max_frontier <= MAX_FRONTIER:
            raise UsageError(
                f"--max-frontier must be between 1 and {MAX_FRONTIER:,}, got {self.max_frontier}"
            )
        if not 0.0 <= self.min_confidence <= 1.0:
            raise UsageError(f"--min-confidence must be between 0 and 1, got {self.min_confidence}")
        if (
            self.height_from is not None
            and self.height_to is not None
            and self.height_from > self.height_to
        ):
            raise UsageError(
                f"height window is empty: from {self.height_from} > to {self.height_to}"
            )

    def window(self) -> tuple[int, int, int, int]:
        """(height_lo, height_hi, time_lo, time_hi) with open ends filled in."""
        big = 2**31 - 1
        return (
            self.height_from if self.height_from is not None else -(2**31),
            self.height_to if self.height_to is not None else big,
            self.time_from if self.time_from is not None else 0,
            self.time_to if self.time_to is not None else 2**32 - 1,
        )


@dataclass
class Seeds:
    """Outputs a trace starts from, with the traced satoshis of each (hop 0)."""

    out_ids: np.ndarray  # int64
    amounts: np.ndarray  # int64 satoshis traced in each
    description: str = ""
    # a seed output at a service ends there (tx/output seeds; an address is never its own stop)
    stop_at_seed: bool = False


@dataclass
class Cut:
    """Taint a trace did not follow, and why (frontier cap, minimum value)."""

    reason: str
    count: int = 0
    value: float = 0.0


SIDE_IN = 0  # taint left output ``out`` into tx ``tx`` (the output was spent by it)
SIDE_OUT = 1  # tx ``tx`` put taint on output ``out`` (the output was created by it)


@dataclass
class TraceFlow:
    """The raw outcome of a trace: every record of taint moving, at output/tx granularity.

    Records are in money order whatever the trace direction: ``rec_side`` SIDE_IN means taint
    went from output ``rec_out`` into tx ``rec_tx``, SIDE_OUT that ``rec_tx`` put it on
    ``rec_out``. Terminal outputs are where trails ended, with the reason.
    """

    params: TraceParams
    seeds: Seeds
    rec_side: np.ndarray  # uint8
    rec_tx: np.ndarray  # int64
    rec_out: np.ndarray  # int64
    rec_amt: np.ndarray  # float64 satoshis
    rec_conf: np.ndarray  # float64 0..1
    rec_rule: np.ndarray  # uint8 Rule
    rec_hop: np.ndarray  # int32
    term_out: np.ndarray
    term_amt: np.ndarray
    term_conf: np.ndarray
    term_reason: np.ndarray  # uint8 EndReason
    term_hop: np.ndarray
    fee: float = 0.0
    cuts: list[Cut] = field(default_factory=list)
    hops_done: int = 0
    txs_crossed: int = 0
    budget: dict | None = None  # why the work budget cut the trace short (None: it did not)


@dataclass
class TraceEdge:
    """A transfer between two nodes: traced satoshis, the txs that carried it, when."""

    source: str
    target: str
    amount: int
    txids: list[str]
    first_time: int
    last_time: int
    rules: list[str]
    confidence: float


@dataclass
class TraceNode:
    """An address (or a cluster) on the flow graph."""

    id: str
    kind: str  # "address" or "cluster"
    cluster_id: int | None
    label: str | None
    category: str | None
    received: int  # traced satoshis that reached it
    seed: bool
    terminal: bool


@dataclass
class Terminal:
    """Where a trail ended: the traced satoshis that ended there and the paths that explain it."""

    address: str
    cluster_id: int | None
    label: str | None
    category: str | None
    amount: int
    reasons: list[str]
    confidence: float
    paths: list[list[str]]
    # what a request to the receiving service needs: each tx that paid the traced value there,
    # {"txid", "time", "time_utc", "amount", "fiat_values", "rate_dates"}, oldest first
    deposits: list[dict[str, Any]] = field(default_factory=list)
    # what the amount rests on: the taint model, every demixing rule on its paths and, for a
    # service reached through its cluster's tag, the clustering heuristics
    assumptions: list[str] = field(default_factory=list)


@dataclass
class TraceResult:
    """The answer to a trace: flow graph, terminals with paths, and what was cut."""

    direction: str
    model: str
    hops: int
    seeds: str
    nodes: list[TraceNode]
    edges: list[TraceEdge]
    terminals: list[Terminal]
    traced: int  # satoshis traced at hop 0
    fee: int  # traced satoshis that went to miners as fees
    cut: list[dict[str, int | str]]
    hops_done: int
    txs_crossed: int
    # None, or why the work budget stopped the trace early: {"cut": "time"|"results"|
    # "cancelled"|"shutdown", "after_seconds", "limits"}; trails it stopped end "budget"
    budget: dict | None = None
