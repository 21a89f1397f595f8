"""Text prompts for generation (paper Sec. 3.3, App. C): Base Prompt, template, or M sentences per class by an LLM."""

from dalda.prompts.record import PromptsError, PromptsIncompleteError
from dalda.prompts.stage import prompts_for_classes, run_prompts_stage

__all__ = ["PromptsError", "PromptsIncompleteError", "prompts_for_classes", "run_prompts_stage"]
