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

from dalda.config import ConfigError, DaldaConfig
from dalda.configure import load_config
from dalda.rundir import RunDir

app = typer.Typer(
    help="DALDA data augmentation: few real images per class -> synthetic training set -> better classifier.",
    no_args_is_help=True,
    add_completion=False,
)
stderr = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: the run directory's config.yaml, if any)."),
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Run directory (overrides out_dir).")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config value, e.g. -s data.shots=4 -s models.profile=tiny."),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=stderr, show_path=False, show_time=False)],
        force=True,
    )
    for noisy in ("httpx", "httpcore", "urllib3", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def resolve_config(config_path: Path | None, out: Path | None, overrides: list[str] | None) -> DaldaConfig:
    """Config file, else the run directory's recorded config, else defaults; then --out and --set."""
    extra = list(overrides or [])
    if out is not None:
        extra.append(f"out_dir={out}")
    if config_path is None and out is not None and RunDir(out).config.exists():
        config_path = RunDir(out).config
    return load_config(config_path, extra)


def _run(
    stages: list[str] | None, config_path: Path | None, out: Path | None, overrides: list[str] | None, verbose: bool
) -> None:
    _setup_logging(verbose)
    from dalda.pipeline import run_pipeline

    try:
        config = resolve_config(config_path, out, overrides)
        run = run_pipeline(config, stages)
    except (ConfigError, ValueError, FileNotFoundError, RuntimeError, OSError) as error:
        if verbose:
            stderr.print_exception()
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None
    stderr.print(f"[green]done:[/] {', '.join(stages or ['run'])} -> {run.root}")


def _stage_command(name: str, summary: str) -> None:
    def command(
        config: ConfigOption = None, out: OutOption = None, set_: SetOption = None, verbose: VerboseOption = False
    ) -> None:
        _run([name], config, out, set_, verbose)

    command.__doc__ = summary
    app.command(name)(command)


_stage_command("data", "Draw the few-shot split (split.json) from the configured dataset.")
_stage_command("score", "CLIPScore every real training image (scores.jsonl) and plot the distribution.")
_stage_command("prompts", "Write M class-specific prompts per class with the configured LLM backend (prompts.json).")
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
    verbose: VerboseOption = False,
) -> None:
    """Run every stage in order: data, score, prompts, plan, generate, train, evaluate, report.

    With train.synthetic_probability=0 (real images only) the synthesis stages are skipped.
    """
    chosen = [name.strip() for name in stages.split(",")] if stages else None
    _run(chosen, config, out, set_, verbose)


@app.command("report")
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory or an experiment directory holding many runs.")],
    verbose: VerboseOption = False,
) -> None:
    """Tables, figures and one self-contained HTML page (report/index.html) for a run or an experiment."""
    _setup_logging(verbose)
    from dalda.report.stage import build_report

    if not run_dir.is_dir():
        stderr.print(f"[bold red]error:[/] {run_dir} is not a directory; pass a run or experiment directory")
        raise typer.Exit(1)
    stderr.print(f"[green]report:[/] {build_report(run_dir)}")


@app.command("experiment")
def experiment(
    spec: Annotated[Path, typer.Argument(help="Grid YAML, e.g. configs/experiments/tab1_tab2.yaml.")],
    models: Annotated[
        str | None, typer.Option("--models", help="tiny: run the grid offline on the demo dataset with tiny models.")
    ] = None,
    out: OutOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Run a grid of datasets x methods x shots x trials x classifiers; finished cells are skipped on re-run."""
    _setup_logging(verbose)
    from dalda.experiments.runner import run_experiment

    try:
        summary = run_experiment(spec, models, out)
    except (ConfigError, ValueError, FileNotFoundError) as error:
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None
    stderr.print(f"[green]done:[/] {summary.counts()} -> {summary.path}; report {summary.report}")
    raise typer.Exit(1 if summary.failed else 0)


@app.command("show-config")
def show_config(config: ConfigOption = None, out: OutOption = None, set_: SetOption = None) -> None:
    """Print the resolved config as YAML (defaults are the paper's Tab. 4 values)."""
    from dalda.config import config_to_yaml

    try:
        sys.stdout.write(config_to_yaml(resolve_config(config, out, set_)))
    except ConfigError as error:
        stderr.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
