"""Daily fiat prices shipped in ``chaintrail/data/rates/<ticker>.csv`` and the values built on them.

A block's rate is the USD close of the UTC day of its block time. Outside the shipped range
(before the first day or after the last) there is no rate: ``rates`` is ``[]`` and every
``fiat_values`` is ``[]``; nothing is extrapolated.
"""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np

from chaintrail.errors import ValidationError

DAY = 86_400
# base units per coin: satoshi for btc, wei for eth
DECIMALS = {"btc": 8, "eth": 18}


class DailyRates:
    """USD closes per UTC day for one coin, looked up by unix time in O(1)."""

    def __init__(self, ticker: str, first_day: int, usd: np.ndarray) -> None:
        self.ticker = ticker
        self.first_day = first_day
        self.usd = usd
        self.unit = 10 ** DECIMALS.get(ticker, 8)

    @classmethod
    def from_csv(cls, ticker: str, path: Path) -> DailyRates:
        """Read a ``date,usd`` file with consecutive days; ValidationError names a bad line."""
        days: list[int] = []
        prices: list[float] = []
        with path.open(newline="") as fh:
            for line_no, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    day = date.fromisoformat(row["date"]).toordinal() - date(1970, 1, 1).toordinal()
                    price = float(row["usd"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise ValidationError(
                        f"line {line_no}: expected date,usd", source=str(path)
                    ) from exc
                if days and day != days[-1] + 1:
                    raise ValidationError(
                        f"line {line_no}: expected the day after {days[-1]}", source=str(path)
                    )
                days.append(day)
                prices.append(price)
        return cls(ticker, days[0] if days else 0, np.asarray(prices, dtype=np.float64))

    def usd_at(self, timestamp: int) -> float | None:
        """USD close of the UTC day of ``timestamp``, or None outside the shipped range."""
        idx = timestamp // DAY - self.first_day
        if 0 <= idx < self.usd.shape[0]:
            return float(self.usd[idx])
        return None

    def rates_at(self, timestamp: int) -> list[dict]:
        """``[{"code": "usd", "value": ...}]`` at that time, ``[]`` outside the range."""
        usd = self.usd_at(timestamp)
        return [] if usd is None else [{"code": "usd", "value": usd}]

    def fiat_values(self, amount: int, timestamp: int) -> list[dict]:
        """Fiat values of ``amount`` base units at that time (USD, cents), ``[]`` if no rate."""
        usd = self.usd_at(timestamp)
        return [] if usd is None else [{"code": "usd", "value": round(amount * usd / self.unit, 2)}]

    def value(self, amount: int, timestamp: int) -> dict:
        """A GraphSense value object: ``{"value": amount, "fiat_values": [...]}``."""
        return {"value": int(amount), "fiat_values": self.fiat_values(amount, timestamp)}


def shipped_rates(ticker: str) -> DailyRates:
    """The shipped price series of ``ticker``; a coin without one gets an empty series."""
    ref = resources.files("chaintrail") / "data" / "rates" / f"{ticker}.csv"
    if not ref.is_file():
        return DailyRates(ticker, 0, np.zeros(0, dtype=np.float64))
    with resources.as_file(ref) as path:
        return DailyRates.from_csv(ticker, path)
