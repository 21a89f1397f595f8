"""Building a config: the schema of ``dalda.config``, the registries' entries and their own settings, old spellings.

``dalda.config`` sits at the bottom of the package and knows no registry, so a field that names an extension
entry (``data.dataset``, ``generator.name``, ...) is a plain string there, and the chosen entry's settings are
kept beside it unchecked. This module is where a config is built (the CLI, the Python API, the grid runner,
``python -m dalda.generation`` and the tests all come here):

1. old spellings are moved to where they live now (:data:`RENAMES`, one table), with one deprecation warning;
2. ``section.field=value`` overrides are read as text and typed by the field they set: a central field's
   annotation, or the chosen entry's own setting (so ``-s generator.steps=20`` is an int for the generator that
   runs);
3. every choice is checked against its registry, and the chosen entry's settings are validated by its settings
   model and stored resolved (defaults included); settings that belong to another entry of the same axis are
   dropped with a note when they come from a file (configs written before the entries owned them hold them all),
   and refused when an override sets them (a typo for the setting of the entry you meant);
4. the rules entries carry are checked (a dataset that needs ``data.root``).

Changing a choice with an override (``-s generator.name=da-fusion`` on a run whose file holds ip-adapter's
settings) starts the new entry from its own defaults: the file's settings were the other entry's.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dalda.budgets import BUDGETS
from dalda.chat import CHAT_BACKENDS
from dalda.config import (
    ConfigError,
    DaldaConfig,
    Text,
    _ChoiceSection,
    field_annotation,
    invalid,
    read_config_file,
    typed_value,
)
from dalda.config import problems as describe_problems
from dalda.datasets import DATASETS
from dalda.generators import GENERATORS
from dalda.guidance import GUIDANCE
from dalda.metrics import FIDELITY_FEATURES, METRICS
from dalda.probes import PROBES
from dalda.registry import Registry, UnknownEntryError
from dalda.scorers import SCORERS
from dalda.settings import EntrySettings, past_gpu_limit
from dalda.trackers import TRACKERS

log = logging.getLogger(__name__)

Tree = dict[str, Any]


@dataclass(frozen=True)
class Choice:
    """A section whose choice field (``_ChoiceSection.choice``) names an entry of ``registry``; ``section`` is a
    dotted path for a section nested in another (``evaluate.fidelity``)."""

    section: str
    registry: Registry[Any]

    @property
    def key(self) -> str:
        return _section_model(self.section).choice


CHOICES: tuple[Choice, ...] = (
    Choice("data", DATASETS),
    Choice("score", SCORERS),
    Choice("guidance", GUIDANCE),
    Choice("prompts", CHAT_BACKENDS),
    Choice("generator", GENERATORS),
    Choice("filter", SCORERS),
    Choice("evaluate.fidelity", FIDELITY_FEATURES),
    Choice("plan", BUDGETS),
    Choice("tracking", TRACKERS),
)
"""Every section that chooses one entry: the entry's settings sit beside the section's fields."""



@dataclass(frozen=True)
class EntryTable:
    """A mapping field that holds several entries' settings by entry name (``train.probes``)."""

    path: str
    registry: Registry[Any]
    chosen_by: str | None
    """The list field naming the entries in use (only theirs are resolved); None: every registered entry."""

    def chosen(self, config: DaldaConfig) -> list[str]:
        if self.chosen_by is None:
            return list(self.registry)
        section, field = self.chosen_by.split(".")
        return list(getattr(getattr(config, section), field))


TABLES: tuple[EntryTable, ...] = (
    EntryTable("train.probes", PROBES, chosen_by="train.classifiers"),
    EntryTable("evaluate.metrics", METRICS, chosen_by=None),
)
"""Every field that holds the settings of several entries of one axis."""

NAME_FIELDS: tuple[tuple[str, Registry[Any]], ...] = (("train.classifiers", PROBES),)
"""Fields that name registry entries without settings beside them (checked against their registry)."""


