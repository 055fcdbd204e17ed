"""The numba SHA-256 / RIPEMD-160 kernels and the pure-Python fallback agree with hashlib."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaintrail.chains.bitcoin import hashing

# lengths around the 55/56/64-byte padding boundaries and multi-block messages
EDGE_LENGTHS = [0, 1, 3, 31, 32, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000]


@pytest.mark.parametrize("n", EDGE_LENGTHS)
def test_sha256_kernel_matches_hashlib_at_padding_edges(n: int) -> None:
    data = bytes((i * 7 + n) & 0xFF for i in range(n))
    assert hashing.sha256_numba(data) == hashlib.sha256(data).digest()


@pytest.mark.parametrize("n", EDGE_LENGTHS)
def test_ripemd160_kernel_and_pure_python_match_hashlib(n: int) -> None:
    data = bytes((i * 13 + n) & 0xFF for i in range(n))
    want = hashlib.new("ripemd160", data).digest()
    assert hashing.ripemd160_numba(data) == want
    assert hashing.ripemd160_pure(data) == want


def test_known_digests() -> None:
    # FIPS 180-2 "abc" and the RIPEMD-160 paper's "abc" vector
    assert hashing.sha256_numba(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert hashing.ripemd160_pure(b"abc").hex() == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_sha256_and_ripemd160_random(data: bytes) -> None:
    assert hashing.sha256_numba(data) == hashlib.sha256(data).digest()
    assert hashing.ripemd160_numba(data) == hashlib.new("ripemd160", data).digest()


def test_hash160_of_genesis_pubkey() -> None:
    pubkey = bytes.fromhex(
        "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb6"
        "49f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
    )
    assert hashing.hash160(pubkey).hex() == "62e907b15cbf27d5425399ebf6f0fb50ebb88f18"
