"""Daily fiat prices shipped in ``chaintrail/data/rates/`` and the values built on them.

A block's USD rate is the close of the UTC day of its block time (``<ticker>.csv``). Its EUR
rate is that close divided by the ECB euro reference rate in dollars (``usd_per_eur.csv``) of
the same day or, on weekends and TARGET holidays when the ECB fixes none, of the last fixing
before it; :meth:`DailyRates.rate_dates` names both days. Outside the shipped range (before the
first day or after the last) there is no rate: ``rates`` is ``[]`` and every ``fiat_values``
is ``[]``; nothing is extrapolated.
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


class EurFixings:
    """ECB euro reference rates in US dollars on the days the ECB fixed one (sorted)."""

    def __init__(self, days: np.ndarray, usd_per_eur: np.ndarray) -> None:
        self.days = days  # days since 1970-01-01
        self.usd_per_eur = usd_per_eur

    @classmethod
    def from_csv(cls, path: Path) -> EurFixings:
        """Read ``date,usd_per_eur`` rows in date order; ValidationError names a bad line."""
        days: list[int] = []
        rates: list[float] = []
        with path.open(newline="") as fh:
            for line_no, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    day = _day_number(date.fromisoformat(row["date"]))
                    rate = float(row["usd_per_eur"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise ValidationError(
                        f"line {line_no}: expected date,usd_per_eur", source=str(path)
                    ) from exc
                if (days and day <= days[-1]) or rate <= 0:
                    raise ValidationError(
                        f"line {line_no}: expected a later date and a positive rate", source=str(path)
                    )
                days.append(day)
                rates.append(rate)
        return cls(np.asarray(days, np.int64), np.asarray(rates, np.float64))

    def on(self, day: int) -> tuple[float, int] | None:
        """(dollars per euro, fixing day) in force on ``day``: that day's fixing or the last one
        before it (at most a week back, as over Easter); None outside the shipped fixings."""
        i = int(np.searchsorted(self.days, day, "right")) - 1
        if i < 0 or day - int(self.days[i]) > 7:
            return None
        return float(self.usd_per_eur[i]), int(self.days[i])


def _day_number(d: date) -> int:
    return d.toordinal() - date(1970, 1, 1).toordinal()


def iso_day(day: int) -> str:
    """ISO date of a day number (days since 1970-01-01)."""
    return date.fromordinal(day + date(1970, 1, 1).toordinal()).isoformat()


class DailyRates:
    """USD closes per UTC day for one coin (and EUR through the ECB's fixings), looked up by
    unix time."""

    def __init__(
        self, ticker: str, first_day: int, usd: np.ndarray, eur_fixings: EurFixings | None = None
    ) -> None:
        self.ticker = ticker
        self.first_day = first_day
        self.usd = usd
        self.unit = 10 ** DECIMALS.get(ticker, 8)
        self.eur = eur_fixings or EurFixings(np.zeros(0, np.int64), np.zeros(0, np.float64))

    @classmethod
    def from_csv(cls, ticker: str, path: Path) -> DailyRates:
        """Read a ``date,usd`` file with consecutive days; ValidationError names a bad line."""
        days: list[int] = []
        prices: list[float] = []
        with path.open(newline="") as fh:
            for line_no, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    day = _day_number(date.fromisoformat(row["date"]))
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

    def eur_at(self, timestamp: int) -> float | None:
        """EUR price of one coin on the UTC day of ``timestamp`` (USD close / ECB fixing in
        force), or None without both."""
        usd = self.usd_at(timestamp)
        fix = self.eur.on(timestamp // DAY)
        return None if usd is None or fix is None else usd / fix[0]

    def rate_dates(self, timestamp: int) -> dict[str, str]:
        """The days the rates at ``timestamp`` come from: ``{"usd": day, "eur": ECB fixing day}``
        (a key is missing where there is no rate)."""
        out: dict[str, str] = {}
        if self.usd_at(timestamp) is not None:
            out["usd"] = iso_day(timestamp // DAY)
            fix = self.eur.on(timestamp // DAY)
            if fix is not None:
                out["eur"] = iso_day(fix[1])
        return out

    def rates_at(self, timestamp: int) -> list[dict]:
        """``[{"code": "eur", ...}, {"code": "usd", ...}]`` at that time (what there is)."""
        out = []
        for code, price in (("eur", self.eur_at(timestamp)), ("usd", self.usd_at(timestamp))):
            if price is not None:
                out.append({"code": code, "value": price})
        return out

    def fiat_values(self, amount: int, timestamp: int) -> list[dict]:
        """Fiat values (EUR, USD; cents) of ``amount`` base units at that time, ``[]`` if no rate."""
        return [
            {"code": r["code"], "value": round(amount * r["value"] / self.unit, 2)}
            for r in self.rates_at(timestamp)
        ]

    def fiat_of_days(self, amounts: list[tuple[int, int]]) -> list[dict]:
        """Fiat values (EUR, USD; cents) of amounts that moved on different UTC days
        (``(day number, base units)`` pairs), each at its own day's rate; ``[]`` when any day
        lacks a rate (a partial sum would read as the whole)."""
        totals = {"eur": 0.0, "usd": 0.0}
        for day, amount in amounts:
            found = {r["code"]: r["value"] for r in self.rates_at(day * DAY)}
            if set(found) != set(totals):
                return []
            for code in totals:
                totals[code] += amount * found[code] / self.unit
        return [{"code": c, "value": round(v, 2)} for c, v in totals.items()] if amounts else []

    def value(self, amount: int, timestamp: int) -> dict:
        """A GraphSense value object: ``{"value": amount, "fiat_values": [...]}``."""
        return {"value": int(amount), "fiat_values": self.fiat_values(amount, timestamp)}


def shipped_rates(ticker: str) -> DailyRates:
    """The shipped price series of ``ticker``; a coin without one gets an empty series."""
    folder = resources.files("chaintrail") / "data" / "rates"
    ref = folder / f"{ticker}.csv"
    if not ref.is_file():
        return DailyRates(ticker, 0, np.zeros(0, dtype=np.float64))
    with resources.as_file(ref) as path:
        rates = DailyRates.from_csv(ticker, path)
    with resources.as_file(folder / "usd_per_eur.csv") as path:
        rates.eur = EurFixings.from_csv(path)
    return rates
