"""The `dalda` command line: a thin layer over `dalda.pipeline`, one subcommand per stage plus `run`.

Each subcommand resolves the config (a YAML file, else the run directory's own config.yaml, else defaults;
then `--set section.field=value` overrides), writes it to the run directory and runs its stage. Errors are
printed to stderr as one clear message, without a traceback, and exit with status 1.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from dalda.config import ConfigError, DaldaConfig
from dalda.ownership import is_dalda_run
from dalda.rundir import RunDir

app = typer.Typer(
    help="DALDA data augmentation: few real images per class -> synthetic training set -> better classifier.",
    no_args_is_help=True,
    add_completion=False,
)
LOG_FILE_VARIABLE = "DALDA_LOG_FILE"
"""Set by ``--log-file``; grid workers started as subprocesses inherit it and log to the same file."""
_PLAIN_WIDTH = 240
"""Width of what dalda prints when the stream is not a terminal: wide enough that a table's last column is not cut
and a log line is never wrapped mid-sentence."""
stderr = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else _PLAIN_WIDTH)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="YAML config file, or a shipped one by name (demo); default: the run directory's config.yaml.",
    ),
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Run directory (overrides out_dir).")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config value, e.g. -s data.shots=4 -s models.profile=tiny."),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]
RegenerateOption = Annotated[
    bool,
    typer.Option(
        "--regenerate",
        help="Discard and remake finished outputs that a changed field or missing files invalidate (without it "
        "such a command stops and names the cause); for prompts, ask the LLM again. This command only; never saved.",
    ),
]


def _with_regenerate(overrides: list[str] | None, regenerate: bool, prompts: bool = False) -> list[str]:
    """``--regenerate`` is an action of one command: overrides that the run's stored config never keeps
    (``regenerate``; with ``prompts``, the commands that run the prompts stage, ``prompts.regenerate`` too)."""
    actions = ["regenerate=true", *(["prompts.regenerate=true"] if prompts else [])] if regenerate else []
    return [*(overrides or []), *actions]


class _UtcFormatter(logging.Formatter):
    """``2026-12-08T03:10:00Z INFO message``: one unwrapped line per record, in UTC, for logs read later."""

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")


def _setup_logging(verbose: bool) -> None:
    """Rich output on a terminal; timestamped plain lines elsewhere (nohup, Slurm, pipes); and every line to the
    ``--log-file`` too, if given."""
    if stderr.is_terminal:
        handlers: list[logging.Handler] = [RichHandler(console=stderr, show_path=False, show_time=False)]
    else:
        handlers = [logging.StreamHandler(sys.stderr)]
        handlers[0].setFormatter(_UtcFormatter())
    log_file = os.environ.get(LOG_FILE_VARIABLE)
    if log_file:
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(_UtcFormatter())
        handlers.append(to_file)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=handlers, force=True)
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "urllib3", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def shipped_or_given(path: Path) -> Path:
    """``path`` itself when it exists, else the config of that name shipped inside the package.

    The repository's ``configs/`` folder is installed as ``dalda/configs`` (package data), so the README's
    ``--config configs/demo.yaml`` and ``dalda experiment configs/experiments/tab3.yaml`` also work from a wheel,
    in any folder; ``demo`` and ``experiments/tab3`` name the same files.
    """
    if path.exists():
        return path
    from importlib.resources import files

    name = path.as_posix().removeprefix("configs/")
    shipped = files("dalda") / "configs"
    for candidate in (name, f"{name}.yaml"):
        if (shipped / candidate).is_file():
            return Path(str(shipped / candidate))
    return path


def resolve_config(config_path: Path | None, out: Path | None, overrides: list[str] | None) -> DaldaConfig:
    """Config file, else the run directory's recorded config (only a dalda run's), else defaults; then --out and
    --set."""
    from dalda.configure import load_config  # the registries: only once a command needs a config

    extra = list(overrides or [])
    if out is not None:
        extra.append(f"out_dir={out}")
    if config_path is None and out is not None and RunDir(out).config.exists() and is_dalda_run(out):
        config_path = RunDir(out).config
    elif config_path is not None:
        config_path = shipped_or_given(config_path)
    return load_config(config_path, extra)


def fail(error: BaseException, verbose: bool) -> typer.Exit:
    """Print ``error`` as one line (the traceback too with ``-v``) and return the exit to raise.

    The message is escaped, so rich markup in a user's path or value (``[/bold]``) is printed as typed. An error
    dalda did not foresee is still one line, naming its type, and says how to see the traceback.
    """
    if verbose:
        stderr.print_exception()
    expected = isinstance(error, (ConfigError, ValueError, FileNotFoundError, RuntimeError, OSError))
    text = " ".join(str(error).split()) if not expected else " ".join(str(error).splitlines())
    if not expected:
        text = f"{type(error).__name__}: {text} (rerun with -v for the traceback)"
    stderr.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _run(
    stages: list[str] | None,
    config_path: Path | None,
    out: Path | None,
    overrides: list[str] | None,
    verbose: bool,
    dry_run: bool = False,
) -> None:
    _setup_logging(verbose)
    from dalda.pipeline import run_pipeline

    try:
        config = resolve_config(config_path, out, overrides)
        if dry_run:
            from dalda.preview import cost_lines, preview, render

            sys.stdout.write("\n".join([render(*preview(config, stages)), *cost_lines(config, stages)]) + "\n")
            return
        run = run_pipeline(config, stages, overrides)
    except Exception as error:  # every failure is one line (traceback with -v)
        raise fail(error, verbose) from None
    stderr.print(f"[green]done:[/] {escape(', '.join(stages or ['run']))} -> {escape(str(run.root))}")


def _stage_command(name: str, summary: str) -> None:
    def command(
        config: ConfigOption = None,
        out: OutOption = None,
        set_: SetOption = None,
        regenerate: RegenerateOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        _run([name], config, out, _with_regenerate(set_, regenerate), verbose)

    command.__doc__ = summary
    app.command(name)(command)


_stage_command("data", "Draw the few-shot split (split.json) from the configured dataset.")
_stage_command("score", "CLIPScore every real training image (scores.jsonl) and plot the distribution.")


@app.command("prompts")
def prompts_command(
    config: ConfigOption = None,
    out: OutOption = None,
    set_: SetOption = None,
    regenerate: RegenerateOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write M class-specific prompts per class with the configured LLM backend (prompts.json)."""
    _run(["prompts"], config, out, _with_regenerate(set_, regenerate, prompts=True), verbose)


