"""Address strings <-> keys: exact round trips, vectorised encoding, one-line user errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaintrail.chains.bitcoin.address import (
    address_key_to_string,
    address_string_to_key,
    encode_address_keys,
)
from chaintrail.chains.bitcoin.encoding import b58check_encode, segwit_encode
from chaintrail.chains.model import ScriptType
from chaintrail.errors import AddressError

MAINNET = [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S",  # Hal Finney, block 170
    "3CNHUhP3uyB9EUtRLsmvFUmvGdjGdkTxJw",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
]


@pytest.mark.parametrize("address", MAINNET)
def test_round_trip(address: str) -> None:
    key = address_string_to_key(address)
    assert len(key) == 33
    assert address_key_to_string(key) == address


def test_upper_case_bech32_is_the_same_address() -> None:
    low = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert address_string_to_key(low.upper()) == address_string_to_key(low)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "checksum"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "checksum"),
        ("bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mixed"),
        ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "testnet"),
        ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "testnet"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN0", "character '0'"),
        ("", "empty"),
        (" 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "whitespace"),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "witness v2"),
        (b58check_encode(b"\x00" + bytes(19)), "21"),  # wrong length
        (b58check_encode(b"\x30" + bytes(20)), "unknown version byte 0x30"),  # Litecoin L...
    ],
)
def test_bad_addresses_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(AddressError, match=message) as err:
        address_string_to_key(text)
    assert repr(text) in str(err.value)  # the message names the value
    assert "\n" not in str(err.value)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([2, 3, 4, 5, 6, 0xFF]), st.binary(min_size=32,
                          max_size=32)), min_size=1, max_size=40))  # fmt: skip
def test_vectorised_encoding_matches_the_reference_encoders(rows) -> None:
    keys = np.zeros((len(rows), 33), np.uint8)
    want = []
    for i, (kind, payload) in enumerate(rows):
        n = 20 if kind in (2, 3, 4) else 32
        keys[i, 0] = kind
        keys[i, 1 : 1 + n] = np.frombuffer(payload[:n], np.uint8)
        if kind == ScriptType.P2PKH:
            want.append(b58check_encode(b"\x00" + payload[:20]))
        elif kind == ScriptType.P2SH:
            want.append(b58check_encode(b"\x05" + payload[:20]))
        elif kind in (ScriptType.P2WPKH, ScriptType.P2WSH):
            want.append(segwit_encode("bc", 0, payload[:n]))
        elif kind == ScriptType.P2TR:
            want.append(segwit_encode("bc", 1, payload[:32]))
        else:
            want.append(None)
    got = encode_address_keys(keys)
    assert got == want
    for text, key in zip(got, keys, strict=True):
        if text is not None:
            assert address_string_to_key(text) == key.tobytes()


def test_leading_zero_hash_keeps_leading_ones() -> None:
    key = bytes([ScriptType.P2PKH]) + bytes(32)
    assert address_key_to_string(key) == "1111111111111111111114oLvT2"
