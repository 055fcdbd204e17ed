"""The chain store: Parquet segments + manifest, DuckDB views, dense ids, numba maps."""

from chaintrail.store.arrays import ChainArrays
from chaintrail.store.chainstore import ChainStore

__all__ = ["ChainArrays", "ChainStore"]
