"""Classify a scriptPubKey into a :class:`ScriptType` and derive its 33-byte address key.

The rules follow Bitcoin Core's ``Solver`` (``script/solver.cpp``) with one simplification:
any script starting with ``OP_RETURN`` is NULLDATA (Core also wants push-only data after it;
either way the output is provably unspendable and carries no address).

Address key (see :mod:`chaintrail.chains.model`): ``key[0]`` is the ScriptType the address is
shown as, ``key[1:]`` the hash payload zero-padded to 32 bytes. A P2PK output's key is the
P2PKH key of ``hash160(pubkey)``, as explorers show it. Outputs with no address get
``key[0] = 0xFF`` and a zero payload.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from chaintrail.chains.bitcoin.hashing import hash160_into, new_scratch
from chaintrail.chains.model import ADDR_KEY_LEN, NO_ADDRESS, ScriptType

# ScriptType values as plain ints for the kernels.
T_NONSTANDARD = int(ScriptType.NONSTANDARD)
T_P2PK = int(ScriptType.P2PK)
T_P2PKH = int(ScriptType.P2PKH)
T_P2SH = int(ScriptType.P2SH)
T_P2WPKH = int(ScriptType.P2WPKH)
T_P2WSH = int(ScriptType.P2WSH)
T_P2TR = int(ScriptType.P2TR)
T_MULTISIG = int(ScriptType.MULTISIG)
T_NULLDATA = int(ScriptType.NULLDATA)
T_WITNESS_UNKNOWN = int(ScriptType.WITNESS_UNKNOWN)

OP_0 = 0x00
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E
OP_1 = 0x51
OP_16 = 0x60
OP_RETURN = 0x6A
OP_DUP = 0x76
OP_EQUAL = 0x87
OP_EQUALVERIFY = 0x88
OP_HASH160 = 0xA9
OP_CHECKSIG = 0xAC
OP_CHECKMULTISIG = 0xAE


@njit(cache=True)
def _pubkey_len_for(header: int) -> int:
    """Length a public key starting with ``header`` must have (Core's CPubKey::GetLen)."""
    if header == 2 or header == 3:
        return 33
    if header == 4 or header == 6 or header == 7:
        return 65
    return 0


@njit(cache=True)
def _get_op(s, pos, end):  # type: ignore[no-untyped-def]
    """Read one opcode at ``s[pos]``: returns (opcode, data_start, data_len, next_pos); -1 on error."""
    if pos >= end:
        return -1, 0, 0, pos
    op = np.int64(s[pos])
    pos += 1
    n = 0
    if op <= 0x4B:
        n = op
    elif op == OP_PUSHDATA1:
        if end - pos < 1:
            return -1, 0, 0, pos
        n = np.int64(s[pos])
        pos += 1
    elif op == OP_PUSHDATA2:
        if end - pos < 2:
            return -1, 0, 0, pos
        n = np.int64(s[pos]) | (np.int64(s[pos + 1]) << 8)
        pos += 2
    elif op == OP_PUSHDATA4:
        if end - pos < 4:
            return -1, 0, 0, pos
        n = (
            np.int64(s[pos])
            | (np.int64(s[pos + 1]) << 8)
            | (np.int64(s[pos + 2]) << 16)
            | (np.int64(s[pos + 3]) << 24)
        )
        pos += 4
    else:
        return op, pos, 0, pos
    if end - pos < n:
        return -1, 0, 0, pos
    return op, pos, n, pos + n


@njit(cache=True)
def _is_multisig(s, start, end):  # type: ignore[no-untyped-def]
    """Core's MatchMultisig: OP_m <pubkey>... OP_n OP_CHECKMULTISIG with m <= n keys."""
    if end - start < 3 or s[end - 1] != OP_CHECKMULTISIG:
        return False
    op, _, _, pos = _get_op(s, start, end)
    if op < OP_1 or op > OP_16:
        return False
    required = op - 0x50
    n_keys = 0
    while True:
        op, d0, dn, nxt = _get_op(s, pos, end)
        if op < 0:
            return False
        if dn > 0 and _pubkey_len_for(s[d0]) == dn:
            n_keys += 1
            pos = nxt
            continue
        break
    if op < OP_1 or op > OP_16:
        return False
    if n_keys != op - 0x50 or n_keys < required:
        return False
    return nxt + 1 == end


@njit(cache=True)
def classify_into(s, start, length, keys, row, state, block, w, tmp):  # type: ignore[no-untyped-def]
    """Classify ``s[start:start+length]``; write its address key to ``keys[row]``; return type.

    ``state``/``block``/``w``/``tmp`` are hashing scratch (see :mod:`hashing`), used for P2PK.
    """
    end = start + length
    for i in range(ADDR_KEY_LEN):
        keys[row, i] = 0
    keys[row, 0] = NO_ADDRESS
    n = length
    # P2PKH: OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
    if (
        n == 25
        and s[start] == OP_DUP
        and s[start + 1] == OP_HASH160
        and s[start + 2] == 20
        and s[start + 23] == OP_EQUALVERIFY
        and s[start + 24] == OP_CHECKSIG
    ):
        keys[row, 0] = T_P2PKH
        for i in range(20):
            keys[row, 1 + i] = s[start + 3 + i]
        return T_P2PKH
    # P2SH: OP_HASH160 <20> OP_EQUAL
    if n == 23 and s[start] == OP_HASH160 and s[start + 1] == 20 and s[start + 22] == OP_EQUAL:
        keys[row, 0] = T_P2SH
        for i in range(20):
            keys[row, 1 + i] = s[start + 2 + i]
        return T_P2SH
    # witness program: OP_n <2..40 bytes>
    if 4 <= n <= 42 and (s[start] == OP_0 or OP_1 <= s[start] <= OP_16) and s[start + 1] + 2 == n:
        prog = n - 2
        if s[start] == OP_0:
            if prog == 20:
                keys[row, 0] = T_P2WPKH
            elif prog == 32:
                keys[row, 0] = T_P2WSH
            else:
                return T_NONSTANDARD
            for i in range(prog):
                keys[row, 1 + i] = s[start + 2 + i]
            return np.int64(keys[row, 0])
        if s[start] == OP_1 and prog == 32:
            keys[row, 0] = T_P2TR
            for i in range(32):
                keys[row, 1 + i] = s[start + 2 + i]
            return T_P2TR
        return T_WITNESS_UNKNOWN
    if n >= 1 and s[start] == OP_RETURN:
        return T_NULLDATA
    # P2PK: <33 or 65 byte pubkey> OP_CHECKSIG
    if (n == 35 or n == 67) and s[start] == n - 2 and s[end - 1] == OP_CHECKSIG:
        if _pubkey_len_for(s[start + 1]) == n - 2:
            keys[row, 0] = T_P2PKH
            hash160_into(state, block, w, s, start + 1, end - 1, tmp, keys[row], 1)
            return T_P2PK
    if _is_multisig(s, start, end):
        return T_MULTISIG
    return T_NONSTANDARD


@njit(cache=True)
def keeps_script(script_type: int) -> bool:
    """Whether the raw scriptPubKey is kept (P2PK and every type that has no address)."""
    return script_type in (
        T_P2PK,
        T_MULTISIG,
        T_NULLDATA,
        T_NONSTANDARD,
        T_WITNESS_UNKNOWN,
    )


def classify_script(script: bytes) -> tuple[ScriptType, bytes]:
    """Classify one scriptPubKey; returns its ScriptType and 33-byte address key."""
    buf = np.frombuffer(bytes(script), dtype=np.uint8)
    if buf.size == 0:
        buf = np.zeros(1, np.uint8)  # numba wants a non-empty array; length says 0
        length = 0
    else:
        length = buf.size
    keys = np.zeros((1, ADDR_KEY_LEN), np.uint8)
    state, block, w = new_scratch()
    tmp = np.zeros(32, np.uint8)
    t = classify_into(buf, 0, length, keys, 0, state, block, w, tmp)
    return ScriptType(int(t)), keys[0].tobytes()
