"""Ethereum mainnet constants: chain id, fork heights, event topics, stablecoin issuers, units."""

from __future__ import annotations

from chaintrail.chains.ethereum.hashing import event_topic, selector

NETWORK_NAME = "mainnet"
CHAIN_ID = 1
CURRENCY = "eth"
ETH_DECIMALS = 18
WEI_PER_GWEI = 10**9

# Fork heights that change what a block or receipt carries.
BYZANTIUM_BLOCK = 4_370_000  # receipts carry status instead of a state root
LONDON_BLOCK = 12_965_000  # baseFeePerGas, type-2 transactions
MERGE_BLOCK = 15_537_394  # first proof-of-stake block: no more block/uncle rewards
SHANGHAI_BLOCK = 17_034_870  # withdrawals

# topic0 of the events chaintrail decodes (keccak-256 of the signature; tests pin the values).
TRANSFER_TOPIC = event_topic("Transfer(address,address,uint256)")  # ERC-20 and ERC-721
USDT_ADDED_BLACKLIST_TOPIC = event_topic("AddedBlackList(address)")
USDT_REMOVED_BLACKLIST_TOPIC = event_topic("RemovedBlackList(address)")
USDT_DESTROYED_BLACK_FUNDS_TOPIC = event_topic("DestroyedBlackFunds(address,uint256)")
USDC_BLACKLISTED_TOPIC = event_topic("Blacklisted(address)")
USDC_UNBLACKLISTED_TOPIC = event_topic("UnBlacklisted(address)")

# The issuers' own contracts (lower-case). Freeze events are decoded from every contract that
# emits the signature; intel treats only these as the issuer's word.
USDT_CONTRACT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
USDC_CONTRACT = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"

# ERC-20 / ERC-721 function selectors ethereum-etl looks for in bytecode (contracts.py).
ERC20_SELECTORS = tuple(
    selector(s)
    for s in ("totalSupply()", "balanceOf(address)", "transfer(address,uint256)",
              "transferFrom(address,address,uint256)", "approve(address,uint256)",
              "allowance(address,address)")
)  # fmt: skip
ERC721_REQUIRED = tuple(selector(s) for s in ("ownerOf(uint256)", "balanceOf(address)",
                                              "approve(address,uint256)"))  # fmt: skip
ERC721_ANY_TRANSFER = tuple(selector(s) for s in ("transfer(address,uint256)",
                                                  "transferFrom(address,address,uint256)"))  # fmt: skip
# token metadata calls (eth_call data)
NAME_SELECTOR = selector("name()")
SYMBOL_SELECTOR = selector("symbol()")
DECIMALS_SELECTOR = selector("decimals()")
TOTAL_SUPPLY_SELECTOR = selector("totalSupply()")

# JSON-RPC default port of geth, Erigon, Nethermind, Reth.
RPC_PORT = 8545
