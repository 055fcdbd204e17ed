"""Amounts shown to people are exact to the satoshi, however large."""

from __future__ import annotations

import numpy as np

from chaintrail.amounts import btc


def test_turnover_beyond_2_pow_53_satoshis_keeps_every_digit() -> None:
    assert btc(123_456_789_012_345_678) == "1,234,567,890.12345678 BTC"
    assert f"{123_456_789_012_345_678 / 1e8:,.8f}" != "1,234,567,890.12345678"  # why it exists


def test_small_negative_numpy_none_and_float_shares() -> None:
    assert btc(np.int64(-5)) == "-0.00000005 BTC"
    assert btc(None) == "-"
    assert btc(1_000_000_000, unit=False) == "10.00000000"
    assert btc(1234.6, with_sat=True) == "0.00001235 BTC (1,235 sat)"
