"""numba kernels behind :mod:`chaintrail.chains.bitcoin.address`: address keys to text at
ingest volumes, and the validity of many address strings at once (TagPack and list imports).

Alphabets, checksum rules and version bytes come from :mod:`encoding` and :mod:`params`; the
kernels only apply them to arrays. Imported by ``address`` when a kernel is first needed.
"""

from __future__ import annotations

import numpy as np

from chaintrail.chains.bitcoin.encoding import (
    B58_ALPHABET,
    B58_ALPHABET_BYTES,
    BECH32_CHARSET,
    BECH32_CHARSET_BYTES,
    BECH32_CONST,
    BECH32_MAX_LEN,
    BECH32M_CONST,
    polymod_step,
)
from chaintrail.chains.bitcoin.hashing import sha256d_into
from chaintrail.chains.bitcoin.params import P2PKH_VERSION, P2SH_VERSION
from chaintrail.chains.model import ScriptType
from chaintrail.kernels import helper, kernel

T_P2PKH = int(ScriptType.P2PKH)
T_P2SH = int(ScriptType.P2SH)
T_P2WPKH = int(ScriptType.P2WPKH)
T_P2WSH = int(ScriptType.P2WSH)
T_P2TR = int(ScriptType.P2TR)
MAX_ADDRESS_LEN = 64  # a P2WSH/P2TR address is 62 characters


def _index_table(alphabet: str, fold_case: bool) -> np.ndarray:
    """int16[256]: the value of each byte in ``alphabet``, -1 for bytes outside it."""
    t = np.full(256, -1, np.int16)
    for i, ch in enumerate(alphabet):
        t[ord(ch)] = i
        if fold_case:
            t[ord(ch.upper())] = i
    return t


B58_INDEX = _index_table(B58_ALPHABET, False)
BECH32_INDEX = _index_table(BECH32_CHARSET, True)


# ---------------------------------------------------------------- keys -> text


