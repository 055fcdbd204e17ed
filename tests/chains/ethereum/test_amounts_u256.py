"""Amounts up to 2**256 - 1 survive every conversion and show exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from chaintrail.amounts import eth, units
from chaintrail.chains.ethereum import hexcodec, u256

U256 = st.integers(min_value=0, max_value=u256.MAX_U256)


@given(st.lists(U256, max_size=50))
def test_limbs_hex_and_big_endian_round_trip_any_uint256(values: list[int]) -> None:
    limbs = u256.from_ints(values)
    assert u256.to_ints(limbs) == values
    assert u256.to_ints(hexcodec.amounts([hex(v) for v in values])) == values
    assert u256.to_ints(u256.from_be_bytes(u256.to_be_bytes(limbs))) == values
    assert u256.total(limbs) == sum(values)


def test_big_endian_bytes_sort_as_the_numbers() -> None:
    values = [2**255, 1, 2**64, 0, 2**64 - 1, 10**20]
    be = u256.to_be_bytes(u256.from_ints(values))
    assert sorted(values) == [values[i] for i in sorted(range(6), key=lambda i: be[i].tobytes())]


def test_values_outside_uint256_are_refused_with_the_row() -> None:
    for bad in ([-1], [0, 2**256]):
        try:
            u256.from_ints(bad)
        except ValueError as exc:
            assert f"#{len(bad) - 1}" in str(exc)
        else:
            raise AssertionError("accepted a value outside uint256")
    try:
        hexcodec.amounts(["0x1", "0x" + "f" * 65])
    except hexcodec.HexColumnError as exc:
        assert exc.row == 1 and "more than 64 hex digits" in str(exc)


def test_wei_and_token_units_show_exactly() -> None:
    # 110 ETH (block 47218, tx 0) is above 2**64 wei; a float would round it
    assert eth(110_000_000_000_000_000_000) == "110.000000000000000000 ETH"
    assert units(2_500_000, 6, "USDT") == "2.500000 USDT"
    assert units(u256.MAX_U256, 18).endswith(".584007913129639935")
    assert units(u256.MAX_U256, 0, grouping=False) == str(u256.MAX_U256)
    assert units(None, 18) == "-"
    assert float(np.float64(u256.to_float(u256.from_ints([10**20]))[0])) == 1e20