_stage_command("plan", "Plan every synthetic image: source image, prompt, lambda, seed (plan.jsonl).")
_stage_command("generate", "Generate the planned images with SD + IP-Adapter (synthetic/); resumable.")
_stage_command("filter", "Keep or reject each synthetic image by its alignment score (synthetic/filter.jsonl).")
_stage_command("train", "Train the downstream classifiers on real + synthetic images.")
_stage_command("evaluate", "Accuracy of the trained classifiers, and diversity (CLIP-I, LPIPS) of the synthetic set.")


@app.command("run")
def run_all(
    config: ConfigOption = None,
    out: OutOption = None,
    set_: SetOption = None,
    stages: Annotated[
        str | None, typer.Option(help="Comma-separated subset of stages, e.g. score,prompts,plan.")
    ] = None,
    regenerate: RegenerateOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List per stage what would be made, reused and discarded; make nothing.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run every stage the config calls for, in order: data, score, prompts, plan, generate, train, evaluate, report.

    With train.synthetic_probability=0 (real images only) the synthesis stages are skipped; score runs only for
    AGS on a generator that takes λ, prompts only for a generator that uses prompts with prompts.source=llm.
    """
    chosen = [name.strip() for name in stages.split(",") if name.strip()] if stages is not None else None
    if chosen == []:
        _setup_logging(verbose)
        raise fail(ValueError(f"--stages {stages!r} names no stage; give e.g. --stages score,prompts,plan"), verbose)
    _run(chosen, config, out, _with_regenerate(set_, regenerate, prompts=True), verbose, dry_run)


@app.command("report")
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory or an experiment directory holding many runs.")],
    verbose: VerboseOption = False,
) -> None:
    """Tables, figures and one self-contained HTML page (report/index.html) for a run or an experiment."""
    _setup_logging(verbose)
    from dalda.report.stage import build_report

    if not run_dir.is_dir():
        raise fail(ValueError(f"{run_dir} is not a directory; pass a run or experiment directory"), verbose)
    from dalda.ownership import locked

    try:
        if is_dalda_run(run_dir):
            with locked(run_dir, "dalda report"):
                written = build_report(run_dir)
        else:
            written = build_report(run_dir)
    except Exception as error:  # an empty or read-only directory is one line, not a traceback
        raise fail(error, verbose) from None
    stderr.print(f"[green]report:[/] {escape(str(written))}")


@app.command("experiment")
def experiment(
    spec: Annotated[Path, typer.Argument(help="Grid YAML, e.g. configs/experiments/tab1_tab2.yaml.")],
    models: Annotated[
        str | None, typer.Option("--models", help="tiny: run the grid offline on the demo dataset with tiny models.")
    ] = None,
    out: OutOption = None,
    verbose: VerboseOption = False,
    shard: Annotated[
        str | None, typer.Option("--shard", help="i/n: run shard i (from 0) of n, e.g. $SLURM_ARRAY_TASK_ID/8.")
    ] = None,
    status: Annotated[bool, typer.Option("--status", help="List done / running / failed / pending cells.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print each cell's images, LLM requests and estimated GPU-hours.")
    ] = False,
    launcher: Annotated[
        str | None, typer.Option("--launcher", help="slurm: submit unfinished cells as a job array (submitit).")
    ] = None,
    partition: Annotated[str | None, typer.Option(help="Slurm partition (overrides the grid's slurm block).")] = None,
    gpus: Annotated[int | None, typer.Option(help="GPUs per Slurm task.")] = None,
    time_min: Annotated[int | None, typer.Option("--time-min", help="Slurm time limit per cell, minutes.")] = None,
    mem_gb: Annotated[float | None, typer.Option("--mem-gb", help="Slurm memory per task, GB.")] = None,
    sbatch: Annotated[
        list[str] | None, typer.Option("--sbatch", help="Extra sbatch option KEY=VALUE, e.g. --sbatch account=p1.")
    ] = None,
    throughput: Annotated[
        Path | None, typer.Option(help="Throughput rows for --dry-run (default: the rows shipped with dalda, dalda/experiments/throughput.json).")
    ] = None,
) -> None:
    """Run a grid of datasets x methods x shots x trials x classifiers; finished cells are skipped on re-run."""
    _setup_logging(verbose)
    from dalda.experiments.runner import run_experiment
    from dalda.experiments.shards import parse_shard

    spec = shipped_or_given(spec)
    try:
        shard_index = parse_shard(shard) if shard is not None else None
        if status or dry_run:
            _experiment_overview(spec, models, out, shard_index, status, throughput)
            return
        if launcher is not None:
            slurm = {"partition": partition, "gpus_per_task": gpus, "time_min": time_min, "mem_gb": mem_gb}
            _experiment_submit(spec, models, out, launcher, slurm, sbatch)
            return
        summary = run_experiment(spec, models, out, shard=shard_index)
    except Exception as error:
        raise fail(error, verbose) from None
    stderr.print(f"[green]done:[/] {escape(f'{summary.counts()} -> {summary.path}; report {summary.report}')}")
    raise typer.Exit(1 if summary.failed else 0)


@app.command("curate")
def curate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with synthetic images (after `dalda generate`).")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).", min=0, max=65535)] = 0,
    verbose: VerboseOption = False,
) -> None:
    """Accept or reject synthetic images by hand in the browser (127.0.0.1 only); training and export follow."""
    _setup_logging(verbose)
    from dalda.curate import curation_server

    try:
        if not is_dalda_run(run_dir):
            raise ValueError(f"{run_dir} is not a dalda run directory (no .dalda-run.json); pass a run made by dalda")
        server = curation_server(RunDir(run_dir), port)
    except Exception as error:
        raise fail(error, verbose) from None
    host, bound = server.server_address[:2]
    where = escape(str(RunDir(run_dir).curation))
    stderr.print(f"curate: open http://{host}:{bound}/ (Ctrl-C to stop); decisions go to {where}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command("export")
def export(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory (after `dalda generate`).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write (default: RUN/export).")] = None,
    push_to_hub: Annotated[
        str | None,
        typer.Option("--push-to-hub", help="Also upload the dataset and card to this Hub repo (log in first: huggingface-cli login)."),
    ] = None,
    include_rejected: Annotated[
        bool, typer.Option("--include-rejected", help="Add the images the filter rejected, with a `kept` column.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """The run's training images (real + synthetic) and evaluation images as a Hugging Face dataset with a card
    (`train` and `test` splits) and as class folders; `--push-to-hub` uploads it (after `huggingface-cli login`)."""
    _setup_logging(verbose)
    from dalda.export import export_run
    from dalda.export.hub import PushError
    from dalda.methods import run_method

    from dalda.ownership import RunInUseError, locked

    try:
        if not is_dalda_run(run_dir):
            raise ValueError(f"{run_dir} is not a dalda run directory (no .dalda-run.json); pass a run made by dalda")
        with locked(run_dir, "dalda export"):  # no writer may change the run while it is read
            config = resolve_config(None, run_dir, None)
            _refuse_incomplete(RunDir(run_dir))
            label = run_method(config, RunDir(run_dir)).name  # honest: template-ags without an LLM
            summary = export_run(
                config, RunDir(run_dir), out or run_dir / "export", label, push_to_hub, include_rejected
            )
    except Exception as error:  # a read-only folder, a missing extra, an offline push: one line (traceback with -v)
        raise fail(error, verbose) from None
    pushed = f"; pushed to {push_to_hub}" if push_to_hub else ""
    stderr.print(
        "[green]export:[/] "
        + escape(
            f"train {summary.real} real + {summary.synthetic} synthetic images, test {summary.test}, "
            f"{len(summary.classes)} classes -> {summary.out}{pushed}"
        ),
        highlight=False,
    )


def _refuse_incomplete(run: RunDir) -> None:
    """An export of a run whose generation has not finished would be silently partial: refuse it, naming how many
    planned images are missing and the command that makes them."""
    from dalda.artefacts import ManifestLine, PlanRow

    if not run.plan.is_file():
        return
    planned = {row.row_id for row in PlanRow.read_all(run)}
    finished = {line.row_id for line in ManifestLine.read_all(run, missing_ok=True)}
    missing = len(planned - finished)
    if missing:
        raise ValueError(
            f"{run.root} is incomplete: {missing} of {len(planned)} planned synthetic images are not generated yet; "
            f"finish it with `dalda generate -o {run.root}` and export again"
        )


@app.command("doctor")
def doctor_command(config: ConfigOption = None, out: OutOption = None, set_: SetOption = None) -> None:
    """Check a config before a long run: device, checkpoints, dataset, LLM endpoint, disk; expected work."""
    from dalda.doctor import doctor, render

    try:
        checks = doctor(resolve_config(config, out, set_))
    except Exception as error:  # a bad config or a check that cannot even start: one line
        raise fail(error, False) from None
    sys.stdout.write(render(checks) + "\n")
    raise typer.Exit(0 if all(check.ok for check in checks) else 1)
def _experiment_overview(
    spec: Path,
    models: str | None,
    out: Path | None,
    shard: tuple[int, int] | None,
    status: bool,
    throughput: Path | None,
) -> None:
    """``--status`` / ``--dry-run``: tables on stdout, nothing runs."""
    from dalda.experiments.overview import dry_run_table, status_table
    from dalda.experiments.shards import THROUGHPUT_FILE, load_throughput

    console = Console()
    if status:
        console.print(status_table(spec, models, out, shard[1] if shard else None))
    else:
        table, notes = dry_run_table(spec, models, out, load_throughput(throughput or THROUGHPUT_FILE))
        console.print(table)
        console.print(notes, highlight=False)


def _experiment_submit(
    spec: Path, models: str | None, out: Path | None, launcher: str, slurm: dict, sbatch: list[str] | None
) -> None:
    """``--launcher slurm`` (or ``local``: submitit's local executor, for trying the array on one machine)."""
    from dalda.experiments.launcher import submit_grid

    if launcher not in ("slurm", "local"):
        raise ValueError(f"--launcher {launcher!r} is not a launcher; choose slurm (or local, to try it here)")
    extra = {}
    for item in sbatch or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--sbatch {item!r} is not KEY=VALUE, e.g. --sbatch account=proj1")
        extra[key] = value
    if extra:
        slurm["sbatch"] = extra
    jobs = submit_grid(spec, models, out, cluster=launcher, overrides=slurm)
    if not jobs:
        stderr.print("[green]nothing to submit:[/] every cell is done or running (see --status)")
    for job in jobs:
        stderr.print(escape(f"submitted {job.cell}: job {job.job_id}, output {job.stdout}"), highlight=False)


@app.command("show-config")
def show_config(config: ConfigOption = None, out: OutOption = None, set_: SetOption = None) -> None:
    """Print the resolved config as YAML (defaults are the paper's Tab. 4 values)."""
    from dalda.config import config_to_yaml

    try:
        sys.stdout.write(config_to_yaml(resolve_config(config, out, set_)))
    except Exception as error:  # a bad value, an unknown entry or a broken plugin: one line
        raise fail(error, False) from None


@app.command("config-reference")
def config_reference() -> None:
    """Print the configuration reference (Markdown) generated from the schema; docs/config-reference.md is its
    output."""
    from dalda.reference import render

    sys.stdout.write(render())


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            sys.stdout.write(f"dalda {version('dalda')}\n")
        except PackageNotFoundError:
            stderr.print("[bold red]error:[/] dalda is not installed; run `pip install -e .` in the repository")
            raise typer.Exit(1) from None
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option("--log-file", help="Also append every log line, timestamped, to this file (e.g. on a cluster)."),
    ] = None,
) -> None:
    """DALDA data augmentation: few real images per class -> synthetic training set -> better classifier."""
    if log_file is not None:
        if not log_file.expanduser().parent.is_dir():
            raise typer.BadParameter(f"{log_file}: its folder does not exist; create it or choose another path")
        os.environ[LOG_FILE_VARIABLE] = str(log_file.expanduser().resolve())


if __name__ == "__main__":
    app()
