"""One typed configuration for every stage of the pipeline.

Defaults are the paper's Tab. 4 values and the authors' set-up, so a user who changes nothing reproduces the
paper. The config is loaded from an optional YAML file, then overridden with ``section.field=value`` strings
from the command line, validated before any work starts, and written back to the run directory so every run
records exactly what it did.

This module is the schema only, at the bottom of the package: fields that name an extension entry (a dataset,
a scorer) are plain strings here, checked against their registries by ``dalda.configure``, which is where a
config is built.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Literal

import annotated_types
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from typing_extensions import Self

from dalda.settings import UNIT, sized


BASE_PROMPT = "a photo of a {}"
"""The paper's Base Prompt ({} is the class name): the default of ``prompts.base_template``, of the CLIPScore
prompt (``score.template``) and of the CLIP head's class prompt (``train.probes.clip.template``)."""
_NULLS = ("", "null", "none", "~")


def base_prompts(
    classes: list[str], template: str = BASE_PROMPT, underscores: bool = False
) -> dict[str, list[str]]:
    """The Base Prompt table: one prompt per class, ``template`` filled with the class name, its spaces written
    as ``_`` when ``underscores`` (the authors' generation text, ``dalda.protocol``); keyed by the class name."""
    return {name: [template.format(name.replace(" ", "_") if underscores else name)] for name in classes}


def check_class_slot(field: str, value: str) -> str:
    """``value`` when it holds exactly one ``{}`` for the class name; else an error naming ``field``.

    A template without the slot gives every class the same text (every CLIPScore becomes 1/K, every CLIP head
    row the same), so it is refused before any work starts.
    """
    try:
        filled = value.format("\x00")
    except (IndexError, KeyError, ValueError):
        filled = ""
    if filled.count("\x00") != 1:
        raise ValueError(
            f"{field}={value!r} must contain exactly one '{{}}' where the class name goes, e.g. 'a photo of a {{}}'"
        )
    return value


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and what to do."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class _ChoiceSection(_Section):
    """A section whose :attr:`choice` field names a registry entry; the chosen entry's own settings
    (``dalda.settings``) sit beside the section's fields, e.g. ``generator: {name: da-fusion, steps: 50}``.

    The schema keeps them as they come; ``dalda.configure.build_config`` checks each against the entry's settings
    model and stores the resolved values (every setting, defaults included), which is what ``config.yaml``
    records. Entries read them typed with ``TheirSettings.of(section)``.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)
    choice: ClassVar[str]
    """The field that names the entry."""

    def entry_values(self) -> dict[str, Any]:
        """The chosen entry's settings as stored in the section."""
        return dict(self.__pydantic_extra__ or {})

    def with_entry_values(self, values: dict[str, Any]) -> Self:
        """A copy of the section holding ``values`` as the entry's settings (and nothing else beside its fields)."""
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).model_construct(_fields_set=self.model_fields_set, **fields, **values)


class DataConfig(_ChoiceSection):
    """Which dataset, how many shots, which trial, and how the evaluation split is drawn."""

    choice: ClassVar[str] = "dataset"

    dataset: str = Field("demo", description="demo | pets | caltech101 | flowers102 | imagefolder")
    root: Path | None = Field(None, description="Dataset folder (torchvision root or ImageFolder root).")
    download: bool = Field(False, description="Let torchvision download the dataset when it is missing.")
    shots: int = Field(1, ge=1, le=100_000, description="Real training images per class (n).")
    trial: int = Field(0, ge=0, le=1_000_000, description="Trial index; seeds the few-shot draw.")
    eval_split: Literal["authors", "trainval-rest", "test"] = Field(
        "authors",
        description="authors: the dataset's own halves, trial-seeded, as the paper's authors cut them "
        "(docs/protocol.md); trainval-rest: trainval halved with a fixed seed; test: the official test split.",
    )
    max_eval_per_class: int | None = Field(
        None, ge=1, le=10_000_000,
        description="Cap evaluation images per class (speed).",
    )
    description: str | None = Field(None, description="Dataset description for the LLM (built in for paper sets).")
    description_file: Path | None = Field(None, description="Text file holding the dataset description.")

    @field_validator("root", "description_file")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        """Accept "~/data" as users write it; later code compares and stores resolved paths."""
        return None if value is None else Path(value).expanduser()


