"""chaintrail: trace Bitcoin funds, cluster and attribute addresses, exchange intelligence.

Data flows one way: ``chains`` (parse real formats into one columnar model) -> ``store``
(Parquet + DuckDB, dense integer ids) -> ``analysis`` (clustering, heuristics, tracing)
-> ``intel`` (tags, sanctions, off-chain links) -> ``api`` / ``cli``.
"""

__version__ = "0.1.0"