@helper
def b58check_into(payload, n, state, block, w, tmp, out, row):  # type: ignore[no-untyped-def]
    """Base58Check-encode ``payload[:n]`` (n <= 60) into ``out[row]``; returns the length."""
    sha256d_into(state, block, w, payload, 0, n, tmp, 0)
    full = np.empty(n + 4, np.uint8)
    for i in range(n):
        full[i] = payload[i]
    for i in range(4):
        full[n + i] = tmp[i]
    total = n + 4
    zeros = 0
    while zeros < total and full[zeros] == 0:
        zeros += 1
    digits = np.zeros(total * 138 // 100 + 2, np.int64)
    ndig = 0
    for i in range(zeros, total):
        carry = np.int64(full[i])
        for j in range(ndig):
            carry += digits[j] << 8
            digits[j] = carry % 58
            carry //= 58
        while carry > 0:
            digits[ndig] = carry % 58
            ndig += 1
            carry //= 58
    k = 0
    for _ in range(zeros):
        out[row, k] = B58_ALPHABET_BYTES[0]
        k += 1
    for j in range(ndig - 1, -1, -1):
        out[row, k] = B58_ALPHABET_BYTES[digits[j]]
        k += 1
    return k


@helper
def segwit_into(hrp, version, prog, start, n, const, out, row):  # type: ignore[no-untyped-def]
    """Encode witness program ``prog[start:start+n]`` with lower-case ``hrp`` (uint8) into
    ``out[row]`` using checksum constant ``const``; returns the length."""
    data = np.empty(1 + (n * 8 + 4) // 5, np.int64)
    data[0] = version
    nd = 1
    acc = 0
    bits = 0
    for i in range(n):
        acc = ((acc << 8) | np.int64(prog[start + i])) & 0xFFFFFF
        bits += 8
        while bits >= 5:
            bits -= 5
            data[nd] = (acc >> bits) & 31
            nd += 1
    if bits:
        data[nd] = (acc << (5 - bits)) & 31
        nd += 1
    chk = 1
    for c in hrp:
        chk = polymod_step(chk, np.int64(c) >> 5)
    chk = polymod_step(chk, 0)
    for c in hrp:
        chk = polymod_step(chk, np.int64(c) & 31)
    for i in range(nd):
        chk = polymod_step(chk, data[i])
    for _ in range(6):
        chk = polymod_step(chk, 0)
    chk ^= const
    k = 0
    for c in hrp:
        out[row, k] = c
        k += 1
    out[row, k] = 0x31  # '1'
    k += 1
    for i in range(nd):
        out[row, k] = BECH32_CHARSET_BYTES[data[i]]
        k += 1
    for i in range(6):
        out[row, k] = BECH32_CHARSET_BYTES[(chk >> (5 * (5 - i))) & 31]
        k += 1
    return k


@helper
def _encode_one(keys, r, hrp, out, orow, state, block, w, tmp, payload):  # type: ignore[no-untyped-def]
    """Encode ``keys[r]`` into ``out[orow]``; returns its length (0: no address)."""
    t = keys[r, 0]
    if t == T_P2PKH or t == T_P2SH:
        payload[0] = P2PKH_VERSION if t == T_P2PKH else P2SH_VERSION
        for i in range(20):
            payload[1 + i] = keys[r, 1 + i]
        return b58check_into(payload, 21, state, block, w, tmp, out, orow)
    if t == T_P2WPKH:
        return segwit_into(hrp, 0, keys[r], 1, 20, BECH32_CONST, out, orow)
    if t == T_P2WSH:
        return segwit_into(hrp, 0, keys[r], 1, 32, BECH32_CONST, out, orow)
    if t == T_P2TR:
        return segwit_into(hrp, 1, keys[r], 1, 32, BECH32M_CONST, out, orow)
    return 0


@kernel(nogil=True)
def encode_keys_kernel(keys, hrp, out, lens):  # type: ignore[no-untyped-def]
    """Address text of each key row into ``out`` rows, its length into ``lens`` (0: none)."""
    state = np.zeros(10, np.int64)
    block = np.zeros(64, np.uint8)
    w = np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    payload = np.zeros(21, np.uint8)
    for r in range(keys.shape[0]):
        lens[r] = _encode_one(keys, r, hrp, out, r, state, block, w, tmp, payload)


@kernel(nogil=True)
def encode_keys_flat_kernel(keys, hrp, data, offsets):  # type: ignore[no-untyped-def]
    """Address text of each key row appended to ``data``, row ends in ``offsets[1:]``."""
    state = np.zeros(10, np.int64)
    block = np.zeros(64, np.uint8)
    w = np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    payload = np.zeros(21, np.uint8)
    row = np.zeros((1, MAX_ADDRESS_LEN), np.uint8)
    pos = 0
    offsets[0] = 0
    for r in range(keys.shape[0]):
        n = _encode_one(keys, r, hrp, row, 0, state, block, w, tmp, payload)
        for i in range(n):
            data[pos + i] = row[0, i]
        pos += n
        offsets[r + 1] = pos


# ---------------------------------------------------------------- text -> valid?


@helper
def _base58_ok(text, r, n, b58, buf, state, block, w, tmp) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``text[r, :n]`` is Base58Check of a 21-byte mainnet P2PKH/P2SH payload."""
    for j in range(25):
        buf[j] = 0
    for i in range(n):
        carry = np.int64(b58[text[r, i]])
        if carry < 0:
            return False
        for j in range(24, -1, -1):
            carry += np.int64(buf[j]) * 58
            buf[j] = carry & 0xFF
            carry >>= 8
        if carry != 0:
            return False  # more than 25 bytes
    lead = 0
    while lead < n and text[r, lead] == B58_ALPHABET_BYTES[0]:
        lead += 1
    zeros = 0
    while zeros < 25 and buf[zeros] == 0:
        zeros += 1
    if lead != zeros or (buf[0] != P2PKH_VERSION and buf[0] != P2SH_VERSION):
        return False
    sha256d_into(state, block, w, buf, 0, 21, tmp, 0)
    for j in range(4):
        if tmp[j] != buf[21 + j]:
            return False
    return True


@helper
def _segwit_ok(text, r, n, sep, bech, hrp) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``text[r, :n]`` (separator at ``sep``, hrp already matched) is a mainnet v0
    P2WPKH/P2WSH (bech32) or v1 P2TR (bech32m) address."""
    lower = 0
    upper = 0
    for i in range(n):
        c = text[r, i]
        if c < 33 or c > 126:
            return False
        if 97 <= c <= 122:
            lower += 1
        elif 65 <= c <= 90:
            upper += 1
    if lower and upper:
        return False
    n_data = n - sep - 1
    if n_data < 7:
        return False
    chk = 1
    for c in hrp:
        chk = polymod_step(chk, np.int64(c) >> 5)
    chk = polymod_step(chk, 0)
    for c in hrp:
        chk = polymod_step(chk, np.int64(c) & 31)
    acc = 0
    bits = 0
    n_prog = 0
    version = -1
    for i in range(sep + 1, n):
        v = np.int64(bech[text[r, i]])
        if v < 0:
            return False
        chk = polymod_step(chk, v)
        if i == sep + 1:
            version = v
        elif i < n - 6:
            acc = ((acc << 5) | v) & 0xFFF
            bits += 5
            if bits >= 8:
                bits -= 8
                n_prog += 1
    if bits >= 5 or (acc & ((1 << bits) - 1)) != 0:
        return False  # more than 4 padding bits, or padding bits not zero
    if version == 0:
        return chk == BECH32_CONST and (n_prog == 20 or n_prog == 32)
    return version == 1 and chk == BECH32M_CONST and n_prog == 32


@kernel()
def valid_addresses_kernel(text, lens, hrp, b58, bech, ok):  # type: ignore[no-untyped-def]
    """``ok[r]``: whether row ``r`` of ``text`` (``lens[r]`` ASCII bytes) is a mainnet address
    the chain codec accepts (``address_string_to_key`` would return its key)."""
    buf = np.zeros(25, np.uint8)
    state = np.zeros(10, np.int64)
    block = np.zeros(64, np.uint8)
    w = np.zeros(80, np.int64)
    tmp = np.zeros(32, np.uint8)
    nh = hrp.shape[0]
    for r in range(text.shape[0]):
        n = lens[r]
        ok[r] = False
        if n == 0 or n > BECH32_MAX_LEN:
            continue
        sep = -1
        for i in range(n - 1, -1, -1):
            if text[r, i] == 0x31:  # '1'
                sep = i
                break
        is_segwit = sep == nh
        if is_segwit:
            for i in range(nh):
                if text[r, i] | 0x20 != hrp[i]:
                    is_segwit = False
        if is_segwit:
            ok[r] = _segwit_ok(text, r, n, sep, bech, hrp)
        else:
            ok[r] = _base58_ok(text, r, n, b58, buf, state, block, w, tmp)
