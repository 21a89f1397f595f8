"""``dalda run --dry-run``: per stage, what a command would make, reuse and discard, making nothing.

The counts come from the same checks the stages run (the split check, the score cache key, the plan the plan stage
would write, the manifest sorting of ``dalda.generation.manifest``), so the preview and the run agree on what is
reused. A stage whose inputs are not made yet is shown as making everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from dalda.artefacts import ARTEFACTS_BY_NAME, PlanRow, Split, check_split_matches, source_base
from dalda.config import DaldaConfig
from dalda.costs import estimate, format_estimate
from dalda.datasets import DATASETS
from dalda.generation.manifest import manifest_entry, sort_stored
from dalda.generators import GENERATORS
from dalda.hashing import file_sha256
from dalda.pipeline import STAGES, StaleOutputsError, guard_earlier_stages, stages_for
from dalda.planning.stage import plan_for
from dalda.rundir import RunDir
from dalda.scorers import ImageScore


@dataclass(frozen=True)
class StagePreview:
    stage: str
    make: int
    reuse: int
    discard: int
    unit: str
    note: str = ""


def preview(config: DaldaConfig, stages: list[str] | None = None) -> tuple[list[StagePreview], str]:
    """The preview of each stage the command would run, and a note (a refusal the command would stop with)."""
    run = RunDir(config.out_dir)
    chosen = stages or stages_for(config)
    note = ""
    try:
        chosen = guard_earlier_stages(config, run, chosen) if run.config.is_file() else chosen
    except StaleOutputsError as error:
        note = f"the command would stop: {error}"
    rows = [_stage(name, config, run) for name in STAGES if name in chosen]
    return rows, note


def _stage(name: str, config: DaldaConfig, run: RunDir) -> StagePreview:
    try:
        return _PREVIEWS.get(name, _always_made)(name, config, run)
    except (ValueError, OSError) as error:  # an input not made yet, or one the stage would refuse
        return StagePreview(name, 0, 0, 0, "files", f"cannot preview yet: {' '.join(str(error).split())}")


def _split(name: str, config: DaldaConfig, run: RunDir) -> StagePreview:
    if not run.split.is_file():
        return StagePreview(name, 1, 0, 0, "split")
    try:
        check_split_matches(Split.read(run), config.data, run.split)
    except ValueError as error:
        return StagePreview(name, 1, 0, 1, "split", str(error) if not config.regenerate else "--regenerate: redrawn")
    return StagePreview(name, 0, 1, 0, "split")


def _scores(name: str, config: DaldaConfig, run: RunDir) -> StagePreview:
    if not run.split.is_file():
        return StagePreview(name, 0, 0, 0, "images", "all images of the split (not drawn yet)")
    split = Split.read(run)
    stored = {(s.label, s.sha256) for s in ImageScore.read_all(run)} if run.scores.is_file() else set()
    cached = sum((r.label, file_sha256(r.path)) in stored for r in split.train if r.path.exists())
    return StagePreview(name, len(split.train) - cached, cached, 0, "images", "scores are reused by image content")


def _prompts(name: str, config: DaldaConfig, run: RunDir) -> StagePreview:
    if not run.prompts.is_file():
        return StagePreview(name, 1, 0, 0, "prompt tables")
    if config.prompts.regenerate:
        return StagePreview(name, 1, 0, 1, "prompt tables", "--regenerate asks the LLM again")
    return StagePreview(name, 0, 1, 0, "prompt tables", "reused when complete for these settings")


def _plan(name: str, config: DaldaConfig, run: RunDir) -> StagePreview:
    rows = plan_for(config, run)
    stored = {row.row_id: row for row in PlanRow.read_all(run, missing_ok=True)}
    same = sum(stored.get(row.row_id) == row for row in rows)
    return StagePreview(name, len(rows) - same, same, len(stored) - same, "rows")


def _generate(name: str, config: DaldaConfig, run: RunDir) -> StagePreview:
    if config.train.synthetic_probability == 0:
        return StagePreview(name, 0, 0, 0, "images", "real images only")
    rows = plan_for(config, run)
    settings = GENERATORS.get(config.generator.name).manifest_settings(config)
    expected = {row.row_id: manifest_entry(row, settings, run.root) for row in rows}
    sorting = sort_stored(run, expected, source_base(config.data, run))
    reason = sorting.causes()
    return StagePreview(name, len(rows) - len(sorting.done), len(sorting.done), len(sorting.discarded), "images", reason)


def _always_made(name: str, config: DaldaConfig, run: RunDir) -> StagePreview:
    """Stages that always write their files anew (filter, train, evaluate, report): existing ones are replaced."""
    made = [path for artefact in ARTEFACTS_BY_NAME.values() if artefact.made_by == name for path in artefact.paths(run, config)]
    existing = sum(path.exists() for path in made)
    return StagePreview(name, len(made), 0, existing, "files", "always remade; existing files are replaced" if existing else "")


_PREVIEWS = {"data": _split, "score": _scores, "prompts": _prompts, "plan": _plan, "generate": _generate}


def cost_lines(config: DaldaConfig, stages: list[str] | None = None) -> list[str]:
    """The FLOP-based GPU-hours and disk of the stages the command would run (``dalda.costs``), for the classes of
    the run's split, else of the dataset entry, else of the folder (read, never written); a line saying why when
    the dataset cannot be read."""
    run = RunDir(config.out_dir)
    known = DATASETS.get(config.data.dataset).num_classes
    try:
        if run.split.is_file():
            classes = len(Split.read(run).classes)
        elif known is not None:
            classes = known
        else:  # a folder of the user's: its class folders are read, nothing is written
            from dalda.data.stage import load_dataset_index

            classes = len(load_dataset_index(config.data, run.data_cache).classes)
    except (OSError, ValueError) as error:
        return [f"cost: not estimated ({' '.join(str(error).split())})"]
    chosen = stages or stages_for(config)
    return ["cost: " + line if number == 0 else line
            for number, line in enumerate(format_estimate(estimate(config, classes, chosen)))]  # fmt: skip


def render(previews: list[StagePreview], note: str) -> str:
    """A plain table, one line per stage."""
    lines = [f"{'stage':<10}{'make':>8}{'reuse':>8}{'discard':>9}  unit / note"]
    for row in previews:
        detail = row.unit + (f": {row.note}" if row.note else "")
        lines.append(f"{row.stage:<10}{row.make:>8}{row.reuse:>8}{row.discard:>9}  {detail}")
    if note:
        lines.append(note)
    return "\n".join(lines)

