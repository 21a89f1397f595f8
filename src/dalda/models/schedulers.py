"""The samplers: the authors' DDIM that every SD and SDXL pipeline is assembled with, and the ones a
generator's ``scheduler`` setting names (``generator.scheduler``), built from a loaded pipeline's own noise
schedule.

Every generator's engine swaps its pipeline's scheduler for the configured one, so the table lives here, next
to the code that loads the pipelines, rather than in any one generator.
"""

from __future__ import annotations

from typing import Any

from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler, PNDMScheduler

# The authors' DDIM settings (docs/protocol.md, generation), identical to SD v1's training schedule.
DDIM_SETTINGS = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
}

# Each scheduler is built from the loaded pipeline's scheduler config (the authors' DDIM betas and offsets)
# with the overrides that name the variant.
SCHEDULERS: dict[str, tuple[type, dict[str, Any]]] = {
    "ddim": (DDIMScheduler, {}),
    "dpm-solver++": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "euler": (EulerDiscreteScheduler, {}),
    "pndm": (PNDMScheduler, {"skip_prk_steps": True}),
}


def ddim_scheduler() -> DDIMScheduler:
    """A fresh DDIM scheduler with the authors' settings."""
    return DDIMScheduler(**DDIM_SETTINGS)


def build_scheduler(name: str, base_config: Any) -> Any:
    """A fresh scheduler of kind ``name`` sharing ``base_config``'s noise schedule."""
    if name not in SCHEDULERS:
        raise ValueError(f"generator.scheduler={name!r} is not known; choose one of {sorted(SCHEDULERS)}")
    cls, overrides = SCHEDULERS[name]
    return cls.from_config(base_config, **overrides)
