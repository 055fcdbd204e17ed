"""Tracing with attribution: the analysis layer's trace context, told what addresses are.

``analysis`` must not import ``intel``; it takes an attribution loader instead. This is the one
place that hands it the intel attribution (tags resolved with their clusters, see
:mod:`chaintrail.intel.attribution_rules`), for the CLI's ``trace``/``exposure``/``risk`` and the
API's ``/v1`` alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chaintrail.analysis.trace_store import TraceContext, open_context
from chaintrail.intel.attribution import Attribution, load_attribution


def _attribution(store: Any, cluster_of: np.ndarray | None) -> Attribution:
    return load_attribution(store.root, store, cluster_of)


def open_trace_context(store: Any) -> TraceContext:
    """The trace context of ``store`` with its tags resolved over its clusters."""
    return open_context(store, _attribution)
