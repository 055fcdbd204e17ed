"""``chaintrail simulate``: generate a simulated chain with crime scenarios and ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chaintrail.cli.common import JsonOption, console, emit_json, err_console, styled
from chaintrail.kernels import compile_clock

_PHASES = {"plan": "planning economy", "serialise": "writing blocks", "truth": "writing truth"}


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to the main app."""

    @app.command()
    def simulate(
        out: Annotated[Path, typer.Option("--out", help="Output directory (blocks/ and truth/).")],
        preset: Annotated[
            str,
            typer.Option(
                "--preset", help="tiny (~8k txs), small (~50k), medium (~1M), large (~10M)."
            ),
        ] = "small",
        seed: Annotated[
            int, typer.Option("--seed", help="Random seed; same seed, same bytes.")
        ] = 1,
        variant: Annotated[
            str,
            typer.Option(
                "--variant",
                help="Economy variant: baseline, drift, privacy, households, custodial, launder, "
                "coinjoin_zoo, legacy, mixed, or a TOML file of behaviour knobs "
                "(docs/SIMULATOR.md).",
            ),
        ] = "baseline",
        force: Annotated[
            bool, typer.Option("--force", help="Replace existing blocks/ and truth/.")
        ] = False,
        json_out: JsonOption = False,
    ) -> None:
        """Write Bitcoin Core blk files of a simulated economy plus its ground truth."""
        from chaintrail.sim import simulate as run

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, advance: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(_PHASES[phase], total=total)
                bar.update(tasks[phase], advance=advance, total=max(total, advance))

            with compile_clock() as clock:
                result = run(preset, seed, out, variant=variant, force=force, progress=progress)
        ransom = result.scenario_seeds.get("ransomware", [])
        if json_out:
            emit_json(
                {
                    "out_dir": str(result.out_dir),
                    "preset": result.preset,
                    "seed": result.seed,
                    "variant": result.variant,
                    "blocks": result.n_blocks,
                    "transactions": result.n_txs,
                    "addresses": result.n_addresses,
                    "block_files": [str(f) for f in result.block_files],
                    "bytes": result.bytes_on_disk,
                    "seconds": round(result.seconds, 3),
                    "compile_seconds": round(min(clock.seconds, result.seconds), 3),
                    "scenario_seed_addresses": result.scenario_seeds,
                }
            )
            return
        console.print(
            styled("simulated", "bold green"),
            f"{result.variant} economy: {result.n_txs:,} transactions in {result.n_blocks:,} blocks "
            f"({result.bytes_on_disk / 1e6:.1f} MB, {len(result.block_files)} blk files) "
            f"in {result.seconds - min(clock.seconds, result.seconds):.1f}s"
            + (f", plus {clock.seconds:.1f} s compiling numba kernels (cached after the first run)"
               if clock.seconds >= 0.05 else "")
        )  # fmt: skip
        console.print(f"blocks: {result.out_dir / 'blocks'}   truth: {result.out_dir / 'truth'}")
        console.print("ransomware seed addresses (start an investigation here):")
        for a in ransom:
            console.print(f"  {a}")