class ModelsConfig(_Section):
    """What every model of a run shares: the profile, the device, the precision, where checkpoints come from.

    ``real`` loads the published checkpoints (or local folders with the same layout) that each entry names in
    its own settings (the generator's in ``generator.*``); ``tiny`` builds small random models offline through
    the same code paths (tests, the offline demo); ``full-random`` builds the real architectures with random
    weights (benchmarks of true compute cost).
    """

    profile: Literal["real", "tiny", "full-random"] = Field(
        "real", description="real: published checkpoints; tiny: random tiny models (offline); full-random: benchmarks."
    )
    clip_model: str = Field("openai/clip-vit-base-patch16", description="CLIP for scoring, CLIP-I and the classifier.")
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="auto: float16 on CUDA, float32 on CPU."
    )
    offline: bool = Field(
        False, description="real profile: load only local folders and the Hugging Face cache, never the network."
    )
    allow_oversize: bool = Field(
        False,
        description="Accept sizes past what one GPU holds (e.g. generator.resolution above 2048 px, train.image_size "
        "above 2048 px, batches above their limit), up to each field's hard bound.",
    )
    revisions: dict[str, str] = Field(
        default_factory=dict,
        description="Pin Hub checkpoints to a revision (branch, tag or commit) by their id, e.g. "
        "{CompVis/stable-diffusion-v1-4: <commit>}; the generator's pins are recorded in the generation manifest.",
    )


class ScoreConfig(_ChoiceSection):
    """CLIPScore of each real image against its class prompt (paper Sec. 3.1).

    ``variant`` names an alignment scorer of ``dalda.scorers``; its own settings sit beside it
    (``score: {variant: siglip, model: google/siglip-base-patch16-224}``).
    """

    choice: ClassVar[str] = "variant"

    variant: str = Field(
        "softmax",
        description="An alignment scorer of dalda.scorers. softmax: probability of the true class over all class "
        "prompts (authors' code, default); cosine: raw image-text cosine of the true class.",
    )
    template: str = Field(BASE_PROMPT, description="Class prompt the image is scored against.")
    batch_size: int = Field(
        32, ge=1, le=65_536, json_schema_extra=sized("images", 4096),
        description="Images per CLIP forward pass.",
    )

    @field_validator("template")
    @classmethod
    def _one_class_slot(cls, value: str) -> str:
        return check_class_slot("score.template", value)


class GuidanceConfig(_ChoiceSection):
    """How the IP-Adapter weight lambda is chosen per synthetic image (paper Sec. 3.2, Tab. 4).

    ``strategy`` names a λ sampler of ``dalda.guidance`` (``ags``: the paper's Adaptive Guidance Scaling;
    ``ags-clipped``: the authors' code's variant; ``random``: RS; ``fixed``); its settings sit beside it
    (``guidance: {strategy: fixed, fixed_scale: 0.3}``).
    """

    choice: ClassVar[str] = "strategy"
    strategy: str = Field(
        "ags", description="A λ sampler of dalda.guidance: ags (paper), ags-clipped (authors' code), random (RS), fixed."
    )


