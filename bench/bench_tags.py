"""Tag import throughput: chaintrail's full import vs plain ``yaml.safe_load`` of the same packs.

    python bench/bench_tags.py /work/shared/data/graphsense-tagpacks

Imports every TagPack (and ActorPack) under the folder into a fresh intel store (parse, validate,
address checksums, one DuckDB transaction), and prints tags/s beside the baseline measured in the
same run: only loading the same files with PyYAML's ``safe_load`` (C loader if available), which
neither validates nor stores anything.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from chaintrail.intel.importer import collect, import_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("path", type=Path, help="a graphsense-tagpacks folder (packs/ and actors/)")
    args = ap.parse_args()
    jobs = collect([args.path])
    packs = [p for kind, p in jobs if kind == "tagpack"]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    t0 = time.perf_counter()
    n_base = 0
    for p in packs:
        with p.open("rb") as fh:
            n_base += len(yaml.load(fh, Loader=loader)["tags"])
    t_base = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = import_paths(tmp, [args.path])
        t_full = time.perf_counter() - t0
        t0 = time.perf_counter()
        import_paths(tmp, [args.path])
        t_again = time.perf_counter() - t0

    assert s.tags + s.duplicates == n_base, (s.tags, s.duplicates, n_base)
    print(
        f"packs: {s.tagpacks} TagPacks, {s.tags:,} tags, {s.actors:,} actors, {s.n_warnings} warnings"
    )
    print(
        f"baseline yaml.{loader.__name__} load only: {t_base:.2f} s, {n_base / t_base:,.0f} tags/s"
    )
    print(f"chaintrail import (parse+validate+store):   {t_full:.2f} s, {s.tags / t_full:,.0f} tags/s "
          f"({t_base / t_full:.2f}x the baseline's speed)")  # fmt: skip
    print(
        f"re-import (replaces, idempotent):           {t_again:.2f} s, {s.tags / t_again:,.0f} tags/s"
    )


if __name__ == "__main__":
    main()
