"""How the runs of a report were made: a header table (one row per distinct setting) and a loud banner when
any run used random models (``tiny``, ``full-random``), whose images and accuracies mean nothing; then the wall
time and throughput of each stage (``dalda.report.timings``)."""

from __future__ import annotations

import html
from importlib import metadata
from typing import Any

from dalda.report.collect import RunRecord
from dalda.report.timings import timings_html

RANDOM_PROFILES = ("tiny", "full-random")
COLUMNS = (
    "profile", "checkpoints", "revisions", "generation", "prompts", "protocol", "seed", "dalda", "runs",
)  # fmt: skip


def dalda_version() -> str:
    try:
        return metadata.version("dalda")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _setting(record: RunRecord) -> tuple[str, ...]:
    config = record.config
    models, generation, prompts, data = config.models, config.generation, config.prompts, config.data
    checkpoints = f"SD {models.sd_model}; IP-Adapter {models.ip_adapter_repo}; CLIP {models.clip_model}"
    if models.vae:
        checkpoints += f"; VAE {models.vae}"
    revisions = ", ".join(f"{key}={value}" for key, value in sorted(models.revisions.items())) or "latest"
    made = (
        f"{config.generator.name}, {generation.scheduler} {generation.steps} steps, {generation.resolution} px, "
        f"guidance {generation.guidance_scale:g}"
    )
    asked = f"{prompts.source} via {prompts.backend}" + (f" ({prompts.model})" if prompts.backend == "openai" else "")
    protocol = (
        f"{data.dataset}, {data.shots}-shot trial {data.trial}, eval on {data.eval_split}; "
        f"train.protocol {config.train.protocol}"
    )
    return (models.profile, checkpoints, revisions, made, asked, protocol, str(config.seed), dalda_version())


def provenance_html(records: list[RunRecord]) -> str:
    """The banner (when any run used random models) and the table of settings, as trusted HTML."""
    settings: dict[tuple[str, ...], list[str]] = {}
    for record in records:
        settings.setdefault(_setting(record), []).append(record.root.resolve().name)
    parts: list[str] = []
    random = sorted({record.config.models.profile for record in records} & set(RANDOM_PROFILES))
    if random:
        parts.append(
            f"<div class='banner' role='alert'>RANDOM MODELS (profile {', '.join(random)}): these images and "
            "accuracies come from untrained networks and say nothing about DALDA. Use models.profile=real for "
            "results.</div>"
        )
    parts.append("<h2>How the runs were made</h2><table class='provenance'><thead><tr>")
    parts += [f"<th>{name}</th>" for name in COLUMNS]
    parts.append("</tr></thead><tbody>")
    for setting, names in settings.items():
        runs = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        cells: list[Any] = [*setting, runs]
        parts.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>")
    parts.append("</tbody></table>")
    parts.append(timings_html(records))
    return "".join(parts)
