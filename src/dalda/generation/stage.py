"""``dalda generate``: execute the plan's rows into ``synthetic/``, resumably, on one or many processes.

Everything that depends on the generator (its manifest settings, its one-off preparation, its engine, each
row's weight) comes from its ``dalda.generators`` entry. Steps: the main process consolidates the manifest
(what is already done, checked on disk); the processes share out the generator's ``Preparation`` and wait for
each other's units by polling the disk, never at a barrier (``preparation``); every process takes its slice of
the pending rows (``sharding``); each process generates its rows in batches while a few writer threads (a
bounded queue) write every image atomically and append its manifest line after the file is complete; finally
the main process merges the per-process lines into one manifest. Rows whose reference image cannot be read are
reported as failed and skipped; any other error stops the run (rerunning resumes it).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from dalda.config import DaldaConfig
from dalda.generation.manifest import (
    RegenerationRefused,
    consolidate,
    finished_row_ids,
    manifest_entry,
    part_path,
    write_image_atomic,
)
from dalda.generation.preparation import clear_failure_markers, prepare_shared
from dalda.generation.sharding import Processes, shard
from dalda.generation.truncation import one_truncation_warning
from dalda.generators import GENERATORS, Engine, Generator
from dalda.images import UnreadableImageError, load_rgb
from dalda.artefacts import ClassNames, ManifestLine, PlanRow, Split, source_base
from dalda.ownership import changed_since, last_stage_config
from dalda.progress import progress_bar
from dalda.rundir import RunDir
from dalda.protocol import protocol_choices

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowFailure:
    row_id: int
    error: str


@dataclass
class GenerationSummary:
    """Counts over the whole plan (all processes): rows planned, finished before this run, finished by it."""

    planned: int
    done_before: int
    generated: int
    failed: list[RowFailure] = field(default_factory=list)


def _check_unique(rows: Sequence[PlanRow], plan: Path) -> None:
    repeated = [row_id for row_id, n in Counter(row.row_id for row in rows).items() if n > 1]
    if repeated:
        raise ValueError(f"{plan} repeats row ids {sorted(repeated)[:10]}; rebuild it with `dalda plan`")


def _check_plan_generator(rows: Sequence[PlanRow], generator: Generator, plan: Path) -> None:
    """A plan built for one generator must not be executed by another (a stale plan after a config change)."""
    wrong = {row.generator for row in rows} - {generator.name}
    if wrong:
        raise ValueError(
            f"{plan} was built for {sorted(wrong)} but generator.name={generator.name!r}; re-run `dalda plan`"
        )


def _id_ranges(row_ids: Sequence[int]) -> str:
    """Row ids as compact ranges for the log, e.g. ``0-5,9,11-12``."""
    parts: list[str] = []
    for row_id in sorted(row_ids):
        if parts and int(parts[-1].rsplit("-", 1)[-1]) == row_id - 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{row_id}"
        else:
            parts.append(str(row_id))
    return ",".join(parts)


def _batches(rows: Sequence[PlanRow], size: int) -> Iterator[list[PlanRow]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


class _References:
    """Reference images loaded and encoded once, kept only while rows still need them."""

    def __init__(self, engine: Engine, rows: Sequence[PlanRow]) -> None:
        self.engine = engine
        self.remaining = Counter(row.source_path for row in rows)
        self.prompts: dict[str, Any] = {}
        self.sizes: dict[str, tuple[int, int]] = {}
        self.errors: dict[str, str] = {}

    def prepare(self, rows: Sequence[PlanRow]) -> None:
        """Load and encode (in one batch) the batch's reference images not seen yet."""
        new: dict[str, Image.Image] = {}
        for path in dict.fromkeys(row.source_path for row in rows):
            if path in self.prompts or path in self.errors:
                continue
            try:
                new[path] = load_rgb(Path(path))
            except UnreadableImageError as error:
                logger.error("%s; its rows are skipped", error)
                self.errors[path] = str(error)
        for (path, image), prompt in zip(new.items(), self.engine.encode_references(list(new.values()))):
            self.prompts[path] = prompt
            self.sizes[path] = image.size

    def release(self, rows: Sequence[PlanRow]) -> None:
        for row in rows:
            self.remaining[row.source_path] -= 1
            if self.remaining[row.source_path] == 0:
                self.prompts.pop(row.source_path, None)


