"""Ethereum: account-model blocks, receipts, logs, traces and tokens as columns (see batch.py)."""
