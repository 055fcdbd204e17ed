"""Start-up cost of a CLI lookup (issue 10, item 10): ``address`` and ``tx`` answer without
starting numba (its import and CPU-target start-up were most of a ~1-3 s lookup), and the
kernels they run as plain Python give exactly the answers the compiled kernels give.

No time is asserted (times are measured in ``bench/bench_startup.py``); what is asserted is that
the costly machinery is not started, and that skipping it changes no answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chaintrail.analysis.heuristics import tx_heuristics
from chaintrail.kernels import interpreted
from chaintrail.store import ChainStore

from .clirun import cli

BLOCKS = Path(__file__).parent.parent / "data" / "btc" / "blk_mainnet_blocks_0-438.dat"
HAL_FINNEY = "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
FIRST_PAYMENT = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"

PROBE = """
import json, sys
from chaintrail.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"numba": "numba" in sys.modules, "code": code}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup-store")
    assert cli("ingest", str(BLOCKS), "--store", str(path), "--json")[0] == 0
    assert cli("cluster", "--store", str(path), "--json")[0] == 0
    assert cli("tags", "add", HAL_FINNEY, "--label", "Hal", "--category", "user",
               "--store", str(path))[0] == 0  # fmt: skip
    return path


@pytest.mark.parametrize(
    "args", [("address", HAL_FINNEY), ("tx", FIRST_PAYMENT), ("address", HAL_FINNEY, "--json")]
)
def test_lookups_do_not_start_numba(store: Path, args: tuple[str, ...]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args, "--store", str(store)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    probe = json.loads(proc.stderr.strip().splitlines()[-1])
    assert probe == {"numba": False, "code": 0}, proc.stderr
    assert HAL_FINNEY in proc.stdout or "Hal" in proc.stdout


def test_interpreted_heuristics_equal_compiled_on_every_tx(store: Path) -> None:
    st = ChainStore.open(store)
    for tx_id in range(st.arrays().n_txs):
        compiled = tx_heuristics(st, tx_id)
        with interpreted():
            assert tx_heuristics(st, tx_id) == compiled, tx_id


def test_interpreted_address_lookup_equals_compiled(store: Path) -> None:
    st = ChainStore.open(store)
    n = st.arrays().n_addresses
    addresses = [a for a in st.address_strings(np.arange(n)) if a]
    compiled = st.address_ids(addresses)
    assert sorted(compiled.tolist()) == sorted(set(compiled.tolist())) and (compiled >= 0).all()
    with interpreted():
        assert st.address_ids(addresses[:50]).tolist() == compiled[:50].tolist()
        assert st.address_ids(["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"]).tolist() == [-1]
