"""The measuring half of ``benchmarks/gpu_check.sh``: one call that records what dalda does on a GPU.

Rows, each appended to ``--jsonl`` (one JSON object a line, flushed to disk) the moment it is measured, so a run
killed midway keeps every row it finished:

- ``machine``: the device, its memory, the library versions;
- ``training``: dalda's ``train.protocol=authors`` fit (pixel store + on-device augmentation) against the
  authors' loader (``bench_training.py --loader``, run as a child process with its own time limit): training
  draws/s of both, their ratio, peak GPU memory;
- ``generation``: for each generator (``GENERATOR_NAMES``, in that order) the authors' one-image loop and dalda's
  engine at batch 1, 8 and 16, eager and with channels_last, then with ``torch.compile`` while time is left:
  images/s, the ratio to the authors' loop, peak GPU memory; each engine row warms up first on a two-step call
  of the same batch (so kernels are chosen, and compiled, outside the timing);
- ``skipped``: a part or row that would not fit in what is left of ``--budget`` (estimated from the rows already
  measured), with the reason; ``error``: a part that failed, with its message (the other parts still run).

``--summarise`` turns a JSON-lines file into the markdown summary (``gpu_check.sh`` does it after every run,
killed or not). ``--smoke`` runs the same code at tiny sizes (``models.profile=tiny``, a few steps): seconds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GENERATOR_NAMES = ("ip-adapter", "real-guidance", "da-fusion", "ip-adapter-plus", "sdxl-ip-adapter")
"""The order the generators are measured in: DALDA's first, SDXL (the largest) last."""


@dataclass(frozen=True)
class Sizes:
    """What one check measures; ``FULL`` is the GPU check, ``SMOKE`` the same code at tiny sizes."""

    profile: str
    dtype: str
    resolution: int
    steps: int
    warmup_steps: int
    batches: tuple[int, ...]
    authors_images: int
    compile_backend: str
    build_guess: dict[str, float]
    """Seconds to build each generator's models, before any was measured (then the measured times scale it)."""
    compile_guess: float
    """Seconds one torch.compile of a UNet takes at a new batch size, before one was measured."""
    compile_generators: tuple[str, ...]
    compile_batches: tuple[int, ...]
    """The torch.compile rows, in this order, while time is left (each new batch size compiles again)."""
    threads: int
    """torch CPU threads (0: torch's choice); the smoke runs on one so that other jobs on a small machine do not
    make it crawl."""
    training: tuple[str, ...]
    training_share: float
    """Share of the budget the training part may use."""


FULL = Sizes(
    profile="full-random", dtype="float16", resolution=512, steps=30, warmup_steps=2, batches=(1, 8, 16),
    authors_images=4, compile_backend="inductor",
    build_guess={"ip-adapter": 30, "real-guidance": 20, "da-fusion": 0, "ip-adapter-plus": 30, "sdxl-ip-adapter": 60},
    compile_guess=90.0, compile_generators=GENERATOR_NAMES, compile_batches=(8, 16, 1), threads=0,
    training=("--profile", "full-random", "--image-size", "224", "--shots", "2", "--synthetic-per-real", "10",
              "--epochs", "2", "--iterations", "50", "--eval-draws", "640"),
    training_share=0.25,
)  # fmt: skip
SMOKE = Sizes(
    profile="tiny", dtype="float32", resolution=32, steps=2, warmup_steps=1, batches=(1, 2), authors_images=2,
    compile_backend="eager",
    build_guess={"ip-adapter": 2, "real-guidance": 2, "da-fusion": 0, "ip-adapter-plus": 2, "sdxl-ip-adapter": 3},
    compile_guess=15.0, compile_generators=("ip-adapter",), compile_batches=(2,), threads=1,
    training=("--threads", "1", "--profile", "tiny", "--image-size", "32", "--shots", "1", "--synthetic-per-real", "2",
              "--epochs", "1", "--iterations", "4", "--batch-size", "8", "--eval-draws", "16",
              "--photos-per-class", "4", "--workers", "2"),
    training_share=0.4,
)  # fmt: skip


