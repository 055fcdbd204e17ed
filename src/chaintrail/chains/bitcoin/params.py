"""Bitcoin mainnet constants: network magic, address prefixes, consensus limits, genesis."""

from __future__ import annotations

NETWORK_NAME = "mainnet"

# blk*.dat record marker and P2P message start (pchMessageStart), as the bytes on disk.
MAGIC = bytes.fromhex("f9beb4d9")

# Base58Check version bytes (one byte each on mainnet).
P2PKH_VERSION = 0x00
P2SH_VERSION = 0x05
WIF_VERSION = 0x80
# Version bytes of other networks, recognised only to say "wrong network" in errors.
TESTNET_P2PKH_VERSION = 0x6F
TESTNET_P2SH_VERSION = 0xC4

# Segwit human-readable part; other networks' parts are named in errors.
BECH32_HRP = "bc"
OTHER_NETWORK_HRPS = {"tb": "testnet/signet", "bcrt": "regtest"}

# Consensus limits.
MAX_BLOCK_WEIGHT = 4_000_000
MAX_BLOCK_SERIALIZED_SIZE = 4_000_000  # a block's bytes can never exceed its weight
WITNESS_SCALE_FACTOR = 4
COIN = 100_000_000
MAX_MONEY = 21_000_000 * COIN
# No length prefix (tx count, script, witness item) may claim more than this before allocating
# (Bitcoin Core's MAX_SIZE is 0x02000000; nothing inside a 4 MB block can exceed 4 MB).
MAX_COMPACT_SIZE = 4_000_000
BLOCK_HEADER_SIZE = 80
BIP34_MIN_VERSION = 2

# The genesis block (height 0), display (RPC) hex.
GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
GENESIS_MERKLE_ROOT = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
GENESIS_ADDRESS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"

# Bitcoin Core's default JSON-RPC port on mainnet.
RPC_PORT = 8332
