"""A generator's one-off preparation is shared out among launched processes with no collective waiting on it.

Two ranks are simulated by two threads with a fake ``Processes`` whose barrier fails when entered while a
unit (a DA-Fusion class token) is being made.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

import pytest
import torch
from PIL import Image
from safetensors import safe_open

from dalda.configure import build_config
from dalda.data.stage import run_data_stage
from dalda.generation.preparation import failure_marker, prepare_shared
from dalda.generation.stage import run_generate_stage
from dalda.generators import Preparation
from dalda.generators import class_tokens as token_store
from dalda.models import sd as sd_models
from dalda.io import read_jsonl
from dalda.pipeline import prepare_run
from dalda.planning.stage import run_plan_stage
from dalda.rundir import RunDir


class Ranks:
    """What the simulated ranks share: a barrier, the gathered lists, how many units are being made now and how
    many ranks sit in the barrier now (a unit made while a rank waits there is a failure, whichever came first)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.barrier = threading.Barrier(count, timeout=120)
        self.lock = threading.Lock()
        self.making = 0
        self.waiting = 0
        self.gathered: dict[int, list] = {}
        self.errors: list[str] = []


class FakeProcesses:
    def __init__(self, ranks: Ranks, index: int) -> None:
        self.ranks, self.index, self.count = ranks, index, ranks.count

    @property
    def is_main(self) -> bool:
        return self.index == 0

    def wait(self) -> None:
        with self.ranks.lock:
            making = self.ranks.making
        if making:
            self.ranks.errors.append(f"rank {self.index} entered a barrier while {making} unit(s) were being made")
            self.ranks.barrier.abort()
        with self.ranks.lock:
            self.ranks.waiting += 1
        try:
            self.ranks.barrier.wait()
        finally:
            with self.ranks.lock:
                self.ranks.waiting -= 1

    def gather(self, items: list) -> list:
        self.ranks.gathered[self.index] = list(items)
        self.wait()
        result = [item for index in range(self.count) for item in self.ranks.gathered[index]]
        self.wait()
        return result

    def models_config(self, models):
        return models


def _run_ranks(count: int, target, ranks: Ranks | None = None) -> Ranks:
    """Run ``target(processes)`` on ``count`` threads; re-raise the first error."""
    ranks = ranks or Ranks(count)
    failures: list[BaseException] = []

    def body(index: int) -> None:
        try:
            target(FakeProcesses(ranks, index))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            failures.append(error)
            ranks.barrier.abort()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not ranks.errors, ranks.errors
    if failures:
        raise failures[0]
    return ranks


def _da_fusion_config(out_dir) -> object:
    return build_config(
        {
            "out_dir": str(out_dir),
            "data": {"dataset": "demo", "root": str(out_dir.parent / "demo-data"), "shots": 1},
            "models": {"profile": "tiny"},
            "plan": {"images_per_real": 1},
            "prompts": {"source": "base"},
            "guidance": {"strategy": "random"},
            "generator": {
                "name": "da-fusion", "resolution": 32, "steps": 2, "ti_steps": 2, "ti_batch_size": 1, "ti_resolution": 32
            },
        }
    )


