"""The `dalda` command line: a thin layer over `dalda.pipeline`, one subcommand per stage plus `run`.

Each subcommand resolves the config (a YAML file, else the run directory's own config.yaml, else defaults;
then `--set section.field=value` overrides), writes it to the run directory and runs its stage. Errors are
printed to stderr as one clear message, without a traceback, and exit with status 1.
"""

from __future__ import annotations

import logging
import sys
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
stderr = Console(stderr=True)

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
        help="Ask the LLM for new prompts even when complete ones are stored (this command only; never saved).",
    ),
]


def _with_regenerate(overrides: list[str] | None, regenerate: bool) -> list[str]:
    """``--regenerate`` is an action of one command: an override that the run's stored config never keeps."""
    return [*(overrides or []), *(["prompts.regenerate=true"] if regenerate else [])]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=stderr, show_path=False, show_time=False)],
        force=True,
    )
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
    text = " ".join(str(error).split()) if not expected else str(error)
    if not expected:
        text = f"{type(error).__name__}: {text} (rerun with -v for the traceback)"
    stderr.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _run(
    stages: list[str] | None, config_path: Path | None, out: Path | None, overrides: list[str] | None, verbose: bool
) -> None:
    _setup_logging(verbose)
    from dalda.pipeline import run_pipeline

    try:
        config = resolve_config(config_path, out, overrides)
        run = run_pipeline(config, stages, overrides)
    except Exception as error:  # every failure is one line (traceback with -v)
        raise fail(error, verbose) from None
    stderr.print(f"[green]done:[/] {escape(', '.join(stages or ['run']))} -> {escape(str(run.root))}")


def _stage_command(name: str, summary: str) -> None:
    def command(
        config: ConfigOption = None, out: OutOption = None, set_: SetOption = None, verbose: VerboseOption = False
    ) -> None:
        _run([name], config, out, set_, verbose)

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
    _run(["prompts"], config, out, _with_regenerate(set_, regenerate), verbose)


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
    _run(chosen, config, out, _with_regenerate(set_, regenerate), verbose)


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
    stderr.print(f"[green]done:[/] {summary.counts()} -> {summary.path}; report {summary.report}")
    raise typer.Exit(1 if summary.failed else 0)


@app.command("export")
def export(
    run_dir: Annotated[Path, typer.Argument(help="A finished run directory (after `dalda generate`).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write (default: RUN/export).")] = None,
    push_to_hub: Annotated[
        str | None, typer.Option("--push-to-hub", help="Also upload the dataset and card to this Hub repo.")
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """The run's real + synthetic images as a torchvision ImageFolder and a Hugging Face dataset with a card."""
    _setup_logging(verbose)
    from dalda.export import export_run
    from dalda.methods import run_method

    try:
        config = resolve_config(None, run_dir, None)
        label = run_method(config, RunDir(run_dir)).name  # honest: template-ags without an LLM
        summary = export_run(config, RunDir(run_dir), out or run_dir / "export", label, push_to_hub)
    except (ConfigError, ValueError, FileNotFoundError, FileExistsError) as error:
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None
    stderr.print(
        f"[green]export:[/] {summary.real} real + {summary.synthetic} synthetic images, {len(summary.classes)} "
        f"classes -> {summary.imagefolder} and {summary.hf}" + (f"; pushed to {push_to_hub}" if push_to_hub else "")
    )


@app.command("doctor")
def doctor_command(config: ConfigOption = None, out: OutOption = None, set_: SetOption = None) -> None:
    """Check a config before a long run: device, checkpoints, dataset, LLM endpoint, disk; expected work."""
    from dalda.doctor import doctor, render

    try:
        checks = doctor(resolve_config(config, out, set_))
    except ConfigError as error:
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None
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
        stderr.print(f"submitted {job.cell}: job {job.job_id}, output {job.stdout}", highlight=False)


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
) -> None:
    """DALDA data augmentation: few real images per class -> synthetic training set -> better classifier."""


if __name__ == "__main__":
    app()
