"""Limits the CLI and the API share, so a command and a request accept the same work
(docs/API.md, docs/TRACING.md). A light module: the CLI reads it when it defines its options."""

MAX_TRACE_HOPS = 50  # transactions a trace crosses at most
MAX_FRONTIER = 100_000  # outputs a trace may follow per hop (a work budget may allow fewer)
MAX_EXPOSURE_HOPS = 10  # hops an exposure or risk score looks through
MAX_LINK_DEPTH = 5  # off-chain links followed out from an entity