class PromptsConfig(_ChoiceSection):
    """Text prompts: the paper's Base Prompt or M class-specific prompts written by an LLM (Sec. 3.3).

    Defaults are the paper's GPT-4 settings (Tab. 4). ``backend`` names a chat backend of ``dalda.chat``; its
    own settings sit beside it (``prompts: {backend: openai, model: gpt-4-0613}``). This section keeps what
    every backend or the stage uses: ``max_retries`` bounds the *repair* requests of one round (a response that
    is not JSON, misses classes or names another class), whoever answers.
    """

    choice: ClassVar[str] = "backend"

    source: Literal["llm", "base"] = Field("llm", description="llm: M prompts per class; base: 'a photo of a {class}'.")
    backend: str = Field(
        "template",
        description="Who writes the prompts (dalda.chat): template (offline, deterministic), openai, transformers."
    )
    num_prompts: int = Field(10, ge=1, le=1000, description="M, prompts per class.")
    base_template: str = Field(BASE_PROMPT, description="The Base Prompt; {} is the class name.")
    prefix: str = Field("best quality, high quality, ", description="Prepended to every prompt at generation.")
    temperature: float = Field(1.0, ge=0.0, le=2.0, description="LLM sampling temperature (paper: 1.0).")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="LLM nucleus sampling (paper: 1.0).")
    max_retries: int = Field(
        10, ge=0, le=100,
        description="Repair requests per round for invalid or incomplete answers.",
    )
    prompts_file: Path | None = Field(None, description="Hand-written prompts JSON {class: [prompt, ...]}.")
    regenerate: bool = Field(False, description="Ignore cached prompts and ask again.")
    validation: Literal["repair", "warn", "off"] = Field(
        "repair",
        description="Sentences naming another class: repair (ask the LLM again, refuse a file), warn (keep them, "
        "listed in prompts_record.json and the report), off (no check).",
    )

    @field_validator("base_template")
    @classmethod
    def _one_class_slot(cls, value: str) -> str:
        return check_class_slot("prompts.base_template", value)


class PlanConfig(_ChoiceSection):
    """The generation plan: which synthetic images to make, before any is made.

    ``budget`` names the rule (``dalda.budgets``) that shares the plan's images among the real ones; its settings
    (e.g. ``floor`` of ``adaptive``) sit beside it.
    """

    choice: ClassVar[str] = "budget"
    images_per_real: int = Field(
        10,
        ge=1,
        le=100_000,
        description="Synthetic images per real image (M in the paper); the plan's total is M per real image.",
    )
    budget: str = Field(
        "uniform",
        description="uniform: M images per real image (the paper); adaptive: the same total shared by class "
        "difficulty for a real-only nearest-class-mean CLIP classifier, held out within the few-shot pool "
        "(docs/protocol.md).",
    )


class GenerationConfig(_Section):
    """How generation runs, whichever generator makes the images: batch size, memory and speed options, writing.

    None of these changes an image beyond float rounding except ``resize_to_source``, which the stage's PNG
    writer applies to every generator's output alike (so it lives here, and each manifest line records it).
    What decides the pixels (checkpoints, sampler, steps, guidance, resolution, negative prompt) is the chosen
    generator's own settings, beside ``generator.name``.
    """

    batch_size: int = Field(
        8, ge=1, le=4096, json_schema_extra=sized("images", 256),
        description="Rows per pipeline call; lambda, prompt and seed differ per row.",
    )
    resize_to_source: bool = Field(True, description="Resize outputs back to the real image's size.")
    attention_slicing: bool = Field(False, description="Slice self-attention (less memory, slower); small GPUs.")
    vae_tiling: bool = Field(False, description="Decode latents tile by tile (large resolutions on small GPUs).")
    vae_slicing: bool = Field(False, description="Decode the batch one image at a time (less peak memory).")
    channels_last: bool = Field(False, description="channels_last memory format for UNet and VAE (CUDA speed).")
    compile: bool = Field(False, description="torch.compile the UNet (slow first batch, faster afterwards).")
    png_compress_level: int = Field(
        6, ge=0, le=9, description="PNG zlib level: 0 writes fastest (large files), 9 smallest; pixels are the same."
    )
    writer_threads: int = Field(
        4, ge=1, le=64, description="Threads that encode and write PNGs while the next batch is denoised."
    )
    cpu_offload: Literal["none", "model", "sequential"] = Field(
        "none",
        description="CUDA only: keep models in CPU memory and move each to the GPU when used. model: one whole "
        "model at a time on the GPU (small slowdown); sequential: layer by layer (least memory, much slower).",
    )