def _tokens(run: RunDir) -> dict[str, torch.Tensor]:
    tokens = {}
    for path in sorted(run.textual_inversion.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            tokens[path.name] = handle.get_tensor("embedding")
    return tokens


@pytest.mark.slow
def test_two_ranks_learn_each_class_token_once_with_no_barrier_meanwhile_and_match_one_process(tmp_path, monkeypatch):
    learned: Counter[str] = Counter()
    real_learn = token_store.learn_class_token
    ranks: Ranks | None = None

    def counted_learn(pipe, class_name, *args, **kwargs):
        learned[class_name] += 1
        if ranks:
            with ranks.lock:
                ranks.making += 1
        try:
            time.sleep(0.2)  # the other rank finishes its share meanwhile and must poll, not enter a barrier
            return real_learn(pipe, class_name, *args, **kwargs)
        finally:
            if ranks:
                with ranks.lock:
                    ranks.making -= 1
                    if ranks.waiting:
                        ranks.errors.append(f"{class_name!r} was learned while {ranks.waiting} rank(s) sat in a barrier")

    monkeypatch.setattr(token_store, "learn_class_token", counted_learn)
    # real ranks are processes with their own torch RNG; threads share one, which the tiny models' seeded build
    # uses, so two threads build their pipelines one at a time
    build_lock = threading.Lock()
    real_load = sd_models.load_img2img_pipeline

    def load_one_at_a_time(models, checkpoints):
        with build_lock:
            return real_load(models, checkpoints)

    monkeypatch.setattr(sd_models, "load_img2img_pipeline", load_one_at_a_time)  # da_fusion imports it on use
    monkeypatch.setattr("dalda.generation.preparation.POLL_S", 0.05)

    # one process: the reference
    alone_config = _da_fusion_config(tmp_path / "alone")
    alone = prepare_run(alone_config)
    split = run_data_stage(alone_config, alone)
    assert len(split.classes) >= 2
    rows = run_plan_stage(alone_config, alone)
    assert run_generate_stage(alone_config, alone).generated == len(rows)
    assert learned == Counter({name: 1 for name in split.classes})

    # two simulated ranks on a second run directory with the same inputs
    learned.clear()
    shared_config = _da_fusion_config(tmp_path / "shared")
    shared = prepare_run(shared_config)
    run_data_stage(shared_config, shared)
    run_plan_stage(shared_config, shared)
    summaries = {}
    ranks = Ranks(2)

    def rank(processes: FakeProcesses) -> None:
        summaries[processes.index] = run_generate_stage(shared_config, shared, processes)

    _run_ranks(2, rank, ranks)

    assert learned == Counter({name: 1 for name in split.classes})  # (a) every class learned exactly once
    assert summaries[0].generated == len(rows) and not summaries[0].failed
    one, two = _tokens(alone), _tokens(shared)  # (c) the same tokens and images as one process
    assert one.keys() == two.keys() and len(one) == len(split.classes)
    assert all(torch.equal(one[name], two[name]) for name in one)
    made_alone = {line["row_id"]: line["file_name"] for line in read_jsonl(alone.manifest)}
    made_shared = {line["row_id"]: line["file_name"] for line in read_jsonl(shared.manifest)}
    assert made_alone == made_shared
    for name in made_alone.values():
        with Image.open(alone.synthetic / name) as a, Image.open(shared.synthetic / name) as b:
            assert a.tobytes() == b.tobytes()


def _unit_preparation(run: RunDir, units: tuple[str, ...], made: Counter, fail: str | None = None) -> Preparation:
    folder = run.root / "units"

    def make(names, models) -> None:
        for name in names:
            if name == fail:
                raise OSError(f"disk trouble while making {name}")
            made[name] += 1
            folder.mkdir(exist_ok=True)
            (folder / name).write_text("done")

    return Preparation("toy unit", units, lambda name: (folder / name).is_file(), make)


def test_a_failed_share_stops_the_other_ranks_with_its_error_instead_of_a_hang(tmp_path):
    run = RunDir(tmp_path)
    made: Counter[str] = Counter()
    errors: dict[int, BaseException] = {}

    def rank(index: int) -> None:
        preparation = _unit_preparation(run, ("a", "b", "c", "d"), made, fail="b" if index == 1 else None)
        try:
            prepare_shared(preparation, run, None, index, 2, poll_s=0.01)
        except BaseException as error:  # noqa: BLE001
            errors[index] = error

    threads = [threading.Thread(target=rank, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert isinstance(errors[1], OSError)  # the failing rank raises its own error
    message = str(errors[0])  # the other rank stops with one line naming the rank, the unit and the cause
    assert "process 2/2" in message and "'b'" in message and "disk trouble" in message
    assert made == Counter({"a": 1, "c": 1})  # rank 1 gets b, d (every second unit); b failed first
    assert failure_marker(run, 1, 2).is_file()


def test_a_waiting_rank_logs_what_it_waits_for_at_a_steady_interval(tmp_path, caplog):
    run = RunDir(tmp_path)
    made: Counter[str] = Counter()
    preparation = _unit_preparation(run, ("a", "b"), made)
    sleeps = []

    def other_rank_finishes_later(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:  # rank 0 makes "a" meanwhile
            preparation.make(["a"], None)

    ticks = iter(range(0, 1000, 30))  # 30 s of (fake) time pass per poll
    with caplog.at_level(logging.INFO, logger="dalda.generation.preparation"):
        prepare_shared(
            preparation, run, None, 1, 2, poll_s=1.0, log_every_s=60.0,
            sleep=other_rank_finishes_later, clock=lambda: float(next(ticks)),
        )
    assert made == Counter({"a": 1, "b": 1}) and len(sleeps) == 3
    waits = [record.getMessage() for record in caplog.records if "waits for" in record.getMessage()]
    assert waits and all("1 of 2 toy unit(s)" in line and "'a'" in line for line in waits)
    assert len(waits) < len(sleeps) + 1  # once per minute of (fake) time, not once per poll


@pytest.mark.parametrize("count", [1, 3])
def test_one_process_makes_everything_and_an_up_to_date_unit_is_never_made_again(tmp_path, count):
    run = RunDir(tmp_path)
    made: Counter[str] = Counter()
    units = ("a", "b", "c", "d", "e")
    _run_ranks(count, lambda p: prepare_shared(_unit_preparation(run, units, made), run, None, p.index, p.count, 0.01))
    assert made == Counter({unit: 1 for unit in units})
    _run_ranks(count, lambda p: prepare_shared(_unit_preparation(run, units, made), run, None, p.index, p.count, 0.01))
    assert made == Counter({unit: 1 for unit in units})


def test_make_pending_makes_only_the_missing_units_in_one_process(tmp_path):
    """What the experiment runner calls to make a cell's shared preparation (e.g. DA-Fusion tokens)."""
    run = RunDir(tmp_path)
    made: Counter[str] = Counter()
    (run.root / "units").mkdir()
    (run.root / "units" / "b").write_text("done")
    _unit_preparation(run, ("a", "b", "c"), made).make_pending(None)
    assert made == Counter({"a": 1, "c": 1})
    assert Preparation().pending() == [] and Preparation().make_pending(None) is None
