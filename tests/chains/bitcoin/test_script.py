"""scriptPubKey classification and address keys follow Bitcoin Core's Solver."""

from __future__ import annotations

import pytest

from chaintrail.chains.bitcoin.address import address_key_to_string
from chaintrail.chains.bitcoin.script import classify_script
from chaintrail.chains.model import ScriptType

GENESIS_PUBKEY = (
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb6"
    "49f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)
COMPRESSED = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
H20 = "751e76e8199196d454941c45d1b3a323f1433bd6"
H32 = "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"


@pytest.mark.parametrize(
    ("script_hex", "kind", "address"),
    [
        ("41" + GENESIS_PUBKEY + "ac", ScriptType.P2PK, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
        ("21" + COMPRESSED + "ac", ScriptType.P2PK, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"),
        ("76a914" + H20 + "88ac", ScriptType.P2PKH, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"),
        ("a914" + H20 + "87", ScriptType.P2SH, "3CNHUhP3uyB9EUtRLsmvFUmvGdjGdkTxJw"),
        ("0014" + H20, ScriptType.P2WPKH, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
        ("0020" + H32, ScriptType.P2WSH,
         "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),
        ("5120" + COMPRESSED[2:], ScriptType.P2TR,
         "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
        ("6002751e", ScriptType.WITNESS_UNKNOWN, None),
        ("5210" + H20[:32], ScriptType.WITNESS_UNKNOWN, None),
        ("0015" + H20 + "00", ScriptType.NONSTANDARD, None),  # v0 needs 20 or 32 bytes
        ("6a0b68656c6c6f20776f726c64", ScriptType.NULLDATA, None),
        ("6a", ScriptType.NULLDATA, None),
        ("51" + "21" + COMPRESSED + "41" + GENESIS_PUBKEY + "52ae", ScriptType.MULTISIG, None),
        ("52" + "21" + COMPRESSED + "51ae", ScriptType.NONSTANDARD, None),  # m > n
        ("21" + "05" + COMPRESSED[2:] + "ac", ScriptType.NONSTANDARD, None),  # bad key prefix
        ("", ScriptType.NONSTANDARD, None),
        ("76a914" + H20 + "88", ScriptType.NONSTANDARD, None),  # truncated P2PKH
    ],
)  # fmt: skip
def test_classification_and_shown_address(script_hex: str, kind: ScriptType, address) -> None:
    got_kind, key = classify_script(bytes.fromhex(script_hex))
    assert got_kind == kind
    assert len(key) == 33
    assert address_key_to_string(key) == address
    if address is None:
        assert key == b"\xff" + bytes(32)


def test_p2pk_key_is_the_p2pkh_key_of_the_same_pubkey() -> None:
    _, p2pk = classify_script(bytes.fromhex("21" + COMPRESSED + "ac"))
    _, p2pkh = classify_script(bytes.fromhex("76a914" + H20 + "88ac"))
    assert p2pk == p2pkh
    assert p2pk[0] == ScriptType.P2PKH