class TrainConfig(_Section):
    """Downstream classifiers: linear probes on frozen backbones, as the authors train them."""

    classifiers: list[str] = Field(
        default_factory=lambda: ["resnet50", "clip"],
        description="Classifiers to train, by probe name (dalda.probes): resnet50 and/or clip.",
    )
    synthetic_probability: float = Field(
        0.5, ge=0.0, le=1.0, description="p: chance a draw swaps its real image for one of that image's synthetic ones."
    )
    epochs: int = Field(50, ge=1, le=100_000, description="Training epochs (paper: 50).")
    iterations_per_epoch: int = Field(200, ge=1, le=10_000_000, description="Batches per epoch (the authors: 200).")
    batch_size: int = Field(
        32, ge=1, le=65_536, json_schema_extra=sized("images", 4096),
        description="Images per training step (paper: 32)."
    )
    image_size: int = Field(
        224,
        ge=8,
        le=16_384,
        json_schema_extra=sized("px", 2048),
        description="Images are resized to image_size x image_size pixels (past 2048: models.allow_oversize).",
    )
    normalization: Literal["authors", "backbone"] = Field(
        "authors",
        description="authors: mean=std=0.5 for both classifiers (the authors' code); "
        "backbone: each backbone's own statistics (ImageNet for ResNet50, CLIP's for CLIP).",
    )
    probes: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Each chosen classifier's own settings by name (e.g. {clip: {lr: 2e-4}}); unset ones take the "
        "probe's defaults (dalda.probes).",
    )
    finetune_backbone: bool = Field(False, description="Train the whole backbone too (no feature cache then).")
    cache_features: bool = Field(
        True, description="Encode each image once through the frozen backbone and train the head on cached features."
    )
    augmented_views: int = Field(
        0, ge=0, le=1000, description="Random resized crop + flip views cached per image (0: no augmentation)."
    )
    encode_batch_size: int = Field(
        64, ge=1, le=65_536, json_schema_extra=sized("images", 4096),
        description="Images per forward pass when filling the feature cache.")
    protocol: Literal["authors", "fast"] = Field(
        "authors",
        description="authors (default): the authors' probes (ResNet50 IMAGENET1K_V2 with train-mode BatchNorm, flip + "
        "15 degree rotation on every draw, raw CLIP head, encoded per batch) evaluated every epoch (macro accuracy, "
        "best epoch beside the final one; the report's Tab. 2/3 show the best epoch of the trial-mean curve); fast "
        "(opt-in, quick, not the paper's numbers): cached features of eval-mode backbones, final epoch, micro accuracy "
        "(docs/protocol.md).",
    )
    eval_draws: int = Field(
        6400, ge=1, le=100_000_000,
        description="protocol=authors: evaluation draws (with replacement) after every epoch (200 x 32)."
    )
    pixel_memory_gb: float = Field(
        4.0,
        ge=0.0,
        le=4096.0,
        json_schema_extra=sized("GB"),
        description="protocol=authors: the training and evaluation images, decoded and resized once, are kept in "
        "memory up to this many GB (3 x image_size^2 bytes each: 6,800 images per GB at 224 px); a larger store is "
        "a memory-mapped file in the run's features/ folder, removed when training ends.",
    )
    decode_workers: int = Field(
        4, ge=0, le=1024,
        description="protocol=authors: threads decoding the images into that store (at most the CPUs given)."
    )
    real_only_reference: bool = Field(
        True,
        description="Also train each classifier on the real images alone (same seed and protocol) as the report's "
        "real-only reference row; cheap under protocol=fast (cached features), doubles training under authors.",
    )


class FidelityConfig(_ChoiceSection):
    """What the fidelity metrics (FID, KID) share: the feature encoder both sets are embedded with, once for every
    enabled fidelity metric, and the cap on images per side. ``features`` names an encoder of ``dalda.metrics``;
    its own settings sit beside it (``evaluate: {fidelity: {features: dino, model: facebook/dinov2-base}}``).
    """

    choice: ClassVar[str] = "features"

    features: str = Field(
        "inception",
        description="Features FID/KID compare, a fidelity feature encoder of dalda.metrics: inception, dino, clip "
        "(its settings sit beside this field).",
    )
    max_images: int = Field(
        1000, ge=2, le=10_000_000, description="Cap on images per side for FID/KID; more are sampled deterministically."
    )


