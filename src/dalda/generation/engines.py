"""Which engine executes a plan: DALDA's SD + IP-Adapter, or SD img2img for the baselines.

Both engines take the same calls (encode the reference images once, then generate batches of rows with one
weight per row): the IP-Adapter weight lambda for DALDA, the img2img strength for Real Guidance and DA-Fusion.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dalda.config import DaldaConfig, ModelsConfig
from dalda.artefacts.plan import PlanRow
from dalda.rundir import RunDir

_TRUNCATION = "truncated because CLIP can only handle"


def row_weight(row: PlanRow) -> float:
    """The per-row number the engine needs: lambda for IP-Adapter rows, strength for img2img rows."""
    weight = row.ip_scale if row.generator == "ip-adapter" else row.strength
    if weight is None:
        raise ValueError(f"plan row {row.row_id} ({row.generator}) has no weight; rebuild the plan with `dalda plan`")
    return weight


def check_plan_generator(rows: Sequence[PlanRow], config: DaldaConfig, plan_path) -> None:
    """A plan built for one generator must not be executed by another (a stale plan after a config change)."""
    wrong = {row.generator for row in rows} - {config.baseline.generator}
    if wrong:
        raise ValueError(
            f"{plan_path} was built for {sorted(wrong)} but baseline.generator={config.baseline.generator!r}; "
            "re-run `dalda plan`"
        )


def build_engine(config: DaldaConfig, run: RunDir, models: ModelsConfig):
    """The engine for ``config.baseline.generator``; DA-Fusion first learns (or loads) its class tokens."""
    from dalda.models.loaders import load_img2img_pipeline, load_sd_ip_adapter_pipeline

    if config.baseline.generator == "ip-adapter":
        from dalda.generation.engine import GenerationEngine

        return GenerationEngine(load_sd_ip_adapter_pipeline(models), config.generation)
    from dalda.baselines.engine import Img2ImgEngine

    pipe = load_img2img_pipeline(models)
    if config.baseline.generator == "da-fusion":
        learn_class_tokens(config, run, pipe)
    return Img2ImgEngine(pipe, config.generation)


def learn_class_tokens(config: DaldaConfig, run: RunDir, pipe=None) -> None:
    """DA-Fusion's textual inversion for every class (reuses tokens already saved in the run directory)."""
    from dalda.baselines.tokens import ensure_class_tokens
    from dalda.artefacts.split import read_split_for
    from dalda.models.loaders import load_img2img_pipeline

    ensure_class_tokens(pipe or load_img2img_pipeline(config.models), config, read_split_for(config.data, run), run)


@contextmanager
def one_truncation_warning(tokenizer, prompts: Sequence[str]) -> Iterator[None]:
    """Say once how many prompts exceed the text encoder's context, instead of diffusers' warning per batch."""
    limit = tokenizer.model_max_length
    too_long = sum(len(tokenizer(prompt, truncation=False).input_ids) > limit for prompt in prompts)
    if too_long:
        logging.getLogger(__name__).warning(
            "%d of %d prompts exceed the text encoder's %d tokens and are truncated", too_long, len(prompts), limit
        )
    quiet = _DropTruncationWarnings()
    loggers = [logging.getLogger(name) for name in _PIPELINE_LOGGERS]
    for source in loggers:
        source.addFilter(quiet)
    try:
        yield
    finally:
        for source in loggers:
            source.removeFilter(quiet)


_PIPELINE_LOGGERS = (
    "diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion",
    "diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img",
)


class _DropTruncationWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _TRUNCATION not in record.getMessage()
