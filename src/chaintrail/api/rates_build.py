"""Build the shipped daily price files (``chaintrail/data/rates/<ticker>.csv``) from raw dumps.

``python -m chaintrail.api.rates_build SRC_DIR [OUT_DIR]`` reads the CoinMarketCap-layout files
(``cmc_kaggle_coin_<Name>.csv``, column ``Close``) and the later exchange closes
(``exchange_daily_coin_<Name>.csv``, column ``close``), keeps one USD close per UTC day (the
CMC series wins where both have a day), and writes ``date,usd`` rows sorted by date.
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


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    default_out = Path(__file__).resolve().parent.parent / "data" / "rates"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else default_out
    print(build(Path(sys.argv[1]), target))