class EvaluateConfig(_Section):
    """Accuracy of the trained classifiers, and the diversity and fidelity metrics of the synthetic set.

    Each metric owns its settings (``dalda.metrics``), whether it runs included: ``metrics`` holds them by metric
    name, resolved for every registered metric. The fields here are the ones every metric shares.
    """

    max_pairs: int = Field(
        2000, ge=1, le=100_000_000,
        description="Cap on image pairs per group; more are sampled deterministically.",
    )
    batch_size: int = Field(
        16, ge=1, le=65_536, json_schema_extra=sized("images", 4096),
        description="Image pairs per LPIPS forward pass (and images per DINO / FID-feature batch)."
    )
    within_class: bool = Field(
        True, description="Also report diversity over pairs within each class (same as per real image at 1 shot)."
    )
    zero_shot: bool = Field(True, description="Report zero-shot CLIP accuracy on the evaluation split as a reference.")
    metrics: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Each metric's own settings by name, `enabled` included (e.g. {dino: {enabled: true}}); unset "
        "ones take the metric's defaults (dalda.metrics).",
    )
    fidelity: FidelityConfig = Field(default_factory=FidelityConfig)


class TrackingConfig(_ChoiceSection):
    """Where a run's numbers also go, besides its own files: an experiment tracker (``dalda.tracking``).

    ``backend`` names an entry of ``dalda.trackers``; every backend is sent the same things (the config, the stage
    times, a grid of synthetic images, each classifier's per-epoch and final accuracy) and differs only in where
    they land (``docs/logs-and-records.md``).
    """

    choice: ClassVar[str] = "backend"

    backend: str = Field(
        "none",
        description="A registered tracker: none: the run's files only; tensorboard: event files in `dir` "
        "(`tensorboard --logdir RUN/tracking`); wandb: a Weights & Biases run, offline in `dir` unless "
        "WANDB_API_KEY or WANDB_MODE is set; mlflow: an MLflow run in a local store in `dir` (`mlflow.db`), or "
        "at MLFLOW_TRACKING_URI when set. Each sends the config, the stage times, a grid of synthetic images and "
        "each classifier's per-epoch and final accuracy; all but none need the tracking extra.",
    )
    dir: Path | None = Field(
        None, description="Folder of the tracker's files (event files, offline runs, the local store); null: "
        "`tracking/` in the run directory.",
    )
    project: str = Field(
        "dalda", description="The wandb project or MLflow experiment the run joins (runs are named after their "
        "run directory); tensorboard ignores it.",
    )


class GeneratorConfig(_ChoiceSection):
    """The generator: DALDA's SD + IP-Adapter, or one of the paper's baselines (Real Guidance, DA-Fusion).

    ``name`` names an entry of ``dalda.generators``; its own settings (checkpoints, sampler, strengths, textual
    inversion) sit beside it, with the generator's defaults (``generator: {name: da-fusion, steps: 20}``).
    """

    choice: ClassVar[str] = "name"

    name: str = Field(
        "ip-adapter",
        description="A registered generator: ip-adapter: DALDA (and its ablations); real-guidance, da-fusion: "
        "SD img2img baselines; ip-adapter-plus: SD 1.5 + IP-Adapter Plus; sdxl-ip-adapter: SDXL + IP-Adapter "
        "(1024 px). Its settings sit beside it, with its own defaults.",
    )


class FilterConfig(_ChoiceSection):
    """The optional filter stage between generate and train: reject off-class synthetic images and near-copies.

    Off by default (the paper trains on every synthetic image). Nothing is deleted: the decisions go to
    ``synthetic/filter.jsonl`` and the manifest's ``filter`` column, and training skips rejected images. The
    scorer's own settings sit beside ``scorer`` (``filter: {scorer: siglip, model: ...}``), apart from ``score:``'s.
    """

    choice: ClassVar[str] = "scorer"

    enabled: bool = Field(False, description="Run the filter stage after generate (off: the paper's pipeline).")
    scorer: str = Field("softmax", description="An alignment scorer of dalda.scorers scoring each synthetic image.")
    min_score: float = Field(
        0.1, ge=0.0, le=1.0, description="Reject an image whose score against its intended class is below this."
    )
    reject_other_class: bool = Field(
        True, description="Reject an image whose top class (scorers comparing classes: CLIP, SigLIP) is another one."
    )
    max_source_similarity: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="Reject near-copies: CLIP image-embedding cosine with the source image above this; null: off.",
    )
    batch_size: int = Field(
        32, ge=1, le=65_536, json_schema_extra=sized("images", 4096), description="Images per scoring forward pass."
    )


