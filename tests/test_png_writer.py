"""The generation stage's PNG writer: a bounded queue, and its benchmark (``bench_generation.py --writer``)."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from dalda.artefacts import ManifestLine
from dalda.generation.stage import PngWriter
from dalda.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]


def _bench(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_generation", ROOT / "benchmarks" / "bench_generation.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # it imports its sibling generator_costs
    monkeypatch.setitem(sys.modules, "bench_generation", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_writer_benchmark_times_the_real_writer_on_tiny_sizes_and_records_its_rows(tmp_path, monkeypatch):
    bench = _bench(monkeypatch)
    written = []
    real_write = bench.PngWriter._write

    def spy(self, item):
        real_write(self, item)
        written.append(self.run.synthetic / item[2].file_name)

    monkeypatch.setattr(bench.PngWriter, "_write", spy)
    results = bench.bench_writer([(24, 16), (40, 30)], threads=[1, 2], levels=[0, 6], at_512=4, folder=tmp_path,
                                 resolution=16)  # fmt: skip
    assert [(r.source, r.level, r.threads) for r in results] == [
        (source, level, threads) for source in [(24, 16), (40, 30)] for level in (0, 6) for threads in (1, 2)
    ]
    assert all(r.rate > 0 and r.images == 4 == bench.writer_images(r.source, 4) for r in results)
    assert bench.writer_images((4032, 3024), 12) == 2 and bench.writer_images((1024, 768), 12) == 4
    assert len(written) == sum(r.images for r in results)
    for path in written:  # every file resized back to its source and complete, with its manifest line
        with Image.open(path) as image:
            assert image.size in {(24, 16), (40, 30)}
        lines = (path.parent / "manifest.jsonl").read_text().splitlines()
        assert path.name in {json.loads(line)["file_name"] for line in lines}

    table = bench.writer_table(results)
    assert table[0] == ["source", "level", "1 thread img/s", "2 threads img/s", "speed-up"]
    assert [row[:2] for row in table[1:]] == [["24x16", "0"], ["24x16", "6"], ["40x30", "0"], ["40x30", "6"]]

    record = tmp_path / "generation.md"
    record.write_text(
        "# t\n\n## PNG writer\n\n| source |\n|---|\n| 1x1 |\n\n| date |\n|---|\n| old |\n\n## Results\n\n| b |\n|---|\n"
    )
    bench.record_writer(record, results[:2])
    text = record.read_text()
    assert text.index("| 1x1 |\n\n| date |") < text.index("| old |") < text.index("| 24x16 | 0 | 1 |") < text.index("| 24x16 | 0 | 2 |") < text.index(
        "## Results"
    )
    assert text.endswith("| b |\n|---|\n")  # the generation table stays last, where its --record appends


@pytest.mark.parametrize("threads", [1, 3])
def test_a_slow_writer_holds_at_most_twice_its_threads_in_images_so_memory_stays_bounded(tmp_path, monkeypatch, threads):
    """Issue 12's throughput case: one writer with an unbounded queue piled up every generated image in memory."""
    run = RunDir(tmp_path)
    lock = threading.Lock()
    state = {"held": 0, "most": 0}
    real_write = PngWriter._write

    def slow_write(self, item):
        time.sleep(0.02)
        real_write(self, item)
        with lock:
            state["held"] -= 1

    monkeypatch.setattr(PngWriter, "_write", slow_write)
    writer = PngWriter(run, run.manifest, resize_to_source=True, compress_level=0, threads=threads)
    image = Image.new("RGB", (8, 8), "red")
    try:
        for index in range(12):
            with lock:  # counted before submit: held = submitted and not yet written, including this one
                state["held"] += 1
            writer.submit([(image, (16, 12), ManifestLine(f"{index:06d}.png", row_id=index))])
            with lock:
                state["most"] = max(state["most"], state["held"])
    finally:
        writer.close()
    assert state["most"] <= 2 * threads
    assert sorted(path.name for path in run.synthetic.glob("*.png")) == [f"{index:06d}.png" for index in range(12)]
    assert len(run.manifest.read_text().splitlines()) == 12
