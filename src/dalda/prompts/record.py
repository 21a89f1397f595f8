"""The prompts stage's errors. The record it keeps (``prompts_record.json``) is
:class:`dalda.artefacts.PromptsRecord`."""

from __future__ import annotations


class PromptsError(RuntimeError):
    """The prompts stage cannot produce prompts; the message names the setting, class or file at fault."""


class PromptsIncompleteError(PromptsError):
    """Retries ran out before every class had a valid sentence.

    ``missing`` lists the classes without a sentence in round ``round_index`` (0-based); everything obtained
    until then is saved in the run's prompts record, and the next run continues from there.
    """

    def __init__(self, message: str, *, round_index: int, missing: list[str]) -> None:
        super().__init__(message)
        self.round_index = round_index
        self.missing = missing
