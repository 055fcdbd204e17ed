"""What ingest says about its speed (issue 10, item 11): throughput is transactions over the time
spent ingesting, and numba's start-up and compilation are reported beside it, not inside it."""

from __future__ import annotations

import numba
import numpy as np

from chaintrail.jobs.ingest import IngestReport, describe
from chaintrail.kernels import compile_clock


def test_describe_keeps_compilation_out_of_the_rate() -> None:
    line = describe(IngestReport(blocks_added=439, txs_added=446, seconds=94.4, compile_seconds=92.4))
    assert line.startswith("439 blocks, 446 txs in 2.0 s (223 tx/s)")
    assert "plus 92.4 s starting numba and compiling its kernels" in line


def test_describe_without_compilation_says_nothing_about_it() -> None:
    line = describe(IngestReport(blocks_added=1, txs_added=100, seconds=2.0))
    assert line == "1 blocks, 100 txs in 2.0 s (50 tx/s)"


def test_compile_clock_measures_a_compilation() -> None:
    def double(a):  # type: ignore[no-untyped-def]
        return a * 2

    fresh = numba.njit(double)  # not cached: compiled inside the block
    with compile_clock() as clock:
        assert fresh(np.arange(3)).tolist() == [0, 2, 4]
    assert clock.seconds > 0
    with compile_clock() as again:
        fresh(np.arange(3))  # already compiled
    assert again.seconds == 0
