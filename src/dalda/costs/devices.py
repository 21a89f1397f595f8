"""The GPUs a cost estimate can be given for: peak dense 16-bit tensor throughput, and how much of it a run gets.

Peaks are the vendors' datasheet figures for dense (not 2:4 sparse) bf16/fp16 tensor-core work: NVIDIA's H100
SXM and H200 datasheets give 989 TFLOP/s (the PCIe H100 756), the A100 datasheet 312, the L40S 362, the L4 121,
the A10 125, the V100's (fp16 tensor cores) 125 and the T4's 65. A run gets a fraction of the peak: the
utilisation comes from a measured GPU row of ``dalda/experiments/throughput.json`` where one names the device,
otherwise :data:`DEFAULT_UTILISATION`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

PEAK_TFLOPS = {
    "H100-SXM": 989.0,
    "H200": 989.0,
    "H100-PCIe": 756.0,
    "A100": 312.0,
    "L40S": 362.0,
    "A10": 125.0,
    "L4": 121.0,
    "V100": 125.0,
    "T4": 65.0,
}
DEFAULT_GPU = "H100-SXM"
DEFAULT_UTILISATION = 0.35
"""A stated guess for diffusion sampling in fp16 at batch 8 or more: convolutions and attention at 512 px keep a
large GPU partly busy, and normalisation, scheduler and decode work count no FLOPs here."""


@dataclass(frozen=True)
class Throughput:
    gpu: str
    peak_tflops: float
    utilisation: float
    source: str
    """Where the utilisation comes from, in words."""

    @property
    def flops_per_second(self) -> float:
        return self.peak_tflops * 1e12 * self.utilisation


def measured_rows() -> list[dict]:
    """The GPU rows of the packaged throughput table that state a measured utilisation of the peak."""
    text = resources.files("dalda.experiments").joinpath("throughput.json").read_text()
    return [row for row in json.loads(text)["rows"] if row.get("device") == "gpu" and "utilisation" in row]


def throughput(gpu: str = DEFAULT_GPU, rows: list[dict] | None = None) -> Throughput:
    """The GPU's peak times a utilisation: the mean measured on that GPU, else the default."""
    if gpu not in PEAK_TFLOPS:
        raise ValueError(f"unknown GPU {gpu!r}; choose one of {', '.join(PEAK_TFLOPS)}")
    found = [float(row["utilisation"]) for row in (measured_rows() if rows is None else rows) if row.get("gpu") == gpu]
    if found:
        utilisation = sum(found) / len(found)
        source = f"utilisation {utilisation:.0%} measured ({len(found)} row(s) of throughput.json)"
    else:
        utilisation = DEFAULT_UTILISATION
        source = f"utilisation {utilisation:.0%} assumed (no measured row for {gpu})"
    return Throughput(gpu, PEAK_TFLOPS[gpu], utilisation, source)
