"""Address strings <-> keys: exact round trips, vectorised encoding, one-line user errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaintrail.chains.bitcoin.address import (
    _mask_by_kernel,
    address_key_to_string,
    address_string_to_key,
    encode_address_keys,
    valid_address_mask,
)
from chaintrail.chains.bitcoin.encoding import (
    Bech32Variant,
    b58check_encode,
    bech32_encode,
    convertbits,
    segwit_encode,
)
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


def _accepts(text: str) -> bool:
    try:
        address_string_to_key(text)
    except AddressError:
        return False
    return True


_payload = st.binary(min_size=20, max_size=20)
_program = st.binary(min_size=2, max_size=40)
_near_addresses = st.one_of(
    _payload.map(lambda h: b58check_encode(b"\x00" + h)),
    _payload.map(lambda h: b58check_encode(b"\x05" + h)),
    st.tuples(st.integers(0, 255), st.binary(min_size=19, max_size=22)).map(
        lambda vh: b58check_encode(bytes([vh[0]]) + vh[1])),
    st.tuples(st.integers(0, 16), _program, st.sampled_from(list(Bech32Variant))).map(
        lambda t: bech32_encode("bc", [t[0], *convertbits(t[1], 8, 5, True)], t[2])),
    st.tuples(st.sampled_from(["bc", "tb", "bcrt", "b"]), st.lists(st.integers(0, 31), max_size=70),
              st.sampled_from(list(Bech32Variant))).map(
        lambda t: bech32_encode(t[0], t[1], t[2])),
    st.sampled_from(MAINNET),
)  # fmt: skip


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(_near_addresses)
    how = draw(st.sampled_from(["keep", "upper", "flip", "drop", "swapcase1"]))
    if how == "upper":
        return text.upper()
    if how == "flip" and text:
        i = draw(st.integers(0, len(text) - 1))
        return text[:i] + draw(st.characters(codec="ascii")) + text[i + 1 :]
    if how == "drop" and text:
        i = draw(st.integers(0, len(text) - 1))
        return text[:i] + text[i + 1 :]
    if how == "swapcase1" and text:
        i = draw(st.integers(0, len(text) - 1))
        return text[:i] + text[i].swapcase() + text[i + 1 :]
    return text


@settings(max_examples=400, deadline=None)  # the first example compiles the numba kernel (seconds on a busy machine)
@given(texts=st.lists(st.one_of(_mutated(), st.text(max_size=100)), min_size=1, max_size=20))
def test_vectorised_validity_is_the_codec_verdict(texts: list[str]) -> None:
    verdicts = [_accepts(t) for t in texts]
    assert _mask_by_kernel(texts).tolist() == verdicts  # the kernel used past FEW_ADDRESSES
    assert valid_address_mask(texts).tolist() == verdicts