class PngWriter:
    """Saves images and appends their manifest lines on a few background threads, so PNG encoding and disk
    writes (slow for large sources resized back to their size) overlap the next batch's denoising.

    At most ``2 * threads`` images wait at a time (``submit`` blocks beyond that, so memory stays bounded when
    writing is slower than generating); each image's manifest line is appended only after its file is complete.
    """

    def __init__(
        self,
        run: RunDir,
        manifest_part: Path,
        resize_to_source: bool,
        compress_level: int = 6,
        threads: int = 1,
        resample: Image.Resampling = Image.Resampling.BILINEAR,
    ) -> None:
        """``resample``: the resize back to the source size (``train.protocol``'s choice, ``dalda.protocol``)."""
        self.resample = resample
        self.run = run
        self.manifest_part = manifest_part
        self.resize_to_source = resize_to_source
        self.compress_level = compress_level
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dalda-writer")
        self.slots = threading.BoundedSemaphore(2 * threads)
        self.append_lock = threading.Lock()
        self.pending: list[Future[None]] = []

    def submit(self, items: list[tuple[Image.Image, tuple[int, int], ManifestLine]]) -> None:
        self._raise_errors(wait=False)
        for item in items:
            self.slots.acquire()
            future = self.pool.submit(self._write, item)
            future.add_done_callback(lambda _: self.slots.release())
            self.pending.append(future)

    def _write(self, item: tuple[Image.Image, tuple[int, int], ManifestLine]) -> None:
        image, source_size, entry = item
        if self.resize_to_source and image.size != source_size:
            image = image.resize(source_size, self.resample)
        write_image_atomic(image, self.run.synthetic / entry.file_name, self.compress_level)
        with self.append_lock:  # one line at a time into the shared manifest part
            entry.append(self.manifest_part)

    def _raise_errors(self, wait: bool) -> None:
        still_running = []
        for future in self.pending:
            if wait or future.done():
                future.result()
            else:
                still_running.append(future)
        self.pending = still_running

    def close(self) -> None:
        try:
            self._raise_errors(wait=True)
        finally:
            self.pool.shutdown(wait=True)


def _generate_rows(
    config: DaldaConfig,
    generator: Generator,
    run: RunDir,
    rows: list[PlanRow],
    expected: dict[int, ManifestLine],
    processes: Processes,
) -> list[RowFailure]:
    """Generate ``rows`` (this process's slice) and return the rows that failed."""
    settings = config.generation
    logger.info(
        "process %d/%d generates %d rows: %s",
        processes.index + 1,
        processes.count,
        len(rows),
        _id_ranges([row.row_id for row in rows]),
    )
    engine = generator.build(config, run, processes.models_config(config.models))
    references = _References(engine, rows)
    writer = PngWriter(
        run,
        part_path(run, processes.index, processes.count),
        settings.resize_to_source,
        settings.png_compress_level,
        settings.writer_threads,
        protocol_choices(config.train.protocol).resample,
    )
    failures: list[RowFailure] = []
    label = "generating"
    if processes.count > 1:
        label += f" (process {processes.index + 1}/{processes.count})"
    try:
        with one_truncation_warning(engine.tokenizer, [row.prompt for row in rows]), progress_bar(
            label, total=len(rows), unit="img", enabled=processes.is_main
        ) as advance:
            for batch in _batches(rows, settings.batch_size):
                references.prepare(batch)
                ready = [row for row in batch if row.source_path in references.prompts]
                failures += [
                    RowFailure(row.row_id, references.errors[row.source_path])
                    for row in batch
                    if row.source_path in references.errors
                ]
                if ready:
                    images = engine.generate(
                        [row.prompt for row in ready],
                        [generator.row_weight(row) for row in ready],
                        [row.seed for row in ready],
                        [references.prompts[row.source_path] for row in ready],
                    )
                    writer.submit(
                        [
                            (image, references.sizes[row.source_path], expected[row.row_id])
                            for row, image in zip(ready, images)
                        ]
                    )
                references.release(batch)
                advance(len(batch))
    finally:
        writer.close()
    return failures


