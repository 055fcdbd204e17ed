"""Amounts: satoshis are integers everywhere; this module only shows them to people."""

from __future__ import annotations

SAT_PER_BTC = 100_000_000


def btc(sat: float | None, *, unit: bool = True, with_sat: bool = False) -> str:
    """Satoshis shown as BTC with 8 decimals, exactly, by integer arithmetic.

    Turnover totals (a busy exchange's lifetime ``total_received``) pass 2**53 satoshis, where
    ``sat / 1e8`` loses digits: 123456789012345678 sat is ``1,234,567,890.12345678`` here but
    ``...12345672`` through a float.

    ``None`` shows as ``-``; ``unit`` appends `` BTC``; ``with_sat`` also shows ``(N sat)``.
    A float (haircut shares) is rounded to the nearest satoshi first.
    """
    if sat is None:
        return "-"
    n = round(sat)
    whole, frac = divmod(abs(n), SAT_PER_BTC)
    text = f"{'-' if n < 0 else ''}{whole:,}.{frac:08d}" + (" BTC" if unit else "")
    return f"{text} ({n:,} sat)" if with_sat else text
