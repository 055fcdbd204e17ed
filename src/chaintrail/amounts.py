"""Amounts: base units are integers everywhere; this module only shows them to people.

Satoshis, wei and token base units are all shown by one rule, :func:`units`: integer
arithmetic on Python ints, so nothing is lost however large the value (a uint256 token
balance has 78 digits; a float keeps 15-17).
"""

from __future__ import annotations

SAT_PER_BTC = 100_000_000
BTC_DECIMALS = 8
ETH_DECIMALS = 18  # 1 ETH = 10**18 wei


def units(
    value: int | float | None, decimals: int, symbol: str | None = None, *, grouping: bool = True
) -> str:
    """``value`` base units shown with ``decimals`` decimals, exactly, by integer arithmetic.

    ``units(1530219620000000000, 18, "ETH")`` is ``"1.530219620000000000 ETH"``; a token
    with 6 decimals (USDT, USDC) shows ``units(2_500_000, 6, "USDT")`` as ``"2.500000 USDT"``.
    ``None`` shows as ``-``; a float (a haircut share) is rounded to the nearest base unit
    first; ``decimals`` 0 shows a whole number. ``grouping`` puts thousands separators in the
    whole part.
    """
    if value is None:
        return "-"
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    n = round(value)
    whole, frac = divmod(abs(n), 10**decimals)
    text = f"{whole:,}" if grouping else str(whole)
    if decimals:
        text += f".{frac:0{decimals}d}"
    sign = "-" if n < 0 else ""
    return f"{sign}{text} {symbol}" if symbol else f"{sign}{text}"


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
    text = units(n, BTC_DECIMALS, "BTC" if unit else None)
    return f"{text} ({n:,} sat)" if with_sat else text


def eth(wei: int | float | None, *, unit: bool = True) -> str:
    """Wei shown as ETH with 18 decimals, exactly (``units(wei, 18, "ETH")``)."""
    return units(wei, ETH_DECIMALS, "ETH" if unit else None)