def _section_model(section: str) -> type[_ChoiceSection]:
    """The model of the section at the dotted path ``section`` ("generator", "evaluate.fidelity")."""
    model: Any = DaldaConfig
    for part in section.split("."):
        model = model.model_fields[part].annotation
    return model  # type: ignore[no-any-return]


def _section_of(config: DaldaConfig, section: str) -> Any:
    node: Any = config
    for part in section.split("."):
        node = getattr(node, part)
    return node


def _replace_section(config: DaldaConfig, section: str, value: Any) -> None:
    parent, _, field = section.rpartition(".")
    setattr(_section_of(config, parent) if parent else config, field, value)


# ---------------------------------------------------------------------------------------------- old spellings


@dataclass(frozen=True)
class Renamed:
    """One old spelling: ``old`` (a dotted path) and ``move(tree, value)``, which puts the value where it lives now
    (or drops it, returning False when the value is then lost; it is named in the warning).

    With ``reads_config`` the move is ``move(tree, value, config)``: ``config`` holds the values of the config
    being built (a file's, or a file's merged with the overrides being renamed), for a value whose new place
    depends on other fields (which generator runs, which checkpoint a field names). A move returns None when the
    value was no old spelling after all (a field whose old and new forms share a path); nothing is noted then.
    """

    old: str
    move: Callable[..., bool | None]
    now: str
    """Where it lives now, for the warning."""
    reads: tuple[str, ...] = ()
    """Choice fields (``score.variant``) ``move`` reads to decide where the value goes. For an old spelling given
    as an override, a choice the overrides leave unset is read from the file (it is what the config will choose)."""
    reads_config: bool = False


