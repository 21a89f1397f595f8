"""A second SigLIP size as an alignment scorer: the whole entry, as a researcher would add it (nothing else in
dalda is edited for it; ``tests/test_extending_scorer_checkpoint.py`` registers and runs it)."""

from pydantic import Field

from dalda.scorers import SiglipScorer, SiglipSettings


class SiglipLargeSettings(SiglipSettings):
    model: str = Field(
        "google/siglip-large-patch16-384", description="SigLIP large checkpoint: Hub id or local folder."
    )


SIGLIP_LARGE = SiglipScorer(
    name="siglip-large", title="SigLIP large (softmax over classes)", settings_model=SiglipLargeSettings
)
