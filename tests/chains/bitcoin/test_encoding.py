"""Base58Check, bech32 and bech32m against the BIP173/BIP350 test vectors, plus round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaintrail.chains.bitcoin.encoding import (
    Bech32Variant,
    b58check_decode,
    b58check_encode,
    b58decode,
    b58encode,
    bech32_decode,
    bech32_encode,
    segwit_decode,
    segwit_encode,
)
from chaintrail.errors import AddressError

# BIP173 / BIP350 test vectors (bip-0350.mediawiki "Test vectors").
VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
INVALID_BECH32 = [
    " 1nwldj5",
    "\x7f1axkwrx",
    "\x801eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    "pzry9x0s0muk",
    "1pzry9x0s0muk",
    "x1b4n0q5v",
    "li1dgmt3",
    "de1lg7wt\xff",
    "A1G7SGD8",
    "10a06t8",
    "1qzzfhee",
]
INVALID_BECH32M = [
    " 1xj0phk",
    "\x7f1g6xzxy",
    "\x801vctc34",
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",
    "1qyrz8wqd2c9m",
    "y1b0jsk6g",
    "lt1igcx5c0",
    "in1muywd",
    "mm1crxm3i",
    "au1s5cgom",
    "M1VUXWEZ",
    "16plkw9",
    "1p2gdwpf",
]
VALID_SEGWIT = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]
INVALID_SEGWIT = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
    "bc1gmk9yu",
]


def _spk(version: int, program: bytes) -> str:
    return (bytes([version + 0x50 if version else 0, len(program)]) + program).hex()


@pytest.mark.parametrize(
    ("text", "variant"),
    [(t, Bech32Variant.BECH32) for t in VALID_BECH32]
    + [(t, Bech32Variant.BECH32M) for t in VALID_BECH32M],
)
def test_valid_checksums_decode_and_a_flipped_character_breaks_them(text: str, variant) -> None:
    hrp, data, got = bech32_decode(text)
    assert got is variant
    assert bech32_encode(hrp, data, variant) == text.lower()
    pos = text.rfind("1")
    flipped = text[: pos + 1] + chr(ord(text[pos + 1]) ^ 1) + text[pos + 2 :]
    with pytest.raises(AddressError):
        bech32_decode(flipped)


@pytest.mark.parametrize(
    ("text", "variant"),
    [(t, Bech32Variant.BECH32) for t in INVALID_BECH32]
    + [(t, Bech32Variant.BECH32M) for t in INVALID_BECH32M],
)
def test_invalid_strings_are_rejected_for_their_variant(text: str, variant) -> None:
    try:
        _, _, got = bech32_decode(text)
    except AddressError:
        return
    assert got is not variant


@pytest.mark.parametrize(("address", "script_hex"), VALID_SEGWIT)
def test_valid_segwit_addresses(address: str, script_hex: str) -> None:
    hrp = "tb" if address.lower().startswith("tb") else "bc"
    version, program = segwit_decode(hrp, address)
    assert _spk(version, program) == script_hex
    assert segwit_encode(hrp, version, program) == address.lower()


@pytest.mark.parametrize("address", INVALID_SEGWIT)
def test_invalid_segwit_addresses(address: str) -> None:
    for hrp in ("bc", "tb"):
        with pytest.raises(AddressError):
            segwit_decode(hrp, address)


@pytest.mark.parametrize(("hrp", "version", "length"), [("BC", 0, 20), ("bc", 0, 21),
                         ("bc", 17, 32), ("bc", 1, 1), ("bc", 16, 41)])  # fmt: skip
def test_segwit_encode_refuses_invalid_programs(hrp: str, version: int, length: int) -> None:
    with pytest.raises(ValueError):
        segwit_encode(hrp, version, bytes(length))


def test_base58check_known_address_and_bad_checksum() -> None:
    payload = b"\x00" + bytes.fromhex("62e907b15cbf27d5425399ebf6f0fb50ebb88f18")
    assert b58check_encode(payload) == "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    assert b58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == payload
    with pytest.raises(AddressError, match="checksum"):
        b58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")
    with pytest.raises(AddressError, match="'0'"):
        b58decode("10")


@given(st.binary(max_size=60))
def test_base58_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data
    assert b58check_decode(b58check_encode(data)) == data


@given(st.integers(0, 16), st.binary(min_size=2, max_size=40))
def test_segwit_round_trip(version: int, program: bytes) -> None:
    if version == 0 and len(program) not in (20, 32):
        return
    text = segwit_encode("bc", version, program)
    assert segwit_decode("bc", text) == (version, program)
    assert segwit_decode("bc", text.upper()) == (version, program)
