"""``python -m dalda.generation RUN_DIR``: run the generation stage of an existing run directory.

It reads ``RUN_DIR/config.yaml`` (the resolved config every run writes) and ``RUN_DIR/plan.jsonl``. It is the
form ``accelerate launch -m dalda.generation RUN_DIR`` and ``torchrun -m dalda.generation RUN_DIR`` use to
spread rows over processes; ``dalda generate`` does the same from the CLI.

One writer per run holds here too: the main process takes the run's lock (``dalda.ownership.locked``) before any
process reads or writes, and every process stops with one line when the lock is held elsewhere (a running
``dalda generate``, another launch) or the folder is not a dalda run directory.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack
from pathlib import Path

from dalda.configure import load_config
from dalda.generation.sharding import Processes
from dalda.generation.stage import run_generate_stage
from dalda.ownership import RunInUseError, is_dalda_run, locked
from dalda.rundir import RunDir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dalda.generation", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="run directory holding config.yaml and plan.jsonl")
    parser.add_argument("overrides", nargs="*", help="config overrides, section.field=value")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    run = RunDir(args.run_dir)
    try:
        if not run.config.is_file():
            raise FileNotFoundError(
                f"{args.run_dir} is not a run directory (no config.yaml); pass one made by `dalda run` or `dalda plan`"
            )
        if not is_dalda_run(run.root):
            raise RuntimeError(f"{args.run_dir} is not a dalda run directory (no {run.marker.name}); refusing to write it")
        config = load_config(run.config, args.overrides)
        processes = Processes.current(cpu=config.models.device == "cpu")
        with ExitStack() as held:
            _hold_run_lock(held, run, processes)
            summary = run_generate_stage(config, run, processes)
    except (ValueError, OSError, RuntimeError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    if Processes.current().is_main:
        print(
            f"planned {summary.planned}, done before {summary.done_before}, generated {summary.generated}, "
            f"failed {len(summary.failed)}",
            file=sys.stderr,
        )
    return 1 if summary.failed else 0


def _hold_run_lock(held: ExitStack, run: RunDir, processes: Processes) -> None:
    """The main process takes the run's lock for the whole stage; every process learns whether it got it, so all
    stop together (with the holder's name) instead of the other ranks writing into a run someone else owns."""
    refusal = ""
    if processes.is_main:
        try:
            held.enter_context(locked(run.root, "python -m dalda.generation"))
        except RunInUseError as error:
            refusal = str(error)
    refusals = [text for text in processes.gather([refusal]) if text]
    if refusals:
        raise RunInUseError(refusals[0])


if __name__ == "__main__":
    sys.exit(main())