def _get(tree: Tree, path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _has(tree: Tree, path: str) -> bool:
    section, _, field = path.rpartition(".")
    node = _get(tree, section) if section else tree
    return isinstance(node, dict) and field in node


def _pop(tree: Tree, path: str) -> Any:
    section, _, field = path.rpartition(".")
    node = _get(tree, section) if section else tree
    return node.pop(field)


def _put(tree: Tree, path: str, value: Any, *, keep_existing: bool = True) -> None:
    """Set ``path`` to ``value``; an existing value wins when ``keep_existing`` (the new spelling beats the old)."""
    *sections, field = path.split(".")
    node = tree
    for part in sections:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{path} goes through {part!r}, which is not a section")
        node = child
    if keep_existing and field in node:
        return
    node[field] = value


def _moved(new: str) -> Callable[[Tree, Any], bool]:
    def move(tree: Tree, value: Any) -> bool:
        _put(tree, new, value)
        return True

    return move


def _baseline_section(tree: Tree, value: Any) -> bool:
    """``baseline:`` was the generator section (``baseline.generator`` its ``name``); ``generator:`` values win."""
    if not isinstance(value, dict):
        raise ConfigError(f"baseline must be a section of generator settings, not {value!r}; use generator:")
    for key, item in value.items():
        _put(tree, "generator.name" if key == "generator" else f"generator.{key}", item)
    return True


def _ags_variant(tree: Tree, value: Any) -> bool:
    """``guidance.ags_variant: clipped`` is the ``ags-clipped`` sampler now. Configs written with the field also
    froze ``guidance.alpha`` (the scorer's default) beside ``alpha_quantile``: the quantile is what they meant."""
    guidance = tree.setdefault("guidance", {})
    if guidance.get("alpha_quantile") is not None:
        guidance.pop("alpha", None)
    if str(value) == "clipped" and guidance.get("strategy", "ags") == "ags":
        guidance["strategy"] = "ags-clipped"
    return True


def _scorer_checkpoint(scorer: str) -> Renamed:
    """``models.<scorer>_model`` is now the ``model`` setting of that scorer, beside the choice in every section
    that chooses it (``score.variant`` and/or ``filter.scorer``). Where neither does, the value is not used; that
    loses something only when it is not the scorer's default."""
    choices = [choice for choice in CHOICES if choice.registry is SCORERS]

    def move(tree: Tree, value: Any) -> bool:
        placed = False
        for choice in choices:
            if _chosen(tree, choice) == scorer:
                _put(tree, f"{choice.section}.model", value)
                placed = True
        return placed or value == SCORERS.settings_model(scorer).model_fields["model"].default

    where = " / ".join(f"{choice.section}.{choice.key}={scorer}" for choice in choices)
    now = f"score.model / filter.model (the {scorer} scorer's setting, beside {where})"
    return Renamed(f"models.{scorer}_model", move, now, reads=tuple(f"{c.section}.{c.key}" for c in choices))
def _value_in(config: Tree, path: str) -> Any:
    """The value ``section.field`` takes in the config built from the values ``config``: the one given (typed, if
    an override's text), else its default (a central field's, or the chosen entry's own setting's); None when
    neither has the field."""
    parts = path.split(".")
    if _has(config, path):
        value = _get(config, path)
        return typed_value(_annotation(config, parts), str(value)) if isinstance(value, Text) else value
    section, field = parts
    central = _section_model(section).model_fields.get(field)
    if central is not None:
        return central.get_default(call_default_factory=True)
    for choice in CHOICES:
        model = _settings_model(choice.registry, _chosen(config, choice)) if choice.section == section else None
        if model is not None and field in model.model_fields:
            return model.model_fields[field].get_default(call_default_factory=True)
    return None


_OLD_IMG2IMG_BASELINES = ("real-guidance", "da-fusion")
"""The generators that sampled with ``generator.scheduler`` / ``generator.steps`` before each generator owned its
settings; every other generator sampled with ``generation.scheduler`` / ``generation.steps``."""


def _generation_sampler(field: str) -> Callable[[Tree, Any, Tree], bool]:
    """``generation.<field>`` was the sampler of the IP-Adapter generators and ``generator.<field>`` the img2img
    baselines'; now each generator has one ``generator.<field>``. The ``generation`` value becomes it (over the
    old ``generator`` value, which such a generator never read), except for a baseline, which never read the
    ``generation`` value: its own ``generator.<field>`` stays."""

    def move(tree: Tree, value: Any, config: Tree) -> bool:
        if _value_in(config, "generator.name") in _OLD_IMG2IMG_BASELINES:
            return False
        _put(tree, f"generator.{field}", value, keep_existing=False)
        return True

    return move


def _negative_prompt(tree: Tree, value: Any) -> bool:
    """``generation.negative_prompt`` unset (null) meant "the generator's own default", which is now the default
    of ``generator.negative_prompt``; a text moves there."""
    if isinstance(value, Text):
        value = typed_value(str | None, str(value))
    if value is not None:
        _put(tree, "generator.negative_prompt", value)
    return True


_OLD_PIN_KEYS = {
    "sd_model": "generator.sd_model",
    "vae": "generator.vae",
    "ip_adapter_repo": "generator.ip_adapter_repo",
    "clip_model": "models.clip_model",
}
"""The keys of ``models.revisions`` before it was keyed by checkpoint id, and the field each one pinned."""


def _revisions_by_id(tree: Tree, value: Any, config: Tree) -> bool | None:
    """``models.revisions`` was keyed by field name (``{sd_model: <commit>}``) and is keyed by checkpoint id now:
    an old key becomes the id its field holds in this config. The pin of a checkpoint the config does not load
    (``vae`` with the model's own VAE, ``ip_adapter_repo`` for an img2img baseline) is dropped, as it was unused."""
    pins = typed_value(dict[str, str], str(value)) if isinstance(value, Text) else value
    if not isinstance(pins, dict) or not set(pins) & set(_OLD_PIN_KEYS):
        _put(tree, "models.revisions", value, keep_existing=False)
        return None
    by_id = {key: pin for key, pin in pins.items() if key not in _OLD_PIN_KEYS}
    kept = True
    for key, field in _OLD_PIN_KEYS.items():
        checkpoint = _value_in(config, field) if key in pins else None
        if checkpoint is not None:
            by_id.setdefault(str(checkpoint), pins[key])
        elif key in pins:
            kept = False
    _put(tree, "models.revisions", by_id, keep_existing=False)
    return kept


def _renamed(old: str, new: str) -> Renamed:
    return Renamed(old, _moved(new), new)


_DINO_METRICS = ("dino", "dino_real")


def _dino_switch(tree: Tree, value: Any) -> bool:
    """``evaluate.dino`` switched both DINO metrics at once; each has its own ``enabled`` now."""
    for metric in _DINO_METRICS:
        _put(tree, f"evaluate.metrics.{metric}.enabled", value)
    return True


def _every_dino_user(setting: str) -> Callable[[Tree, Any], bool]:
    """One DINO field of old configs (``models.dino_model``, ``evaluate.dino_pooling``) served every DINO user;
    each owns the setting now: both DINO metrics, and the DINO fidelity features where the same config (file, or
    the overrides) chooses them; another encoder has no such setting, so it gets none."""

    def move(tree: Tree, value: Any) -> bool:
        for metric in _DINO_METRICS:
            _put(tree, f"evaluate.metrics.{metric}.{setting}", value)
        if str(_get(tree, "evaluate.fidelity.features")) == "dino":
            _put(tree, f"evaluate.fidelity.{setting}", value)
        return True

    return move


def _dino_renamed(old: str, setting: str) -> Renamed:
    users = " and ".join(f"evaluate.metrics.{metric}.{setting}" for metric in _DINO_METRICS)
    return Renamed(old, _every_dino_user(setting), f"{users} (and evaluate.fidelity.{setting} for "
                                                  "evaluate.fidelity.features=dino)")


RENAMES: tuple[Renamed, ...] = (
    Renamed("baseline", _baseline_section, "generator (and baseline.generator is generator.name)"),
    Renamed("guidance.ags_variant", _ags_variant, "guidance.strategy: ags-clipped"),
    _renamed("train.resnet_lr", "train.probes.resnet50.lr"),
    _renamed("train.clip_lr", "train.probes.clip.lr"),
    _renamed("train.clip_weight_decay", "train.probes.clip.weight_decay"),
    _renamed("train.clip_template", "train.probes.clip.template"),
    _renamed("evaluate.clip_i", "evaluate.metrics.clip_i.enabled"),
    _renamed("evaluate.clip_i_real", "evaluate.metrics.clip_i_real.enabled"),
    _renamed("evaluate.lpips", "evaluate.metrics.lpips.enabled"),
    _renamed("evaluate.lpips_size", "evaluate.metrics.lpips.size"),
    _renamed("evaluate.fid", "evaluate.metrics.fid.enabled"),
    _renamed("evaluate.kid", "evaluate.metrics.kid.enabled"),
    _renamed("evaluate.kid_subset_size", "evaluate.metrics.kid.subset_size"),
    _renamed("evaluate.kid_subsets", "evaluate.metrics.kid.subsets"),
    _renamed("evaluate.fidelity_features", "evaluate.fidelity.features"),  # before the DINO rows: they read it
    _renamed("evaluate.fidelity_max_images", "evaluate.fidelity.max_images"),
    Renamed("evaluate.dino", _dino_switch, " and ".join(f"evaluate.metrics.{m}.enabled" for m in _DINO_METRICS)),
    _dino_renamed("evaluate.dino_pooling", "pooling"),
    _dino_renamed("models.dino_model", "model"),
    _scorer_checkpoint("siglip"),
    _scorer_checkpoint("vqa"),
    _renamed("models.sd_model", "generator.sd_model"),
    _renamed("models.vae", "generator.vae"),
    _renamed("models.ip_adapter_repo", "generator.ip_adapter_repo"),
    _renamed("models.ip_adapter_subfolder", "generator.ip_adapter_subfolder"),
    _renamed("models.ip_adapter_weight", "generator.ip_adapter_weight"),
    _renamed("models.image_encoder_subfolder", "generator.image_encoder_subfolder"),
    Renamed(
        "generation.scheduler", _generation_sampler("scheduler"),
        "generator.scheduler (an img2img baseline keeps its own generator.scheduler)", reads_config=True,
    ),
    Renamed(
        "generation.steps", _generation_sampler("steps"),
        "generator.steps (an img2img baseline keeps its own generator.steps)", reads_config=True,
    ),
    _renamed("generation.guidance_scale", "generator.guidance_scale"),
    _renamed("generation.resolution", "generator.resolution"),
    Renamed(
        "generation.negative_prompt", _negative_prompt, "generator.negative_prompt (null: the generator's default)"
    ),
    _renamed("generator.da_fusion_strengths", "generator.strengths"),
    Renamed(
        "models.revisions", _revisions_by_id, "models.revisions keyed by checkpoint id ({<id>: <revision>})",
        reads_config=True,
    ),
)
"""Every old spelling a config file or an override may still use, in the order they are applied."""


def _rename(tree: Tree, origin: str, file_tree: Tree | None = None) -> list[str]:
    """Apply :data:`RENAMES` to ``tree`` in place; one note per old spelling found (``origin``: where from).
    ``file_tree``: ``tree`` holds overrides, and the choices a row reads that they leave unset are the file's (a
    row that reads the config sees the file's values under the overrides)."""
    notes = []
    for renamed in RENAMES:
        if not _has(tree, renamed.old):
            continue
        value = _pop(tree, renamed.old)
        lent = _lend(tree, file_tree, renamed.reads) if file_tree is not None else []
        try:
            if renamed.reads_config:
                kept = renamed.move(tree, value, tree if file_tree is None else _view(file_tree, tree))
            else:
                kept = renamed.move(tree, value)
        finally:
            _take_back(tree, lent)
        if kept is not None:
            notes.append(f"{origin}{renamed.old} is now {renamed.now}" + ("" if kept else " (value dropped)"))
    return notes


def _lend(tree: Tree, file_tree: Tree, paths: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Copy the fields at ``paths`` that ``tree`` lacks from ``file_tree``; returns (path, section was added)."""
    lent = []
    for path in paths:
        if _has(file_tree, path) and not _has(tree, path):
            lent.append((path, path.split(".")[0] not in tree))
            _put(tree, path, _get(file_tree, path))
    return lent


def _take_back(tree: Tree, lent: list[tuple[str, bool]]) -> None:
    for path, added_section in lent:
        _pop(tree, path)
        section = path.split(".")[0]
        if added_section and tree.get(section) == {}:
            del tree[section]


# ------------------------------------------------------------------------------------------------- overrides


def _override_tree(overrides: list[str]) -> Tree:
    tree: Tree = {}
    for text in overrides:
        if "=" not in text:
            raise ConfigError(f"override {text!r} is not of the form section.field=value")
        key, raw = text.split("=", 1)
        path = key.strip()
        if not path or any(not part for part in path.split(".")):
            raise ConfigError(f"override {text!r} names no field; write section.field=value")
        _put(tree, path, Text(raw), keep_existing=False)
    return tree


def _merge(base: Tree, top: Tree) -> Tree:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _chosen(tree: Tree, choice: Choice) -> str:
    value = _get(tree, f"{choice.section}.{choice.key}")
    if value is None:
        return str(_section_model(choice.section).model_fields[choice.key].default)
    return str(value)


def _settings_model(registry: Registry[Any], name: str) -> type[EntrySettings] | None:
    try:
        return registry.settings_model(name)
    except UnknownEntryError:
        return None


def _annotation(tree: Tree, path: list[str]) -> Any:
    """The type the value at ``path`` must have: a central field's annotation, else the chosen entry's setting
    (``generator.steps``), else the setting of the entry a table names (``train.probes.clip.lr``)."""
    annotation = field_annotation(DaldaConfig, path)
    if annotation is not None:
        return annotation
    for choice in CHOICES:
        depth = len(choice.section.split("."))
        if len(path) == depth + 1 and ".".join(path[:depth]) == choice.section:
            model = _settings_model(choice.registry, _chosen(tree, choice))
            return field_annotation(model, path[depth:]) if model is not None else None
    for table in TABLES:
        depth = len(table.path.split("."))
        if len(path) == depth + 2 and ".".join(path[:depth]) == table.path:
            model = _settings_model(table.registry, path[depth])
            return field_annotation(model, path[depth + 1 :]) if model is not None else None
    return None


def _typed(tree: Any, root: Tree, path: list[str]) -> Any:
    """``tree`` with every override :class:`Text` typed by the field it sits in."""
    if isinstance(tree, Text):
        value = typed_value(_annotation(root, path), str(tree))
        return _typed(value, root, path) if isinstance(value, dict) else value  # a section's values are Text too
    if isinstance(tree, dict):
        return {key: _typed(value, root, [*path, key]) for key, value in tree.items()}
    return tree


def _settings_of_changed_choices(file_tree: Tree, overrides: Tree) -> dict[Choice, list[str]]:
    """The file's entry settings, by section, of every section where an override chooses another entry."""
    changed = {}
    for choice in CHOICES:
        if not _has(overrides, f"{choice.section}.{choice.key}"):
            continue
        section = _get(file_tree, choice.section)
        if not isinstance(section, dict) or str(_get(overrides, f"{choice.section}.{choice.key}")) == _chosen(
            file_tree, choice
        ):
            continue
        fields = _section_model(choice.section).model_fields
        changed[choice] = [key for key in section if key not in fields]
    return changed


def _reset_changed_choices(file_tree: Tree, overrides: Tree) -> None:
    """Drop a section's entry settings from the file when an override chooses another entry there."""
    for choice, dropped in _settings_of_changed_choices(file_tree, overrides).items():
        section = _get(file_tree, choice.section)
        for key in dropped:
            del section[key]
        if dropped:
            log.info("%s: another %s is chosen, so the file's settings %s of the previous one are not used",
                     choice.section, choice.registry.kind, dropped)


def _view(file_tree: Tree, overrides: Tree) -> Tree:
    """The values a config built from ``file_tree`` and ``overrides`` starts from (as :func:`_build` merges them)."""
    view = copy.deepcopy(file_tree)
    for choice, dropped in _settings_of_changed_choices(view, overrides).items():
        section = _get(view, choice.section)
        for key in dropped:
            del section[key]
    return _merge(view, overrides)


# --------------------------------------------------------------------------------------------- entry settings


def _other_entries_settings(choice: Choice, chosen: str) -> dict[str, dict[str, Any]]:
    """Setting name -> {other entry of the axis that has it: that setting's default}."""
    owners: dict[str, dict[str, Any]] = {}
    for name in choice.registry:
        if name == chosen:
            continue
        for field, info in choice.registry.settings_model(name).model_fields.items():
            owners.setdefault(field, {})[name] = info.get_default(call_default_factory=True)
    return owners


def _as_its_owner_reads_it(choice: Choice, key: str, value: Any, owners: list[str]) -> tuple[Any, list[str]]:
    """A file's setting of another entry, checked by that entry's own validators although it is not used: (the
    value as the first owner that accepts it reads it, []) or (value, the problems when none accepts it).

    Every value a config held was checked before the entries owned their settings, so an old config that loaded
    still loads; and what a validator guards against stays guarded: a pasted API key is refused without being
    repeated, a URL's credentials are stripped before the note names the value.
    """
    refused: list[str] = []
    for owner in owners:
        try:
            return getattr(choice.registry.settings_model(owner).model_validate({key: value}), key), []
        except ValidationError as error:
            if all(item["loc"][:1] != (key,) for item in error.errors()):
                return value, []  # only a rule across several settings failed, not this value
            refused = describe_problems(error, f"{choice.section}.", choice.registry.settings_model(owner))
    return value, refused


def _resolve_choice(config: DaldaConfig, choice: Choice, overridden: Tree, problems: list[str]) -> list[str]:
    """Validate the chosen entry's settings in ``config`` and store them resolved; returns notes on dropped ones."""
    section: _ChoiceSection = _section_of(config, choice.section)
    name = getattr(section, choice.key)
    try:
        model = choice.registry.settings_model(name)
    except UnknownEntryError as error:
        problems.append(str(error))
        return []
    own_fields = type(section).model_fields
    clash = sorted(set(model.model_fields) & set(own_fields))
    if clash:
        problems.append(f"{choice.registry.kind} {name!r} declares settings {clash} that are fields of "
                        f"{choice.section}:; its author must rename them")
        return []
    values = section.entry_values()
    others = _other_entries_settings(choice, name)
    notes, kept = [], {}
    for key, value in values.items():
        where = f"{choice.section}.{key}"
        if key in model.model_fields:
            kept[key] = value
        elif key in others:
            owners = " or ".join(others[key])
            if _has(overridden, where):
                problems.append(f"{where} is a setting of {choice.section}.{choice.key}={owners}, not of {name}; "
                                f"choose that {choice.registry.kind} too, or drop the override")
                continue
            value, refused = _as_its_owner_reads_it(choice, key, value, list(others[key]))
            if refused:
                problems.extend(refused)
            elif all(value != default for default in others[key].values()):  # a default says nothing: silent
                notes.append(f"{where}={value!r} belongs to {choice.section}.{choice.key}={owners}, not {name}: "
                             "not used")
        else:
            known = sorted(model.model_fields) or "none"
            problems.append(f"{where} is not a field of {choice.section} nor a setting of "
                            f"{choice.section}.{choice.key}={name} (its settings: {known})")
    try:
        settings = model.model_validate(kept)
    except ValidationError as error:
        problems.extend(describe_problems(error, f"{choice.section}.", model))
        return notes
    _replace_section(config, choice.section, section.with_entry_values(settings.model_dump()))
    return notes


def _resolve_table(config: DaldaConfig, table: EntryTable, overridden: Tree, problems: list[str]) -> list[str]:
    """Validate the settings of every chosen entry of ``table`` and store them resolved (defaults included);
    settings of a known entry that is not chosen are dropped (refused when an override sets them)."""
    section_name, field = table.path.split(".")
    section = getattr(config, section_name)
    given: dict[str, Any] = dict(getattr(section, field))
    chosen = table.chosen(config)
    resolved: dict[str, dict[str, Any]] = {}
    notes = []
    for name, values in given.items():
        where = f"{table.path}.{name}"
        if name not in table.registry:
            problems.append(f"{where}: {name!r} is not a known {table.registry.kind}; choose one of "
                            f"{table.registry.names()}")
        elif name not in chosen:
            if _has(overridden, where):
                problems.append(f"{where} sets a {table.registry.kind} that {table.chosen_by} does not choose; "
                                f"add {name} to {table.chosen_by}, or drop the override")
            elif values:
                notes.append(f"{where} is set but {table.chosen_by} does not choose {name}: not used")
    for name in chosen:
        model = _settings_model(table.registry, name)
        if model is None:
            continue  # an unknown name: reported by _check_names
        values = given.get(name) or {}
        if not isinstance(values, dict):
            problems.append(f"{table.path}.{name} must be a mapping of settings, not {values!r}")
            continue
        try:
            resolved[name] = model.model_validate(values).model_dump()
        except ValidationError as error:
            problems.extend(describe_problems(error, f"{table.path}.{name}.", model))
    setattr(section, field, resolved)
    return notes


def _check_names(config: DaldaConfig, problems: list[str]) -> None:
    for path, registry in NAME_FIELDS:
        section, field = path.split(".")
        value = getattr(getattr(config, section), field)
        for name in value if isinstance(value, list) else [value]:
            try:
                registry.get(name)
            except UnknownEntryError as error:
                problems.append(str(error).strip())


def _entry_rules(config: DaldaConfig, problems: list[str]) -> None:
    if DATASETS.get(config.data.dataset).needs_root and config.data.root is None:
        problems.append(
            f"data.dataset={config.data.dataset} needs data.root pointing to the folder that holds the dataset"
        )


def _gpu_limits(config: DaldaConfig, problems: list[str]) -> None:
    """Sizes past what one GPU holds, in the central fields and in every chosen entry's settings."""
    problems.extend(past_gpu_limit(config))
    for choice in CHOICES:
        section = _section_of(config, choice.section)
        model = choice.registry.settings_model(getattr(section, choice.key))
        problems.extend(past_gpu_limit(model.of(section), f"{choice.section}."))
    for table in TABLES:
        section_name, field = table.path.split(".")
        for name, values in getattr(getattr(config, section_name), field).items():
            model = table.registry.settings_model(name)
            problems.extend(past_gpu_limit(model.model_validate(values), f"{table.path}.{name}."))


# ------------------------------------------------------------------------------------------------------ build


def build_config(
    values: dict[str, Any] | None = None, overrides: list[str] | None = None, *, announce: bool = True
) -> DaldaConfig:
    """Validate a nested dict of values plus ``section.field=value`` overrides into a checked config whose chosen
    entries' settings are resolved; see the module docstring for the steps. ``announce=False`` reads old
    spellings without warning (a finished run's record, read by the report)."""
    return _build(copy.deepcopy(dict(values or {})), _override_tree(list(overrides or [])), "-s ", announce)


def rebuild(config: DaldaConfig, values: dict[str, Any]) -> DaldaConfig:
    """``config`` with the nested ``values`` set over it, built again: how code derives one config from another
    (a grid's method over its base, the real-only reference). A choice ``values`` changes starts from the new
    entry's defaults, as an override's does."""
    return _build(config.model_dump(mode="json"), copy.deepcopy(values), "", announce=True)


def _build(file_tree: Tree, override_tree: Tree, override_origin: str, announce: bool) -> DaldaConfig:
    notes = _rename(file_tree, "")
    notes += _rename(override_tree, override_origin, file_tree)
    _reset_changed_choices(file_tree, override_tree)
    merged = _merge(file_tree, override_tree)
    try:
        config = DaldaConfig.model_validate(_typed(merged, merged, []))
    except ValidationError as error:
        raise invalid(describe_problems(error, model=DaldaConfig)) from None
    problems: list[str] = []
    unused: list[str] = []
    for choice in CHOICES:
        unused += _resolve_choice(config, choice, override_tree, problems)
    for table in TABLES:
        unused += _resolve_table(config, table, override_tree, problems)
    if not problems:
        _check_names(config, problems)
    if not problems:
        _entry_rules(config, problems)
    if not problems and not config.models.allow_oversize:
        _gpu_limits(config, problems)
    if problems:
        raise invalid(problems)
    if announce:
        _announce(notes, unused)
    return config


def _announce(renamed: list[str], unused: list[str]) -> None:
    """One deprecation warning for the old spellings of one build (configs written by earlier versions hold many;
    they still load) and one warning for settings given for entries the config does not choose."""
    if renamed:
        message = "the config uses old spellings (still read; write the new ones):\n  " + "\n  ".join(renamed)
        warnings.warn(message, DeprecationWarning, stacklevel=4)
        log.warning(message)
    if unused:
        log.warning("settings of entries this config does not choose are not used:\n  %s", "\n  ".join(unused))


def load_config(path: Path | None = None, overrides: list[str] | None = None, *, announce: bool = True) -> DaldaConfig:
    """Read a YAML config file (optional), apply overrides, validate and check."""
    return build_config(read_config_file(path), overrides, announce=announce)
