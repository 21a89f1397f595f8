"""What a grid holds before and while it runs: ``--status`` and ``--dry-run`` tables (nothing is computed).

``--status`` reads each cell's state from the filesystem (``runner.cell_state``), so it answers the same from
any machine that sees the out_dir. ``--dry-run`` lists each cell's work (``shards.cell_work``): images to
generate, chat requests, textual-inversion steps, and hours on the hardware of the recorded throughput rows.
A grid's prompts are made once per dataset and prompt settings, so their chat requests are counted for the
first cell that makes them and not at all when they are already stored.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from dalda.artefacts import ARTEFACTS_BY_NAME
from dalda.experiments.runner import grid_states, load_grid
from dalda.experiments.shards import Throughput, cell_work, estimate_seconds, partition
from dalda.experiments.shared_artefacts import SharedStore


def status_table(spec_path: Path, models_profile: str | None, out: Path | None, shards: int | None) -> Table:
    spec, _, grid = load_grid(spec_path, models_profile, out)
    states = grid_states(grid)
    shard_of = {}
    if shards:
        shard_of = {cell.key: i for i, part in enumerate(partition(grid, shards)) for cell in part}
    counts = {state: list(states.values()).count(state) for state in ("done", "running", "failed", "pending")}
    title = f"{spec.name}: " + ", ".join(f"{n} {state}" for state, n in counts.items())
    table = Table(title=title)
    table.add_column("cell", no_wrap=True)
    table.add_column("state")
    if shards:
        table.add_column(f"shard (of {shards})")
    colours = {"done": "green", "running": "cyan", "failed": "red", "pending": "yellow"}
    for cell in grid:
        state = states[cell.key]
        row = [cell.key, f"[{colours[state]}]{state}[/]"]
        if shards:
            row.append(str(shard_of[cell.key]))
        table.add_row(*row)
    return table


def dry_run_table(
    spec_path: Path, models_profile: str | None, out: Path | None, speed: Throughput
) -> tuple[Table, str]:
    """The per-cell table and a closing paragraph (totals, which hardware the hours are for)."""
    spec, out_dir, grid = load_grid(spec_path, models_profile, out)
    store = SharedStore(out_dir)
    prompts = ARTEFACTS_BY_NAME["prompts"]
    asked: set[Path] = set()
    table = Table(title=f"{spec.name}: {len(grid)} cells (dry run: nothing runs)")
    for column in ("cell", "classes", "images", "LLM requests", "TI steps", "hours"):
        table.add_column(column, justify="left" if column == "cell" else "right", no_wrap=column == "cell")
    totals = {"images": 0, "requests": 0, "seconds": 0.0}
    unknown_classes = []
    for cell in grid:
        work = cell_work(cell)
        requests = work.llm_requests
        folder = store.folder(prompts, cell.dataset, cell.config)
        if requests and (folder in asked or folder.is_dir()):
            requests = 0  # shared: asked by an earlier cell of the grid, or already stored
        asked.add(folder)
        seconds = estimate_seconds(work, cell.config, speed)
        if work.classes is None:
            unknown_classes.append(cell.key)
        totals["images"] += work.images
        totals["requests"] += requests
        totals["seconds"] += seconds
        classes = "?" if work.classes is None else str(work.classes)
        hours = f"{seconds / 3600:.2f}"
        table.add_row(cell.key, classes, f"{work.images:,}", str(requests), f"{work.ti_steps:,}", hours)
    hardware = "GPU" if speed.gpu else "CPU"
    lines = [
        f"total: {totals['images']:,} images, {totals['requests']} LLM requests, "
        f"{totals['seconds'] / 3600:.1f} {hardware}-hours on {speed.hardware} ({speed.source})."
    ]
    if not speed.gpu:
        lines.append(
            "These are CPU-only estimates: the throughput file has no GPU rows yet, so the hours are for the CPU "
            "it records and far above what a GPU needs. Add a gpu row (benchmarks/bench_generation.py) for GPU-hours."
        )
    lines.append("Counted: generation and textual-inversion denoising steps, backbone encodings; not counted: "
                 "model loading, LLM latency, evaluation.")  # fmt: skip
    if unknown_classes:
        lines.append(f"{len(unknown_classes)} cell(s) have an unknown class count (counted as 1 class), e.g. "
                     f"{unknown_classes[0]}; give data.root an existing folder to count them.")  # fmt: skip
    return table, "\n".join(lines)
