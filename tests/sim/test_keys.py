"""Keys are consistent with scripts: every input's witness/scriptSig hashes to what it spends."""

from __future__ import annotations

import hashlib

import numpy as np
from bitcoin.core import CBlock
from bitcoin.core.script import CScript

from chaintrail.sim.keys import payloads_for, pubkey
from chaintrail.sim.ledger import P2PKH, P2SH, P2TR, P2WPKH, P2WSH


def _h160(b: bytes) -> bytes:
    return hashlib.new("ripemd160", hashlib.sha256(b).digest()).digest()


def _is_der(sig: bytes) -> bool:
    """A canonical DER ECDSA signature (low-S, minimal r) plus SIGHASH_ALL, 71-72 bytes."""
    if len(sig) not in (71, 72) or sig[0] != 0x30 or sig[1] != len(sig) - 3 or sig[-1] != 0x01:
        return False
    rlen = sig[3]
    r = sig[4 : 4 + rlen]
    s_at = 4 + rlen
    s = sig[s_at + 2 : s_at + 2 + sig[s_at + 1]]
    r_ok = (rlen == 33 and r[0] == 0 and r[1] >= 0x80) or (rlen == 32 and 0 < r[0] < 0x80)
    return sig[2] == 0x02 and r_ok and sig[s_at] == 0x02 and len(s) == 32 and 0 < s[0] < 0x80


def test_inputs_reveal_keys_that_hash_to_the_spent_script(tiny) -> None:
    spk: dict[tuple[bytes, int], bytes] = {}
    seen: dict[str, int] = {}
    for raw in tiny.raw_blocks:
        blk = CBlock.deserialize(raw)
        for tx in blk.vtx:
            for n, txin in enumerate(tx.vin):
                if tx.is_coinbase():
                    break
                script = spk.pop((txin.prevout.hash, txin.prevout.n))
                wit = list(tx.wit.vtxinwit[n].scriptWitness.stack) if tx.has_witness() else []
                if script[:3] == b"\x76\xa9\x14":  # P2PKH: <sig> <pubkey>
                    sig, pk = list(CScript(txin.scriptSig))
                    assert _h160(pk) == script[3:23] and _is_der(sig)
                    kind = "p2pkh"
                elif script[:2] == b"\xa9\x14":  # P2SH-P2WPKH
                    (redeem,) = list(CScript(txin.scriptSig))
                    assert _h160(redeem) == script[2:22]
                    assert redeem == b"\x00\x14" + _h160(wit[1]) and _is_der(wit[0])
                    kind = "p2sh-p2wpkh"
                elif script[:2] == b"\x00\x14":
                    assert _h160(wit[1]) == script[2:] and len(wit[1]) == 33 and _is_der(wit[0])
                    kind = "p2wpkh"
                elif script[:2] == b"\x00\x20":  # 2-of-3 multisig witness script
                    ws = wit[-1]
                    assert hashlib.sha256(ws).digest() == script[2:]
                    assert ws[0] == 0x52 and ws[-2:] == b"\x53\xae" and len(ws) == 105
                    assert wit[0] == b"" and _is_der(wit[1]) and _is_der(wit[2])
                    kind = "p2wsh"
                elif script[:2] == b"\x51\x20":
                    assert len(wit) == 1 and len(wit[0]) == 64
                    kind = "p2tr"
                else:
                    raise AssertionError(f"unexpected spent script {script.hex()}")
                if kind != "p2pkh":
                    assert txin.scriptSig == b"" or kind == "p2sh-p2wpkh"
                seen[kind] = seen.get(kind, 0) + 1
            for v, out in enumerate(tx.vout):
                if out.nValue > 0:
                    spk[(tx.GetTxid(), v)] = bytes(out.scriptPubKey)
    assert set(seen) == {"p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2wsh", "p2tr"}


def test_payloads_follow_the_script_rules() -> None:
    types = np.array([P2PKH, P2SH, P2WPKH, P2WSH, P2TR], np.uint8)
    pl = payloads_for(11, types)
    pk = [pubkey(11, a) for a in range(5)]
    assert all(len(k) == 33 and k[0] in (2, 3) for k in pk)
    assert pl[0, :20].tobytes() == _h160(pk[0]) and not pl[0, 20:].any()
    assert pl[1, :20].tobytes() == _h160(b"\x00\x14" + _h160(pk[1]))
    assert pl[2, :20].tobytes() == _h160(pk[2])
    ws = b"\x52" + b"".join(b"\x21" + pubkey(11, 3, k) for k in range(3)) + b"\x53\xae"
    assert pl[3].tobytes() == hashlib.sha256(ws).digest()
    assert payloads_for(12, types)[4].tobytes() != pl[4].tobytes()  # seed changes keys
