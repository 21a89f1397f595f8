"""One table for every metric, diversity and fidelity alike, so one entry-point group (``dalda.metrics``) and one
config table (``evaluate.metrics``) reach all of them; each entry's ``kind`` says which stage code runs it."""

from __future__ import annotations

from typing import Any

from dalda.config import EvaluateConfig
from dalda.metrics.spec import KINDS, Metric, MetricKind, MetricSettings
from dalda.registry import Registry
from dalda.settings import settings_model


class MetricRegistry(Registry[Metric]):
    """A :class:`~dalda.registry.Registry` that refuses an entry without a known ``kind`` or without ``enabled``
    (a settings model that is not a :class:`MetricSettings`): the stages could not tell how to run it, or
    whether to."""

    def __init__(self, group: str | None = None) -> None:
        super().__init__("metric", group=group)

    def register(self, name: str, entry: Metric, *, replace: bool = False) -> Metric:
        kind = getattr(entry, "kind", None)
        if kind not in KINDS:
            raise TypeError(f"metric {name!r} declares kind {kind!r}; a metric's kind is one of {list(KINDS)}")
        model = settings_model(entry)
        if not issubclass(model, MetricSettings):
            raise TypeError(
                f"metric {name!r}: settings_model {model.__name__} must subclass dalda.metrics.MetricSettings "
                "(it holds `enabled`)"
            )
        return super().register(name, entry, replace=replace)

    def of_kind(self, kind: MetricKind) -> list[tuple[str, Any]]:
        """The entries of one kind, in registration order."""
        return [(name, entry) for name, entry in self.items() if entry.kind == kind]

    def names_by_kind(self) -> list[str]:
        """Every metric's name, diversity metrics first (the order ``diversity.json`` and the report use)."""
        return [name for kind in KINDS for name, _ in self.of_kind(kind)]

    def settings_of(self, evaluate: EvaluateConfig, name: str) -> MetricSettings:
        """Metric ``name``'s settings from ``evaluate.metrics`` (its defaults where a hand-made config lacks them)."""
        model = self.settings_model(name)
        return model.of(evaluate.metrics.get(name, {}))  # type: ignore[return-value]
