"""What the truth says about one crime scenario while it runs (ids; the truth writer makes
strings)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ScenarioRecord:
    """Seeds, txs and terminals of one scenario (tx and address ids)."""

    name: str
    kind: str
    perpetrators: list[int]
    notes: str
    seed_addresses: list[int] = field(default_factory=list)
    txs: list[int] = field(default_factory=list)
    terminals: dict[int, int] = field(default_factory=dict)  # address id -> satoshis
    total: int = 0

    def terminal(self, addr: int, amount: int) -> None:
        """Record that exchange deposit address ``addr`` received ``amount`` scenario sats."""
        self.terminals[addr] = self.terminals.get(addr, 0) + amount
