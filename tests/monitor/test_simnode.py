"""The simulated node speaks Core's RPC shapes: the production client reads its verbose blocks
(every field cross-checked) exactly as its raw ones; raw transactions parse to Core's txids."""

from __future__ import annotations

import numpy as np

from chaintrail.chains.bitcoin.decode import decode_block
from chaintrail.chains.bitcoin.rawtx import spent_outpoints
from chaintrail.chains.bitcoin.rpc import fetch_blocks, fetch_raw_blocks
from chaintrail.chains.bitcoin.rpc_client import RpcClient
from chaintrail.chains.model import hash_to_hex
from chaintrail.sim.node import SimNode

from .conftest import SimChain


def test_verbose_and_raw_blocks_agree_and_requests_have_cores_shape(sim_chain: SimChain) -> None:
    node = SimNode(sim_chain.blocks, tip=140)
    try:
        with RpcClient(node.url, user="sim", password="sim") as client:
            heights = [0, 1, 127, 135, 140]
            verbose = fetch_blocks(client, heights)
            raw = fetch_raw_blocks(client, heights)
        for name in ("block_hash", "txid", "wtxid", "out_value", "out_addr_key", "in_prev_txid", "in_prev_vout"):
            assert np.array_equal(getattr(verbose, name), getattr(raw, name)), name
        shapes = {(c["method"], tuple(type(p).__name__ for p in c["params"])) for c in node.calls}
        assert shapes == {("getblockhash", ("int",)), ("getblock", ("str", "int"))}
        assert all(c["jsonrpc"] == "1.0" and isinstance(c["id"], int) for c in node.calls)
    finally:
        node.close()


def test_raw_transactions_parse_to_the_decoders_txids_and_outpoints(sim_chain: SimChain) -> None:
    block = sim_chain.blocks[135]  # has segwit and legacy spends, a CoinJoin
    b = decode_block(block)
    pos = 80 + 1 + (2 if b.n_txs >= 0xFD else 0)
    for t in range(b.n_txs):
        size = int(b.tx_size[t])
        txid, spends = spent_outpoints(block[pos : pos + size])
        assert txid == hash_to_hex(b.txid[t])
        if not b.tx_coinbase[t]:
            lo = int(b.tx_in_start[t])
            assert [(bytes(p), v) for p, v in spends] == [
                (b.in_prev_txid[j].tobytes(), int(b.in_prev_vout[j])) for j in range(lo, lo + int(b.tx_n_in[t]))
            ]
        pos += size