class DaldaConfig(_Section):
    """Everything a run needs. ``seed`` drives every random choice not already fixed by ``data.trial``."""

    out_dir: Path = Field(Path("runs/default"), description="The run directory every stage reads and writes.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seeds prompt order, lambda draws, image seeds and training.")
    regenerate: bool = Field(
        False,
        description="Let this command discard and remake finished outputs (images, earlier stages' files) that a "
        "changed field or missing files invalidate; without it such a command stops and names the cause "
        "(`--regenerate`; an action of one command, never stored in config.yaml).",
    )
    data: DataConfig = Field(default_factory=DataConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    score: ScoreConfig = Field(default_factory=ScoreConfig)
    guidance: GuidanceConfig = Field(default_factory=GuidanceConfig)
    prompts: PromptsConfig = Field(default_factory=PromptsConfig)
    plan: PlanConfig = Field(default_factory=PlanConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    filter: FilterConfig = Field(default_factory=FilterConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)


def field_annotation(model: Any, path: list[str]) -> Any:
    """The annotation of the field at ``path`` below the pydantic model ``model``; None when there is none."""
    annotation: Any = None
    for part in path:
        if typing.get_origin(model) is dict and typing.get_args(model)[1] in _SCALARS:
            annotation = model = typing.get_args(model)[1]  # a table of scalars: models.revisions.<id>
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        model = annotation
    return annotation


_SCALARS = (str, int, float, bool, Path)


def typed_value(annotation: Any, raw: str) -> Any:
    """The value of one ``-s`` override, read so that strings stay strings.

    A scalar field (str, number, bool, path, choice) gets the raw text, exactly as typed, and pydantic coerces
    it: ``2024-06-01`` stays a string, ``0123456`` is the number 123456 (never octal), a prefix keeps its
    trailing space. An optional field takes ``null``/``none``/``~``/empty as None. Lists and sections are read
    as YAML, as a config file is (:class:`_ConfigLoader`: their values stay :class:`Text`, typed by their own
    fields); text that is not valid YAML is taken as a string (and validation names the field if that is wrong).
    """
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    optional = type(None) in options
    kinds = [kind for kind in options if kind is not type(None)] or [annotation]
    scalar = len(kinds) == 1 and (kinds[0] in _SCALARS or typing.get_origin(kinds[0]) is Literal)
    if scalar:
        if optional and raw.strip().lower() in _NULLS:
            return None
        return raw.strip() if kinds[0] is not str else raw
    if not raw.strip():
        return None
    try:
        return yaml.load(raw, Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader): values stay text, as in files
    except _DuplicateKey as error:
        raise ConfigError(f"{raw!r}: {str(error).split(': ', 1)[1]}") from None
    except yaml.YAMLError:
        return raw


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number",
                 "multiple_of", "int_parsing", "float_parsing", "int_from_float"}


def _field_info(model: Any, loc: tuple[Any, ...]) -> FieldInfo | None:
    """The pydantic field at ``loc`` below the model class ``model``; None when ``loc`` leads elsewhere."""
    info = None
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        model = info.annotation
    return info


def allowed_range(info: FieldInfo) -> str:
    """A numeric field's documented range as users read it, e.g. ``8 to 16384 px, a multiple of 8``."""
    low = high = None
    extra = []
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge):
            low = f"{rule.ge}"
        elif isinstance(rule, annotated_types.Gt):
            low = f"above {rule.gt}"
        elif isinstance(rule, annotated_types.Le):
            high = f"{rule.le}"
        elif isinstance(rule, annotated_types.Lt):
            high = f"below {rule.lt}"
        elif isinstance(rule, annotated_types.MultipleOf):
            extra.append(f"a multiple of {rule.multiple_of}")
    bounds = f"{low or 'any'} to {high}" if high is not None else f"at least {low}" if low else "any finite number"
    unit = (info.json_schema_extra or {}).get(UNIT) if isinstance(info.json_schema_extra, dict) else None
    return ", ".join([f"{bounds}{f' {unit}' if unit else ''}", *extra])


