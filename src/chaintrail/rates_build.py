"""Build the shipped daily price files (``chaintrail/data/rates/``) from raw dumps.

``python -m chaintrail.rates_build SRC_DIR [OUT_DIR] [--ecb eurofxref-hist.csv]`` reads the
CoinMarketCap-layout files (``cmc_kaggle_coin_<Name>.csv``, column ``Close``) and the later
exchange closes (``exchange_daily_coin_<Name>.csv``, column ``close``), keeps one USD close per
UTC day (the CMC series wins where both have a day), and writes ``<ticker>.csv`` (``date,usd``
rows sorted by date). With ``--ecb`` it also writes ``usd_per_eur.csv`` (``date,usd_per_eur``):
the ECB euro reference rate in US dollars on each day the ECB fixed one, over the days the coin
prices cover.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from pathlib import Path

from chaintrail.errors import ValidationError

COINS = {"btc": "Bitcoin", "eth": "Ethereum"}


def _closes(path: Path, column: str) -> dict[str, float]:
    """One close per ISO day from one CSV; raises ValidationError naming the row on bad data."""
    out: dict[str, float] = {}
    with path.open(newline="") as fh:
        for line_no, row in enumerate(csv.DictReader(fh), start=2):
            day = (row.get("Date") or "")[:10]
            try:
                price = float(row[column])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValidationError(
                    f"line {line_no}: expected a number", source=str(path), field=column
                ) from exc
            if len(day) != 10 or price <= 0:
                raise ValidationError(
                    f"line {line_no}: expected a date and a positive price", source=str(path)
                )
            out[day] = price
    return out


def format_price(price: float) -> str:
    """Cents for prices >= 1 USD, six significant digits below (early ETH traded under 1 USD)."""
    return f"{price:.2f}" if price >= 1 else f"{price:.6g}"


def build(src: Path, out_dir: Path) -> dict[str, int]:
    """Write ``<ticker>.csv`` for every coin in COINS; return the number of days written per coin."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for ticker, name in COINS.items():
        days = _closes(src / f"exchange_daily_coin_{name}.csv", "close")
        days.update(_closes(src / f"cmc_kaggle_coin_{name}.csv", "Close"))
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write("date,usd\n")
            for day in sorted(days):
                fh.write(f"{day},{format_price(days[day])}\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_dir / f"{ticker}.csv")
        counts[ticker] = len(days)
    return counts


def build_usd_per_eur(ecb_csv: Path, out_dir: Path, first: str, last: str) -> int:
    """Write ``usd_per_eur.csv`` from the ECB's ``eurofxref-hist.csv`` (column ``USD``) for the
    fixing days from ``first`` to ``last`` (ISO dates); return the number of days written."""
    days = {d: p for d, p in _closes(ecb_csv, "USD").items() if first <= d <= last}
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as fh:
        fh.write("date,usd_per_eur\n")
        for day in sorted(days):
            fh.write(f"{day},{days[day]}\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out_dir / "usd_per_eur.csv")
    return len(days)


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    default_out = Path(__file__).resolve().parent / "data" / "rates"
    target = Path(args[1]) if len(args) > 1 else default_out
    counts = build(Path(args[0]), target)
    if "--ecb" in sys.argv:
        ecb = Path(sys.argv[sys.argv.index("--ecb") + 1])
        counts["usd_per_eur"] = build_usd_per_eur(ecb, target, "2013-04-01", "2025-07-31")
    print(counts)
