"""The one owner of the intel database per process: shared readers, one writer at a time,
re-entrant reads, and waiting (not failing) while another process holds the file."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chaintrail.errors import StoreError
from chaintrail.intel.attribution import add_tag
from chaintrail.intel.database import IntelDatabase, intel_path
from chaintrail.intel.store import IntelStore

W = "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"


def test_a_read_inside_a_read_goes_on_while_a_writer_waits(tmp_path: Path) -> None:
    add_tag(tmp_path, W, "first", abuse="ransomware")
    db = IntelDatabase.of(tmp_path)
    outer_open, writer_started, inner_done, wrote = (threading.Event() for _ in range(4))

    def reader() -> None:
        with db.reading() as cur:
            outer_open.set()
            writer_started.wait(30)
            with db.reading() as inner:  # must not queue behind the writer waiting for us
                assert inner.execute("SELECT count(*) FROM tags").fetchone() == (1,)
            inner_done.set()
            assert cur.execute("SELECT count(*) FROM tags").fetchone() == (1,)

    def writer() -> None:
        outer_open.wait(30)
        writer_started.set()
        add_tag(tmp_path, W, "second", abuse="ransomware")
        wrote.set()

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert inner_done.is_set() and wrote.is_set()
    with IntelStore.open(tmp_path, read_only=True) as st:
        assert [r["label"] for r in st.query("SELECT label FROM tags ORDER BY label")] == [
            "first",
            "second",
        ]


def test_a_write_inside_a_read_of_the_same_thread_is_refused(tmp_path: Path) -> None:
    add_tag(tmp_path, W, "first", abuse="ransomware")
    with IntelStore.open(tmp_path, read_only=True), pytest.raises(StoreError, match="inside a read"):
        add_tag(tmp_path, W, "second", abuse="ransomware")


HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(1.5)
con.close()
"""


def test_a_file_another_process_holds_is_waited_for(tmp_path: Path) -> None:
    add_tag(tmp_path, W, "first", abuse="ransomware")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(intel_path(tmp_path))], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with IntelStore.open(tmp_path, read_only=True) as st:  # waits for the other process
        assert st.query("SELECT count(*) AS n FROM tags") == [{"n": 1}]
    assert holder.wait(30) == 0
