"""Deployed contracts: the function selectors their code dispatches on, and ERC-20/721 look.

Selectors are read as ethereum-etl reads them: the operands of every PUSH4 in the code's first
basic block, i.e. before the first JUMPDEST, where Solidity's dispatcher compares the call's
selector. ``is_erc20``: all six ERC-20 functions present; ``is_erc721``: ownerOf, balanceOf,
approve and transfer or transferFrom (ethereum-etl's fuzzy rule; tokens often omit one).
Contracts of a batch come from successful create traces (address = the trace's ``to``, code =
its output), as ethereum-etl's ``extract_contracts`` derives them.
"""

from __future__ import annotations

import numpy as np

from chaintrail.chains.ethereum import params
from chaintrail.chains.ethereum.batch import EthBatch, TraceType, Var

_PUSH1, _PUSH32, _PUSH4, _JUMPDEST = 0x60, 0x7F, 0x63, 0x5B


def function_sighashes(code: bytes) -> list[int]:
    """Sorted distinct PUSH4 operands of the first basic block of ``code`` (4-byte selectors)."""
    found: set[int] = set()
    i, n = 0, len(code)
    while i < n:
        op = code[i]
        if op == _JUMPDEST and i > 0:
            break
        if _PUSH1 <= op <= _PUSH32:
            width = op - _PUSH1 + 1
            if op == _PUSH4 and i + 5 <= n:
                found.add(int.from_bytes(code[i + 1 : i + 5], "big"))
            i += width
        i += 1
    return sorted(found)


def interface_flags(sighashes: list[int]) -> tuple[bool, bool]:
    """``(is_erc20, is_erc721)`` of a contract with these selectors."""
    s = set(sighashes)

    def has(sel: bytes) -> bool:
        return int.from_bytes(sel, "big") in s

    erc20 = all(has(x) for x in params.ERC20_SELECTORS)
    erc721 = all(has(x) for x in params.ERC721_REQUIRED) and any(
        has(x) for x in params.ERC721_ANY_TRANSFER
    )
    return erc20, erc721


def set_contracts(b: EthBatch, address: np.ndarray, block_number: np.ndarray,
                  code: list[bytes | None]) -> None:  # fmt: skip
    """Fill the ``ct_*`` columns of ``b`` from addresses, block numbers and code."""
    sig = [function_sighashes(c) if c else [] for c in code]
    flags = [interface_flags(s) for s in sig]
    b.ct_address = np.ascontiguousarray(address, np.uint8).reshape(-1, 20)
    b.ct_block_number = np.asarray(block_number, np.int64)
    b.ct_bytecode = Var.from_rows(code)
    b.ct_sighashes = Var.from_rows([np.array(s, ">u4").tobytes() for s in sig], ">u4")
    b.ct_is_erc20 = np.array([f[0] for f in flags], bool)
    b.ct_is_erc721 = np.array([f[1] for f in flags], bool)


def contracts_from_traces(b: EthBatch) -> None:
    """Contracts of ``b`` = its successful create traces that name the new address."""
    rows = np.flatnonzero((b.tr_type == TraceType.CREATE) & (b.tr_status == 1) & b.tr_to_has)
    code = [b.tr_output.row(r).tobytes() if b.tr_output.has[r] else None for r in rows.tolist()]
    set_contracts(b, b.tr_to[rows], b.tr_block_number[rows], code)
