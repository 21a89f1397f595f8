"""Generation: the configured generator's images for every plan row, batched, with a weight per image.

Reproducibility: an image depends only on its plan row (prompt, lambda, seed, reference image) and the
generation settings, not on batch size, batch order or which process made it. Each row's starting noise comes
from its own ``torch.Generator("cpu").manual_seed(seed)`` (CPU, so a seed means the same noise on every
device; CUDA generators give other numbers for the same seed). What remains is floating-point rounding:
batched matrix products may sum in another order than one-image products. Measured with the tiny test models
on CPU, batched and one-by-one images (pixel values in [0, 1]) differ by at most ~2e-6 in float32 (the tests
allow 1e-4), 1e-3 in float16 (a quarter of an 8-bit level) and 8e-3 in bfloat16 (two levels); expect the
float16 order of magnitude on CUDA too. The content is the same; only rounding differs.

Multiple processes: ``torchrun --nproc_per_node N -m dalda.generation RUN_DIR`` or ``accelerate launch
--multi_gpu --num_processes N -m dalda.generation RUN_DIR`` (one GPU each; on a machine without CUDA the same
commands start CPU processes joined with gloo). ``accelerate launch --cpu --num_processes N`` starts several
processes only through MPI (``--mpirun_hostfile``); without it, it runs one.

Modules: ``manifest`` (file layout, manifest lines, crash-safe resume), ``sharding`` (several processes),
``truncation`` (one warning for over-long prompts), ``stage`` (``run_generate_stage``, what ``dalda generate``
runs). The engines themselves belong to the generators (``dalda.generators``; DALDA's batched per-lambda
pipeline is ``dalda.generators.ip_adapter_engine``).
"""

from dalda.generation.stage import GenerationSummary, RowFailure, run_generate_stage

__all__ = ["GenerationSummary", "RowFailure", "run_generate_stage"]