@dataclass
class Recorder:
    """Appends rows to the JSON-lines file as they come, each tagged with the run and the time."""

    path: Path
    run: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def write(self, kind: str, **values: Any) -> dict[str, Any]:
        row = {"run": self.run, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "kind": kind, **values}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.rows.append(row)
        summary = {k: v for k, v in values.items() if not isinstance(v, (dict, list))}
        print(f"[{kind}] " + ", ".join(f"{k}={_short(v)}" for k, v in summary.items()), flush=True)
        return row


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@dataclass
class Budget:
    """Seconds left until the deadline."""

    deadline: float

    def left(self) -> float:
        return self.deadline - time.monotonic()


def machine_row(recorder: Recorder, device: str) -> None:
    import diffusers
    import torch
    import transformers

    values: dict[str, Any] = {
        "device": device, "python": platform.python_version(), "torch": torch.__version__,
        "diffusers": diffusers.__version__, "transformers": transformers.__version__, "cpus": os.cpu_count(),
    }  # fmt: skip
    if device == "cuda":
        properties = torch.cuda.get_device_properties(0)
        values.update(gpu=properties.name, gpu_memory_gb=properties.total_memory / 1e9, cuda=torch.version.cuda)
    recorder.write("machine", **values)


def training_part(recorder: Recorder, sizes: Sizes, device: str, seconds: float) -> None:
    """``bench_training.py --loader`` as a child process limited to ``seconds``; it appends its own row."""
    command = [sys.executable, str(HERE / "bench_training.py"), "--loader", *sizes.training, "--device", device,
               "--jsonl", str(recorder.path), "--run-id", recorder.run]  # fmt: skip
    before = len(recorder.path.read_text().splitlines()) if recorder.path.exists() else 0
    try:
        result = subprocess.run(command, timeout=seconds, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        recorder.write("skipped", part="training", reason=f"did not finish within its {seconds:.0f} s share")
        return
    print(result.stdout[-3000:], flush=True)
    lines = recorder.path.read_text().splitlines()
    if result.returncode != 0 or len(lines) == before:
        recorder.write("error", part="training", message=(result.stderr or result.stdout)[-2000:])
        return
    row = json.loads(lines[-1])
    recorder.rows.append(row)


@dataclass
class GeneratorState:
    paths: Any
    authors_rate: float
    seconds_per_image: dict[int, float] = field(default_factory=dict)
    """The engine's latest measured seconds per image at each batch size, for estimating the next rows (the
    authors' loop's before one was measured)."""


class GenerationPart:
    """Every generator's rows, cheapest first, each only if its estimate fits in what is left."""

    def __init__(self, recorder: Recorder, sizes: Sizes, device: str, budget: Budget) -> None:
        import generation_paths

        self.paths_module = generation_paths
        self.recorder = recorder
        self.sizes = sizes
        self.device = device
        self.budget = budget
        self.built: dict[str, GeneratorState] = {}
        self.build_scale = 1.0
        self.compile_estimate = sizes.compile_guess
        self.references = generation_paths.references(2)

    def _config(self, name: str) -> Any:
        s = self.sizes
        return self.paths_module.bench_config(name, s.profile, self.device, s.dtype, s.steps, s.resolution)

    def _fits(self, what: dict[str, Any], estimate: float) -> bool:
        left = self.budget.left()
        if estimate > left:
            self.recorder.write("skipped", **what, reason=f"needs about {estimate:.0f} s, {left:.0f} s left")
            return False
        return True

    def _measure(self, work: Callable[[], int]) -> tuple[float, float, float | None]:
        """(images/s, seconds, peak GPU GB) of ``work``."""
        import torch

        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        rate, seconds = self.paths_module.timed(torch.device(self.device), work)
        peak = torch.cuda.max_memory_allocated() / 1e9 if self.device == "cuda" else None
        return rate, seconds, peak

    def build(self, name: str) -> GeneratorState | None:
        s = self.sizes
        guess = s.build_guess.get(name, 30.0) * self.build_scale
        authors_guess = 3 * s.authors_images  # seconds; refined by every measured row
        if not self._fits({"part": "generation", "generator": name}, guess + authors_guess):
            return None
        config = self._config(name)
        shared = self.built.get("real-guidance") if name == "da-fusion" else None
        start = time.perf_counter()
        paths = self.paths_module.build_paths(name, config, shared.paths.stock if shared else None)
        built = time.perf_counter() - start
        if s.build_guess.get(name):
            self.build_scale = max(self.build_scale, built / s.build_guess[name])
        rows = self.paths_module.bench_rows(name, config, s.authors_images, per_reference=s.authors_images)
        paths.authors(rows[:1], self.references, s.warmup_steps)  # warm-up
        rate, seconds, peak = self._measure(lambda: paths.authors(rows, self.references, s.steps))
        self.recorder.write(
            "generation", generator=name, path="authors", px=s.resolution, steps=s.steps,
            scheduler=paths.settings.scheduler, dtype=s.dtype, batch=1, channels_last=False, compile=False,
            images=len(rows), images_s=rate, seconds=seconds, peak_gb=peak, build_s=built,
            note="pipeline shared with real-guidance" if shared else "",
        )  # fmt: skip
        state = GeneratorState(paths, rate)
        self.built[name] = state
        return state

    def engine_row(self, name: str, state: GeneratorState, batch: int, channels_last: bool, compiled: bool) -> None:
        s = self.sizes
        what = {"part": "generation", "generator": name, "batch": batch, "channels_last": channels_last,
                "compile": compiled}  # fmt: skip
        images = max(batch, 2)
        images += -images % batch
        per_image = state.seconds_per_image.get(batch, 1.0 / state.authors_rate)
        estimate = per_image * (images + batch * s.warmup_steps / s.steps) * 1.5
        if compiled:
            estimate += self.compile_estimate
        if not self._fits(what, estimate):
            return
        state.paths.channels_last(channels_last)
        state.paths.compile(compiled, s.compile_backend)
        config = state.paths.settings
        rows = self.paths_module.bench_rows(name, self._config(name), images, per_reference=max(1, images // 2))
        start = time.perf_counter()
        state.paths.batched(rows[:batch], self.references, batch, s.warmup_steps)
        warmup = time.perf_counter() - start
        if compiled:
            self.compile_estimate = warmup  # the next compilation (a new batch size) costs about as much
        rate, seconds, peak = self._measure(lambda: state.paths.batched(rows, self.references, batch, s.steps))
        state.seconds_per_image[batch] = 1.0 / rate
        self.recorder.write(
            "generation", generator=name, path="engine", px=s.resolution, steps=s.steps, scheduler=config.scheduler,
            dtype=s.dtype, batch=batch, channels_last=channels_last, compile=compiled, images=images, images_s=rate,
            seconds=seconds, peak_gb=peak, warmup_s=warmup, ratio=rate / state.authors_rate,
        )  # fmt: skip

    def run(self) -> None:
        """Pass after pass over every generator, so each gets its cheap rows before any gets the dear ones:
        build, the authors' loop and eager rows; then channels_last; then torch.compile without and with it."""
        s = self.sizes
        for channels_last, compiled in ((False, False), (True, False), (False, True), (True, True)):
            for name in s.compile_generators if compiled else GENERATOR_NAMES:
                state = self.built.get(name)
                if state is None and not (channels_last or compiled):
                    state = self._guarded(name, lambda name=name: self.build(name))
                if state is None:
                    continue
                for batch in s.compile_batches if compiled else s.batches:
                    self._guarded(name, lambda: self.engine_row(name, state, batch, channels_last, compiled))
                if compiled:
                    self._guarded(name, lambda: state.paths.compile(False))

    def _guarded(self, name: str, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except Exception as error:  # one failing row must not cost the others
            self.recorder.write("error", part="generation", generator=name, message=f"{type(error).__name__}: "
                                f"{error}"[:2000], trace=traceback.format_exc()[-3000:])  # fmt: skip
            _free_memory()
            return None


def _free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ---- the markdown summary ----


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value).replace("|", "/").replace("\n", " ")


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(title for title, _ in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(key)) for _, key in columns) + " |" for row in rows]
    return lines


def summarise(jsonl: Path) -> str:
    """Markdown of every run in ``jsonl``, oldest first: the machine, then one table per kind of row."""
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    runs = list(dict.fromkeys(row.get("run", "?") for row in rows))
    out = [
        "# GPU check",
        "",
        f"Rows of `{jsonl.name}` (one JSON object a line), written by `benchmarks/gpu_check.sh` as each was measured.",
        "",
    ]
    for run in runs:
        mine = [row for row in rows if row.get("run") == run]
        machine = next((row for row in mine if row["kind"] == "machine"), {})
        started = mine[0].get("time", "?")
        out += [f"## Run {run} ({started})", ""]
        if machine:
            out += [", ".join(f"{k}: {_cell(v)}" for k, v in machine.items() if k not in ("run", "time", "kind")), ""]
        generation = [row for row in mine if row["kind"] == "generation"]
        if generation:
            out += ["### Generation: authors' one-image loop and dalda's engine", ""]
            out += _table(generation, [
                ("generator", "generator"), ("path", "path"), ("px", "px"), ("steps", "steps"),
                ("scheduler", "scheduler"), ("dtype", "dtype"), ("batch", "batch"), ("channels_last", "channels_last"),
                ("compile", "compile"), ("images", "images"), ("img/s", "images_s"), ("x authors", "ratio"),
                ("peak GPU GB", "peak_gb"), ("build s", "build_s"), ("warm-up s", "warmup_s"), ("note", "note"),
            ])  # fmt: skip
            out.append("")
        training = [row for row in mine if row["kind"] == "training"]
        if training:
            out += ["### Training (`train.protocol=authors`): dalda's fit and the authors' loader", ""]
            out += _table(training, [
                ("hardware", "hardware"), ("profile", "profile"), ("px", "px"), ("dtype", "dtype"),
                ("images", "images"), ("epochs x iterations x batch", "schedule"), ("eval draws", "eval_draws"),
                ("authors' draws/s", "authors_draws_s"), ("dalda draws/s", "dalda_draws_s"), ("ratio", "ratio"),
                ("dalda decode s", "dalda_decode_s"), ("authors' peak GB", "authors_peak_gb"),
                ("dalda peak GB", "dalda_peak_gb"),
            ])  # fmt: skip
            out.append("")
        left_out = [row for row in mine if row["kind"] in ("skipped", "error")]
        if left_out:
            out += ["### Skipped and failed", ""]
            out += _table(left_out, [
                ("kind", "kind"), ("part", "part"), ("generator", "generator"), ("batch", "batch"),
                ("channels_last", "channels_last"), ("compile", "compile"), ("why", "reason"), ("error", "message"),
            ])  # fmt: skip
            out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--smoke", action="store_true", help="tiny models and sizes: the same code in seconds")
    parser.add_argument("--jsonl", type=Path, required=True, help="rows are appended here")
    parser.add_argument("--budget", type=float, default=450.0, help="seconds this process may take")
    parser.add_argument("--summarise", action="store_true", help="only write the markdown summary of --jsonl")
    parser.add_argument("--markdown", type=Path, help="with --summarise: where the summary goes")
    args = parser.parse_args()
    if args.summarise:
        text = summarise(args.jsonl)
        if args.markdown:
            args.markdown.write_text(text + "\n", encoding="utf-8")
            print(f"summary in {args.markdown}")
        else:
            print(text)
        return

    budget = Budget(time.monotonic() + args.budget)
    sizes = SMOKE if args.smoke else FULL
    recorder = Recorder(args.jsonl, os.environ.get("GPU_CHECK_RUN") or uuid.uuid4().hex[:8])
    import torch

    if sizes.threads:
        torch.set_num_threads(sizes.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: --device cuda, but torch sees no CUDA device (use --device cpu for the smoke)")
    machine_row(recorder, args.device)
    training_seconds = budget.left() * sizes.training_share
    try:
        training_part(recorder, sizes, args.device, training_seconds)
    except Exception as error:
        recorder.write("error", part="training", message=f"{type(error).__name__}: {error}")
    GenerationPart(recorder, sizes, args.device, budget).run()
    print(f"gpu_check: done with {budget.left():.0f} s of the budget left", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