def _write_class_names(run: RunDir) -> None:
    """``classes.json`` in the run and in ``synthetic/`` (where ``datasets`` and torchvision users look)."""
    if not run.split.is_file():  # a plan made by hand, without `dalda data`: no class list to state
        return
    names = ClassNames(Split.read(run).classes)
    names.write(run)
    names.write(run.synthetic / run.classes.name)


def run_generate_stage(config: DaldaConfig, run: RunDir, processes: Processes | None = None) -> GenerationSummary:
    """Generate every plan row not already finished; safe to kill and rerun; see the module docstring.

    ``processes``: this process's place among the launched ones (default: the launcher's process group)."""
    generator = GENERATORS.get(config.generator.name)
    processes = processes or Processes.current(cpu=config.models.device == "cpu")
    rows = PlanRow.read_all(run)
    _check_unique(rows, run.plan)
    _check_plan_generator(rows, generator, run.plan)
    settings = generator.manifest_settings(config)
    expected = {row.row_id: manifest_entry(row, settings, run.root) for row in rows}

    base = source_base(config.data, run)
    if processes.is_main and not config.regenerate:
        _refuse_lost_manifest(run, len(rows))
    if processes.is_main:
        consolidate(run, expected, base, regenerate=config.regenerate, why=changed_since(run.root, config, "generate"))
        clear_failure_markers(run)
    processes.wait()
    done_before = finished_row_ids(run)
    pending = [row for row in rows if row.row_id not in done_before]
    if pending:  # e.g. DA-Fusion's class tokens: shared out, then awaited by polling, never at a barrier
        prepare_shared(
            generator.preparation(config, run, rows),
            run,
            processes.models_config(config.models),
            processes.index,
            processes.count,
        )
    mine = shard(pending, processes.index, processes.count)
    if processes.is_main:
        logger.info(
            "generation: %d rows planned, %d already done, %d to generate on %d process(es)",
            len(rows),
            len(done_before),
            len(pending),
            processes.count,
        )

    failures = _generate_rows(config, generator, run, mine, expected, processes) if mine else []

    processes.wait()
    failures = processes.gather(failures)
    if processes.is_main:
        consolidate(run, expected, base)
        _write_class_names(run)
    processes.wait()
    done_after = finished_row_ids(run)
    summary = GenerationSummary(
        planned=len(rows),
        done_before=len(done_before),
        generated=len(done_after) - len(done_before),
        failed=sorted(failures, key=lambda failure: failure.row_id),
    )
    if processes.is_main:
        _log_summary(summary)
    return summary


def _refuse_lost_manifest(run: RunDir, planned: int) -> None:
    """A run whose generate stage finished before (``history.jsonl``) but whose manifest is gone (a partial copy,
    a deleted ``synthetic/``) would regenerate every image unseen: stop and say so instead."""
    if planned and not run.manifest.is_file() and last_stage_config(run.root, "generate") is not None:
        raise RegenerationRefused(
            f"generate finished in this run before (history.jsonl) but {run.manifest} is missing, so all {planned} "
            f"images would be made again; restore {run.synthetic} (a partial copy?) or rerun with --regenerate"
        )


def _log_summary(summary: GenerationSummary) -> None:
    """One summary line, and a warning naming a failed row, if any."""
    logger.info(
        "generation: %d planned, %d done before, %d generated now", summary.planned, summary.done_before, summary.generated
    )
    if summary.failed:
        logger.warning(
            "%d rows failed (their source images are unreadable), e.g. row %d: %s; the other rows are complete",
            len(summary.failed), summary.failed[0].row_id, summary.failed[0].error,
        )
