"""The seed of one trial: every random choice a run makes after its split derives from (``seed``, ``data.trial``).

The authors seed their generation and training with the trial, so their trials differ in prompt order, λ noise,
image seeds and textual-inversion tokens as well as in the split. dalda derives one integer from the pair and
hands it to every stream (``dalda.generators.PlanStreams``, the DA-Fusion tokens).

Trial 0 keeps the run seed itself. Runs made before trials were seeded were all planned from the run seed alone,
so a trial-0 run made then plans the same rows now and its images are never made again (the run in
``tests/fixtures/run_made_by_6cff4a0`` is pinned by ``tests/test_run_files.py``); trials 1 and up get a seed of
their own, ``numpy.random.SeedSequence([seed, trial])``'s first 32-bit word (``docs/protocol.md``, Trials).
"""

from __future__ import annotations

import numpy as np


def trial_seed(seed: int, trial: int) -> int:
    """The seed every random stream of trial ``trial`` of a run seeded ``seed`` starts from (module docstring)."""
    if trial < 0:
        raise ValueError(f"data.trial must be 0 or more, got {trial}")
    if trial == 0:
        return seed
    return int(np.random.SeedSequence([seed, trial]).generate_state(1)[0])
