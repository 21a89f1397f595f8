"""``python -m dalda.generation RUN_DIR``: run the generation stage of an existing run directory.

It reads ``RUN_DIR/config.yaml`` (the resolved config every run writes) and ``RUN_DIR/plan.jsonl``. It is the
form ``accelerate launch -m dalda.generation RUN_DIR`` and ``torchrun -m dalda.generation RUN_DIR`` use to
spread rows over processes; ``dalda generate`` does the same from the CLI.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dalda.configure import load_config
from dalda.generation.sharding import Processes
from dalda.generation.stage import run_generate_stage
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
        config = load_config(run.config, args.overrides)
        summary = run_generate_stage(config, run)
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


if __name__ == "__main__":
    sys.exit(main())
