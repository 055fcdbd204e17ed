"""Write JSON-RPC answers for blocks 17173049-17173050 from ethereum-etl's stream output.

The shared fixtures hold no recorded node answers for these two post-Shanghai blocks (EIP-1559
and type-2 transactions, withdrawals, failed transactions, a contract creation), only
ethereum-etl's output for them. This script writes the ``eth_getBlockByNumber(n, true)`` and
``eth_getBlockReceipts(n)`` answers a node gives, field names and hex encoding as in the
execution-apis spec, from that output. Fields ethereum-etl does not keep (signatures, mixHash,
per-receipt blooms, access lists) are left out: chaintrail ignores them anyway. So these files
test the RPC reader's mapping of modern fields; they are not an independent recording.

Run from the repository root: ``python tests/data/eth/make_rpc_from_etl.py``.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent
SRC = HERE / "etl" / "test_stream" / "blocks_17173049_17173050"
OUT = HERE / "rpc_from_etl"


def q(n):
    return None if n is None else hex(n)


def lines(name):
    return [json.loads(line) for line in (SRC / f"expected_{name}.json").read_text().splitlines()]


def main():
    blocks, txs, logs = lines("blocks"), lines("transactions"), lines("logs")
    for blk in blocks:
        n = blk["number"]
        btx = sorted((t for t in txs if t["block_number"] == n), key=lambda t: t["transaction_index"])
        block = {
            "baseFeePerGas": q(blk["base_fee_per_gas"]), "difficulty": q(blk["difficulty"]),
            "extraData": blk["extra_data"], "gasLimit": q(blk["gas_limit"]),
            "gasUsed": q(blk["gas_used"]), "hash": blk["hash"], "logsBloom": blk["logs_bloom"],
            "miner": blk["miner"], "nonce": blk["nonce"], "number": q(n),
            "parentHash": blk["parent_hash"], "receiptsRoot": blk["receipts_root"],
            "sha3Uncles": blk["sha3_uncles"], "size": q(blk["size"]),
            "stateRoot": blk["state_root"], "timestamp": q(blk["timestamp"]),
            "totalDifficulty": q(blk["total_difficulty"]),
            "transactionsRoot": blk["transactions_root"], "uncles": [],
            "withdrawalsRoot": blk["withdrawals_root"],
            "withdrawals": [{"index": q(w["index"]), "validatorIndex": q(w["validator_index"]),
                             "address": w["address"], "amount": q(w["amount"])}
                            for w in blk["withdrawals"]],
            "transactions": [],
        }
        receipts = []
        for t in btx:
            tx = {"blockHash": t["block_hash"], "blockNumber": q(n), "from": t["from_address"],
                  "gas": q(t["gas"]), "gasPrice": q(t["gas_price"]), "hash": t["hash"],
                  "input": t["input"], "nonce": q(t["nonce"]), "to": t["to_address"],
                  "transactionIndex": q(t["transaction_index"]), "value": q(t["value"]),
                  "type": q(t["transaction_type"])}
            if t["max_fee_per_gas"] is not None:
                tx["maxFeePerGas"] = q(t["max_fee_per_gas"])
                tx["maxPriorityFeePerGas"] = q(t["max_priority_fee_per_gas"])
                tx["chainId"] = "0x1"
            block["transactions"].append(tx)
            tlogs = sorted((lg for lg in logs if lg["transaction_hash"] == t["hash"]),
                           key=lambda lg: lg["log_index"])
            receipts.append({
                "blockHash": t["block_hash"], "blockNumber": q(n),
                "contractAddress": t["receipt_contract_address"],
                "cumulativeGasUsed": q(t["receipt_cumulative_gas_used"]),
                "effectiveGasPrice": q(t["receipt_effective_gas_price"]),
                "from": t["from_address"], "gasUsed": q(t["receipt_gas_used"]),
                "logs": [{"address": lg["address"], "topics": lg["topics"], "data": lg["data"],
                          "blockNumber": q(n), "transactionHash": lg["transaction_hash"],
                          "transactionIndex": q(lg["transaction_index"]),
                          "blockHash": lg["block_hash"], "logIndex": q(lg["log_index"]),
                          "removed": False} for lg in tlogs],
                "status": q(t["receipt_status"]), "to": t["to_address"],
                "transactionHash": t["hash"], "transactionIndex": q(t["transaction_index"]),
                "type": q(t["transaction_type"]),
            })
        for name, result in ((f"eth_getBlockByNumber_{q(n)}_true", block),
                             (f"eth_getBlockReceipts_{q(n)}", receipts)):
            doc = {"jsonrpc": "2.0", "id": 1, "result": result}
            (OUT / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