def problems(error: ValidationError, prefix: str = "", model: Any = None) -> list[str]:
    """One line per pydantic error: the field (``prefix`` + its location), the problem and the value; a number
    outside its field's range (``model`` is the class validated) also names the allowed range."""
    lines = []
    for item in error.errors():
        if item["type"] == "value_error":  # our own validators already name the fields and values
            lines.append(item["msg"].removeprefix("Value error, "))
            continue
        field = prefix + ".".join(str(p) for p in item["loc"]) or "config"
        info = _field_info(model, tuple(item["loc"])) if item["type"] in _RANGE_ERRORS else None
        if info is not None and any(isinstance(kind, type) and kind in (int, float) for kind in _kinds(info)):
            whole = int in _kinds(info) and float not in _kinds(info)
            kind = "a whole number" if whole else "a finite number"
            lines.append(f"{field}: {item['msg']} (got {item.get('input')!r}; allowed: {kind}, {allowed_range(info)})")
        else:
            lines.append(f"{field}: {item['msg']} (got {item.get('input')!r})")
    return lines


def _kinds(info: FieldInfo) -> tuple[Any, ...]:
    annotation = info.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def invalid(found: list[str]) -> ConfigError:
    """The one-line error of a config with the problems ``found`` (the CLI prints errors as one line)."""
    return ConfigError("invalid configuration: " + "; ".join(found))


def parse_config(values: dict[str, Any] | None = None) -> DaldaConfig:
    """Validate a nested dict of values against the schema alone (entry names and settings unchecked).

    Build configs with ``dalda.configure.build_config``, which also reads overrides and old spellings, checks
    entry names and resolves the chosen entries' settings.
    """
    try:
        return DaldaConfig.model_validate(dict(values or {}))
    except ValidationError as error:
        raise invalid(problems(error, model=DaldaConfig)) from None


class Text(str):
    """A value as the user typed it (an override's, or a config file's plain scalar that YAML would read as a
    number, boolean or date), typed later by the field it ends up in (:func:`typed_value`)."""


_TYPED_TAGS = {f"tag:yaml.org,2002:{kind}" for kind in ("int", "float", "bool", "timestamp")}


class _DuplicateKey(ValueError):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(f"line {line}: key {key!r} is given twice (first on line {first}); keep one of them")


class _ConfigLoader(yaml.SafeLoader):
    """YAML as a config file is read: a mapping key given twice is refused with its line (YAML keeps the last one
    silently), and a plain mapping value YAML would type (``2024-06-01``, ``0123456``, ``yes``) stays the text the
    user wrote as :class:`Text`, typed by its field as an override is: a string field keeps the text."""


def _construct_mapping(loader: _ConfigLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise _DuplicateKey(key_node.value, line, seen[key_node.value])
            seen[key_node.value] = line
    loader.flatten_mapping(node)
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        plain = isinstance(value_node, yaml.ScalarNode) and value_node.style is None
        if plain and value_node.tag in _TYPED_TAGS:
            mapping[key] = Text(value_node.value)
        else:
            mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_ConfigLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The nested values of a YAML config file; None gives no values (all defaults). Read with
    :class:`_ConfigLoader`: duplicate keys are an error, number- or date-like text is kept as written."""
    if path is None:
        return {}
    if not Path(path).is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        loaded = yaml.load(Path(path).read_text(), Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader)
    except _DuplicateKey as error:
        raise ConfigError(f"config file {path}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"config file {path} is not valid YAML ({problem} at{where}); fix that line") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} cannot be read ({error})") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, not {type(loaded).__name__}")
    return loaded or {}


def config_to_yaml(config: DaldaConfig) -> str:
    """The resolved config as YAML, the form written into every run directory."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
