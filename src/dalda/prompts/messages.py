"""The chat messages sent to an LLM backend (the authors' set-up, REFERENCE.md "LLM prompt generation").

One request asks for a JSON object ``{class name: one sentence}``. The first request of a round asks for every
class; a repair request asks only for the classes still missing or rejected and says what was wrong, while
still listing every class of the dataset so the model knows which names to avoid.
"""

from __future__ import annotations

import json

ChatMessage = dict[str, str]

SYSTEM_MESSAGE = (
    "You write text prompts for a text-to-image model that creates training images for an image "
    "classification dataset. For each class you are asked about, write exactly one sentence that describes a "
    "realistic photo of that class. Keep the properties that define the class, and add external elements such "
    "as the view, colour, action, background, foreground or environment. Stay realistic and consistent with the "
    "dataset description. A sentence may name only its own class: never mention any other class of the "
    "dataset in it. Answer with one JSON object that maps each class name, written exactly as given, to its "
    "sentence, and nothing else."
)


def build_messages(
    description: str, classes: list[str], wanted: list[str], feedback: dict[str, str] | None = None
) -> list[ChatMessage]:
    """System + user messages asking for one sentence for each class in ``wanted``.

    ``feedback`` maps a class to why its previous sentence was rejected; it is included so the model can fix it.
    """
    parts = [
        f"Dataset description: {description}",
        "Classes of the dataset (a sentence must not mention any class other than its own): "
        + json.dumps(classes, ensure_ascii=False),
    ]
    if list(wanted) == list(classes):
        parts.append("Write one sentence for every class above.")
    else:
        only = json.dumps(wanted, ensure_ascii=False)
        parts.append(f"Write one sentence for each of these {len(wanted)} classes only: {only}")
    if feedback:
        notes = "\n".join(f"- {json.dumps(name, ensure_ascii=False)}: {why}" for name, why in feedback.items())
        parts.append("Your previous answer could not be used for these classes:\n" + notes)
    parts.append('Answer with JSON only, e.g. {"class name": "One sentence."}.')
    return [
        {"role": "system", "content": SYSTEM_MESSAGE},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
