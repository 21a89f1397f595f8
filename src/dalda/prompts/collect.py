"""Collecting M prompts per class from a chat backend, the authors' way, with repairs.

Round ``r`` (of M) asks for a JSON object ``{class: one sentence}`` covering every class. Sentences that pass
validation are kept; for the classes still missing (absent, empty, or naming another class) a repair request
asks again for those classes only, with the reason each was rejected, up to ``max_retries`` times per round.
After every request the record is saved, so whatever was obtained survives an error or an interrupt, and a
later run with the same settings continues from it.

The LLM is asked with the LLM-facing class names (``llm_names``, from the dataset's entry), and its answer is
read back into the dataset's names. ``validation`` (``prompts.validation``) says what a sentence the validator
flags does (``dalda.prompts.validation``); every flagged sentence is listed in the record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from dalda.chat import BackendError, ChatBackend
from dalda.chat.request import ClassNameMatcher, build_messages, llm_facing
from dalda.artefacts.prompts import PromptsRecord, utc_now
from dalda.prompts.record import PromptsIncompleteError
from dalda.prompts.validation import AnswerNotJSON, ValidationMode, check_answer, extract_json_object
from dalda.redact import redact

log = logging.getLogger(__name__)


MAX_RECORDED_RESPONSE_CHARS = 20_000
"""The most characters of one LLM answer kept in ``prompts_record.json``: enough for any valid answer (K classes
x one sentence), while a runaway answer (megabytes of text) cannot grow the record without bound."""


def recorded_response(text: str) -> str:
    """``text`` as the record keeps it: whole up to :data:`MAX_RECORDED_RESPONSE_CHARS`, else its start and how
    much was left out."""
    if len(text) <= MAX_RECORDED_RESPONSE_CHARS:
        return text
    left_out = len(text) - MAX_RECORDED_RESPONSE_CHARS
    return f"{text[:MAX_RECORDED_RESPONSE_CHARS]}... [{left_out:,} more characters not kept]"


def _names(classes: list[str]) -> str:
    return ", ".join(repr(name) for name in classes)


def _group_reasons(problems: dict[str, str]) -> str:
    """One line per distinct reason, so a garbage answer for 101 classes reads as one reason, not 101."""
    groups: dict[str, list[str]] = {}
    for name, why in problems.items():
        groups.setdefault(why, []).append(name)
    return "; ".join(f"{why} [{_names(names)}]" for why, names in groups.items())


def collect_prompts(
    backend: ChatBackend,
    classes: list[str],
    description: str,
    num_prompts: int,
    max_retries: int,
    record: PromptsRecord,
    on_round_done: Callable[[], None] = lambda: None,
    *,
    llm_names: Mapping[str, str] | None = None,
    validation: ValidationMode = "repair",
) -> dict[str, list[str]]:
    """``{class: [M sentences]}`` in class order; raise :class:`PromptsIncompleteError` when retries run out."""
    matcher = ClassNameMatcher(classes, llm_names)
    while len(record.rounds) < num_prompts:
        record.rounds.append({})
    for index in range(num_prompts):
        got = record.rounds[index]
        if all(name in got for name in classes):
            continue
        _collect_round(backend, classes, description, index, num_prompts, max_retries, record, matcher, validation)
        on_round_done()
    return {name: [record.rounds[index][name] for index in range(num_prompts)] for name in classes}


def _collect_round(
    backend: ChatBackend,
    classes: list[str],
    description: str,
    index: int,
    num_prompts: int,
    max_retries: int,
    record: PromptsRecord,
    matcher: ClassNameMatcher,
    validation: ValidationMode,
) -> None:
    got = record.rounds[index]
    asked = dict(zip(classes, llm_facing(classes, matcher.llm_names), strict=True))
    problems: dict[str, str] = {}
    for attempt in range(max_retries + 1):
        wanted = [name for name in classes if name not in got]
        if not wanted:
            return
        if attempt > 0:
            log.warning(
                "round %d/%d: asking again for %d class(es) (repair %d of %d): %s",
                index + 1, num_prompts, len(wanted), attempt, max_retries,
                redact(_group_reasons(problems), backend.secrets),
            )
        feedback = {asked[name]: why for name, why in problems.items()}
        messages = build_messages(description, list(asked.values()), [asked[name] for name in wanted], feedback)
        entry = {"round": index, "attempt": attempt, "requested": wanted, "messages": messages, "started_at": utc_now()}
        started = time.perf_counter()
        try:
            reply = backend.complete(messages)
        except BackendError as error:
            entry.update(error=str(error), seconds=round(time.perf_counter() - started, 3))
            record.attempts.append(entry)
            record.save()
            raise PromptsIncompleteError(
                f"{error}\nRound {index + 1}/{num_prompts} stopped with no valid sentence yet for "
                f"{len(wanted)} class(es): {_names(wanted)}. Everything obtained so far is kept in "
                f"{record.path}; run the prompts stage again to continue from there.",
                round_index=index,
                missing=wanted,
            ) from None
        try:
            answer = extract_json_object(reply.text)
        except AnswerNotJSON as error:
            accepted, problems = {}, {name: f"no usable answer ({error})" for name in wanted}
        else:
            accepted, problems, flags = check_answer(answer, wanted, matcher, validation)
            record.flagged += [flag.to_json(round=index, attempt=attempt) for flag in flags]
            if flags:
                log.warning(
                    "round %d/%d: %d sentence(s) flagged by the validator (%s): %s",
                    index + 1, num_prompts, len(flags), flags[0].action,
                    redact("; ".join(f"{f.class_name!r}: {f.reason}" for f in flags), backend.secrets),
                )
        got.update(accepted)
        entry.update(
            response=recorded_response(reply.text),
            usage=reply.usage,
            details=reply.details,
            accepted=sorted(accepted, key=classes.index),
            problems=problems,
            seconds=round(time.perf_counter() - started, 3),
        )
        record.attempts.append(entry)
        record.save()
    wanted = [name for name in classes if name not in got]
    if wanted:
        reasons = _group_reasons({name: problems.get(name, "no sentence") for name in wanted})
        raise PromptsIncompleteError(
            f"round {index + 1}/{num_prompts}: after 1 request and {max_retries} repair(s) there is still no valid "
            f"sentence for {len(wanted)} class(es): {_names(wanted)} (last problems: "
            f"{redact(reasons, backend.secrets)}). Everything obtained so far is kept in {record.path}; run the "
            "prompts stage again to continue, or raise prompts.max_retries.",
            round_index=index,
            missing=wanted,
        )
