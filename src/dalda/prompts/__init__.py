"""Text prompts for generation (paper Sec. 3.3, App. C): Base Prompt, template, or M sentences per class by an LLM."""

from dalda.prompts.record import PromptsError, PromptsIncompleteError
from dalda.prompts.stage import run_prompts_stage

__all__ = ["PromptsError", "PromptsIncompleteError", "run_prompts_stage"]
