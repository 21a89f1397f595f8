"""Classifier training: cached backbone features against encoding every batch (the authors' way).

Both paths train the same linear probe on the same split with the same seed, hence the same draws:

(a) authors' way: every iteration loads the batch's images, resizes and normalises them and runs them through
    the frozen backbone (``feature_mode="encode"``);
(b) dalda: every real and synthetic image is encoded once into a fresh feature cache, then the head trains on
    the cached features (``feature_mode="cached"``); the timed cost includes filling the cache.

Data: the built-in demo dataset (5 classes) with ``--shots`` real images per class, and ``--synthetic-per-real``
stand-in synthetic images per real image (noisy copies, so no diffusion model is needed to measure training).
Model loading is excluded from timing; a warm-up forward pass runs first. Both classifiers' accuracy on the
split's evaluation images is reported: equal draws must give equal accuracy.

    python benchmarks/bench_training.py --profile tiny --shots 8 --iterations 300 --lr 3e-2 --normalization backbone
    python benchmarks/bench_training.py --profile full-random --image-size 112 --iterations 60 \\
        --record benchmarks/results/training.md
    python benchmarks/bench_training.py --profile full-random --image-size 224 --epochs 50 --iterations 200  # GPU

``--protocols`` instead times one fit per ``train.protocol`` on the same data and seed, side by side: ``fast``
(eval-mode backbone, a fresh feature cache filled and then looked up, final epoch) against ``authors`` (train-mode
BatchNorm, flip + rotation and an encoder pass for every draw, and an evaluation on ``--eval-draws`` draws after
every epoch, all included in its time). Each protocol loads its own backbone (the authors' drifts).

    python benchmarks/bench_training.py --protocols --profile tiny --epochs 2 --iterations 20 --eval-draws 320 \
        --record benchmarks/results/training.md

``--loader`` times dalda's ``train.protocol=authors`` fit against the authors' own loop (``authors_loader.py``: their
dataset class reading and transforming every draw from its file, ``DataLoader(num_workers=4)``, their Resize /
RandomHorizontalFlip / RandomRotation(15) / ToTensor / Normalize) on the same images, the same draws (one seed) and
the same backbone, one after the other in one run, and prints the training draws/s of both and their ratio. dalda's
time includes decoding every image into its pixel store; both include the per-epoch evaluation. The images are
photo-sized stand-ins: 500 x 375 JPEG real images (an ImageFolder dataset, 5 classes) and PNG synthetic images of
the same size, as the generation stage writes them:

    python benchmarks/bench_training.py --loader --profile tiny --image-size 32 --epochs 2 --iterations 100 \
        --eval-draws 640 --record benchmarks/results/training.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import authors_loader
from dalda.configure import build_config
from dalda.artefacts import ManifestLine, Split
from dalda.data.stage import run_data_stage
from dalda.evaluation.accuracy import accuracy_report, eval_features, predict
from dalda.rundir import RunDir
from dalda.probes import PROBES
from dalda.probes.encoder import ProbeEncoder
from dalda.training import classifier as classifier_module
from dalda.training.classifier import train_classifier, training_seed
from dalda.training.epochs import EpochEvaluator
from dalda.training.sampling import MixingSampler
from dalda.training.trainset import load_training_set

MAIN_TABLE = "# Training benchmark: cached features vs encoding every batch"
PROTOCOLS_TABLE = "# Protocols: `train.protocol=fast` against `authors`, time per fit"
LOADER_TABLE = "# Loader: dalda's `authors` data path against the authors' DataLoader"
LOADER_HEADER = (
    "| date | hardware | profile | classifier | px | images (real x classes + synthetic) | epochs x iterations x "
    "batch | eval draws / epoch | authors' loader: train draws/s | dalda: train draws/s | ratio | backbone alone: "
    "draws/s (ceiling ratio) | authors' fit, s (train + eval) | dalda's fit, s (decode + train + eval) | fit ratio | "
    "final macro (authors / dalda) | load avg |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def write_stand_in_synthetic(run: RunDir, split: Split, per_real: int) -> None:
    """``per_real`` noisy copies of every real image, with a manifest in the generation stage's format."""
    rows = []
    for index, record in enumerate(split.train):
        real = np.asarray(Image.open(record.path).convert("RGB"), dtype=np.float64)
        for m in range(per_real):
            noise = np.random.default_rng([index, m]).normal(0.0, 20.0, real.shape)
            file_name = f"{split.classes[record.label]}/{len(rows):06d}.png"
            (run.synthetic / file_name).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.clip(real + noise, 0, 255).astype(np.uint8)).save(run.synthetic / file_name)
            rows.append(ManifestLine(file_name=file_name, row_id=len(rows), class_name=split.classes[record.label],
                                     label=record.label, source_path=str(record.path), source_index=index))  # fmt: skip
    ManifestLine.write_all(run, rows)


def write_photo_dataset(folder: Path, classes: int, per_class: int) -> None:
    """``per_class`` photo-sized (500 x 375) JPEGs per class in ``folder/<class>/``: smooth random shapes plus
    fine noise (so they compress and decode like photos) with a tint per class (so a probe can learn something)."""
    for label in range(classes):
        (folder / f"class_{label}").mkdir(parents=True, exist_ok=True)
        tint = np.roll(np.array([40.0, 0.0, -40.0]), label)
        for index in range(per_class):
            rng = np.random.default_rng([label, index])
            coarse = Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).resize(
                (500, 375), Image.Resampling.BICUBIC
            )
            pixels = np.asarray(coarse, dtype=np.float64) + tint + rng.normal(0.0, 8.0, (375, 500, 3))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            image.save(folder / f"class_{label}" / f"{index:03d}.jpg", quality=90)


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def record_row(path: Path, heading: str, row: str, header: str | None = None) -> None:
    """Append ``row`` to the table under ``heading`` in ``path`` (its first ``| date |`` table); a missing section is
    created at the end of the file with ``header``."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
    if heading + "\n" not in lines:
        if header is None:
            raise SystemExit(f"{path} has no section '{heading}'")
        lines += ["\n", heading + "\n", "\n", *header.splitlines(keepends=True)]
    at = lines.index(heading + "\n") + 1
    while at < len(lines) and not lines[at].startswith("| date |"):
        at += 1
    while at < len(lines) and lines[at].startswith("|"):
        at += 1
    lines[at:at] = [row]
    path.write_text("".join(lines), encoding="utf-8")
    print(f"recorded in {path}")


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gb(device: torch.device) -> float | None:
    """Peak GPU memory allocated since the last reset, in GB (None on a CPU)."""
    return torch.cuda.max_memory_allocated(device) / 1e9 if device.type == "cuda" else None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["tiny", "full-random"], default="tiny")
    parser.add_argument("--classifier", choices=PROBES.names(), default="resnet50")
    parser.add_argument("--shots", type=int, default=2)
    parser.add_argument("--synthetic-per-real", type=int, default=10, help="M: synthetic images per real image")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=300, help="iterations per epoch (authors: 200 x 50 epochs)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--lr", type=float, help="learning rate (default: the configured one for the classifier)")
    parser.add_argument("--normalization", choices=["authors", "backbone"], default="authors")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"])
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--repeats", type=int, default=1, help="timed rounds per path (median reported)")
    parser.add_argument("--work-dir", type=Path, help="keep the run here instead of a temporary folder")
    parser.add_argument("--record", type=Path, help="append a result row to this markdown file")
    parser.add_argument("--protocols", action="store_true", help="time train.protocol fast against authors instead")
    parser.add_argument("--eval-draws", type=int, default=6400, help="--protocols, --loader: evaluation draws per epoch")
    parser.add_argument("--loader", action="store_true", help="time dalda's authors fit against the authors' loader")
    parser.add_argument("--photos-per-class", type=int, default=20, help="--loader: stand-in photos per class")
    parser.add_argument("--workers", type=int, default=4, help="--loader: the authors' DataLoader workers")
    parser.add_argument("--jsonl", type=Path, help="--loader: also append the result as one JSON line to this file")
    parser.add_argument("--run-id", default="", help="--jsonl: the run the row belongs to (gpu_check.py's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.protocols:
        compare_protocols(args)
        return
    if args.loader:
        compare_loaders(args)
        return

    with tempfile.TemporaryDirectory() as scratch:
        root = args.work_dir or Path(scratch)
        train = {
            "classifiers": [args.classifier],
            "epochs": args.epochs,
            "iterations_per_epoch": args.iterations,
            "batch_size": args.batch_size,
            "image_size": args.image_size,
            "normalization": args.normalization,
        }
        if args.lr is not None:
            train["probes"] = {args.classifier: {"lr": args.lr}}
        config = build_config(
            {
                "out_dir": str(root / "run"),
                "data": {"dataset": "demo", "root": str(root / "demo"), "shots": args.shots},
                "models": {"profile": args.profile, "device": args.device, "dtype": args.dtype},
                "train": train,
            }
        )
        run = RunDir(config.out_dir).ensure()
        split = run_data_stage(config, run)
        write_stand_in_synthetic(run, split, args.synthetic_per_real)
        training_set = load_training_set(split, run)
        labels = torch.tensor([record.label for record in split.eval])

        seed = training_seed(config, args.classifier)
        start = time.perf_counter()
        encoder = PROBES.get(args.classifier).load_backbone(config, seed)
        built = time.perf_counter() - start
        print(f"backbone built in {built:.1f} s ({args.profile}, {encoder.device}, {encoder.dtype})")
        with torch.inference_mode():  # warm-up: first calls allocate and pick kernels
            encoder.encode(torch.zeros(args.batch_size, 3, args.image_size, args.image_size))

        # Alternate the two paths for --repeats rounds and keep each one's median time, so load from other
        # programs on a shared machine hits both alike; the load average is printed and recorded.
        times: dict[str, list[float]] = {"encode": [], "cached": []}
        results: dict[str, dict] = {}
        load_before = os.getloadavg()[0]
        for _ in range(args.repeats):
            for mode in ("encode", "cached"):
                features_dir = root / f"features-{mode}"
                shutil.rmtree(features_dir, ignore_errors=True)  # fresh: the cached path pays for filling its cache
                _sync(encoder.device)
                start = time.perf_counter()
                trained = train_classifier(
                    args.classifier, config, training_set, split.classes, features_dir,
                    encoder=encoder, feature_mode=mode, seed=seed,
                )  # fmt: skip
                _sync(encoder.device)
                times[mode].append(time.perf_counter() - start)
                features = eval_features(encoder, split.eval, root / "features-eval", 64, use_cache=True)
                accuracy = accuracy_report(predict(trained.head, features), labels, split.classes)["accuracy"]
                results[mode] = {"accuracy": accuracy, "head": trained.head.weight.detach().cpu()}
                print(f"  {mode:>6}: {times[mode][-1]:8.2f} s total ({trained.encode_seconds:.2f} s filling the "
                      f"cache), accuracy {accuracy:.4f}")  # fmt: skip
        load = max(load_before, os.getloadavg()[0])
        for mode in times:
            results[mode]["seconds"] = float(np.median(times[mode]))

    ratio = results["encode"]["seconds"] / results["cached"]["seconds"]
    max_weight_diff = float((results["encode"]["head"] - results["cached"]["head"]).abs().max())
    images = len(training_set.item_paths)
    draws = args.epochs * args.iterations * args.batch_size
    print(f"{images} training images ({len(training_set.real)} real), {draws} draws, {len(split.eval)} eval images")
    print(f"(a) encode every batch: {results['encode']['seconds']:.2f} s, accuracy {results['encode']['accuracy']:.4f}")
    print(f"(b) cached features:    {results['cached']['seconds']:.2f} s, accuracy {results['cached']['accuracy']:.4f}")
    print(f"speed ratio (a)/(b): {ratio:.1f}x; max |head weight difference| {max_weight_diff:.2e}; "
          f"1-min load average up to {load:.1f}")  # fmt: skip

    if args.record:
        hardware = _hardware(encoder.device)
        row = (
            f"| {date.today()} | {hardware} | {args.profile} | {args.classifier} | {args.image_size} | "
            f"{args.shots} x 5 + {args.synthetic_per_real * args.shots * 5} syn | "
            f"{args.epochs} x {args.iterations} x {args.batch_size} | "
            f"{results['encode']['seconds']:.1f} | {results['cached']['seconds']:.2f} | {ratio:.1f}x | "
            f"{results['encode']['accuracy']:.4f} | {results['cached']['accuracy']:.4f} | "
            f"{args.repeats} | {load:.1f} |\n"
        )
        record_row(args.record, MAIN_TABLE, row)


def compare_protocols(args: argparse.Namespace) -> None:
    """One fit per train.protocol on the same split, stand-in synthetic set and seed; time, macro and micro."""
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = args.work_dir or Path(scratch)
        load_before = os.getloadavg()[0]
        for protocol in ("fast", "authors"):
            train = {
                "classifiers": [args.classifier],
                "epochs": args.epochs,
                "iterations_per_epoch": args.iterations,
                "batch_size": args.batch_size,
                "image_size": args.image_size,
                "normalization": args.normalization,
                "protocol": protocol,
                "eval_draws": args.eval_draws,
            }
            config = build_config(
                {
                    "out_dir": str(root / "run"),
                    "data": {"dataset": "demo", "root": str(root / "demo"), "shots": args.shots},
                    "models": {"profile": args.profile, "device": args.device, "dtype": args.dtype},
                    "train": train,
                }
            )
            run = RunDir(config.out_dir).ensure()
            split = run_data_stage(config, run)
            if not run.manifest.exists():
                write_stand_in_synthetic(run, split, args.synthetic_per_real)
            training_set = load_training_set(split, run)
            labels = torch.tensor([record.label for record in split.eval])
            seed = training_seed(config, args.classifier)
            encoder = PROBES.get(args.classifier).load_backbone(config, seed)
            with torch.inference_mode():  # warm-up: first calls allocate and pick kernels
                encoder.module.eval()
                encoder.encode(torch.zeros(args.batch_size, 3, args.image_size, args.image_size))
            features_dir = root / f"features-{protocol}"
            shutil.rmtree(features_dir, ignore_errors=True)  # fast pays for filling its cache
            _sync(encoder.device)
            start = time.perf_counter()
            trained = train_classifier(
                args.classifier, config, training_set, split.classes, features_dir,
                encoder=encoder, seed=seed, eval_records=split.eval,
            )  # fmt: skip
            _sync(encoder.device)
            seconds = time.perf_counter() - start
            features = eval_features(encoder, split.eval, features_dir, 64, use_cache=not trained.backbone_drifted)
            report = accuracy_report(predict(trained.head, features), labels, split.classes)
            best = max(trained.epoch_evaluations, key=lambda e: e["macro_accuracy"], default=None)
            rows[protocol] = {"seconds": seconds, "report": report, "best": best, "mode": trained.feature_mode}
            print(f"{protocol:>7}: {seconds:8.2f} s ({trained.feature_mode} features), final macro "
                  f"{report['macro_accuracy']:.4f}, micro {report['micro_accuracy']:.4f}"
                  + (f", best epoch {best['epoch']} macro {best['macro_accuracy']:.4f}" if best else ""))  # fmt: skip
        load = max(load_before, os.getloadavg()[0])
        images = len(training_set.item_paths)
    ratio = rows["authors"]["seconds"] / rows["fast"]["seconds"]
    print(f"{images} training images, {len(split.eval)} eval images; authors/fast time: {ratio:.1f}x")
    if args.record:
        hardware = _hardware(encoder.device)
        fast, authors = rows["fast"], rows["authors"]
        best = authors["best"]
        row = (
            f"| {date.today()} | {hardware} | {args.profile} | {args.classifier} | {args.image_size} | "
            f"{args.shots} x 5 + {args.synthetic_per_real * args.shots * 5} syn | "
            f"{args.epochs} x {args.iterations} x {args.batch_size} | {args.eval_draws} | "
            f"{fast['seconds']:.2f} | {authors['seconds']:.2f} | {ratio:.1f}x | "
            f"{fast['report']['macro_accuracy']:.4f} / {fast['report']['micro_accuracy']:.4f} | "
            f"{authors['report']['macro_accuracy']:.4f} / {authors['report']['micro_accuracy']:.4f} | "
            f"{best['macro_accuracy']:.4f} (epoch {best['epoch']}) | {load:.1f} |\n"
        )
        record_row(args.record, PROTOCOLS_TABLE, row)



class TimedEvaluator(EpochEvaluator):
    """dalda's per-epoch evaluator, adding up the seconds it takes (so training and evaluation are told apart)."""

    seconds = 0.0

    def __call__(self, epoch: int) -> None:
        _sync(self.encoder.device)
        start = time.perf_counter()
        super().__call__(epoch)
        _sync(self.encoder.device)
        TimedEvaluator.seconds += time.perf_counter() - start


def backbone_alone(encoder: ProbeEncoder, batch_size: int, size: int, iterations: int) -> float:
    """Seconds for ``iterations`` train-mode forward passes of one ready batch: what the fit costs with no data
    path at all (the ceiling of any loader), measured on the backbone the fit just used."""
    pixels = torch.randn(batch_size, 3, size, size, device=encoder.device)  # already where the fit needs it
    encoder.module.train()
    _sync(encoder.device)
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(iterations):
            encoder.encode(pixels)
    _sync(encoder.device)
    encoder.module.eval()
    return time.perf_counter() - start


def compare_loaders(args: argparse.Namespace) -> None:
    """dalda's authors fit against the authors' loop (authors_loader.py) on the same photos, draws and backbone."""
    with tempfile.TemporaryDirectory() as scratch:
        root = args.work_dir or Path(scratch)
        write_photo_dataset(root / "photos", 5, args.photos_per_class)
        config = build_config(
            {
                "out_dir": str(root / "run"),
                "data": {"dataset": "imagefolder", "root": str(root / "photos"), "shots": args.shots},
                "models": {"profile": args.profile, "device": args.device, "dtype": args.dtype},
                "train": {
                    "classifiers": [args.classifier], "epochs": args.epochs, "iterations_per_epoch": args.iterations,
                    "batch_size": args.batch_size, "image_size": args.image_size, "protocol": "authors",
                    "eval_draws": args.eval_draws, "real_only_reference": False,
                },
            }
        )  # fmt: skip
        run = RunDir(config.out_dir).ensure()
        split = run_data_stage(config, run)
        write_stand_in_synthetic(run, split, args.synthetic_per_real)
        training_set = load_training_set(split, run)
        seed = training_seed(config, args.classifier)
        probe = PROBES.get(args.classifier)
        size = args.image_size
        eval_paths = [Path(record.path) for record in split.eval]
        eval_labels = [record.label for record in split.eval]
        labels = training_set.pool.item_labels().tolist()
        draws = args.epochs * args.iterations * args.batch_size
        print(f"{len(training_set.item_paths)} training images ({len(training_set.real)} real JPEG, the rest PNG), "
              f"{len(eval_paths)} evaluation images, 500 x 375 px, resized to {size}; {draws} training draws, "
              f"{args.eval_draws} evaluation draws per epoch")  # fmt: skip

        def backbone():  # a fresh copy per fit: the authors' protocol drifts its BatchNorm statistics
            encoder = probe.load_backbone(config, seed)
            with torch.inference_mode():  # warm-up in eval mode: first calls allocate and pick kernels
                encoder.module.eval()
                encoder.encode(torch.zeros(args.batch_size, 3, size, size))
            return encoder

        times: dict[str, list[dict[str, float]]] = {"authors": [], "dalda": [], "backbone": []}
        load_before = os.getloadavg()[0]
        classifier_module.EpochEvaluator = TimedEvaluator  # type: ignore[misc]
        warnings.filterwarnings("ignore", message="This DataLoader will create")  # 4 workers on fewer CPUs: theirs
        peak: dict[str, float | None] = {"authors": None, "dalda": None}
        for round_ in range(args.repeats):
            encoder = backbone()
            _reset_peak(encoder.device)
            head = probe.build_head(encoder, split.classes, config.train, seed).to(encoder.device)
            sampler = MixingSampler(training_set.pool, config.train.synthetic_probability, args.batch_size, seed)
            result = authors_loader.authors_fit(
                encoder, head, probe.optimizer(head.parameters(), config.train),
                authors_loader.FileDataset(training_set.item_paths, labels, authors_loader.train_transform(size)),
                authors_loader.FileDataset(eval_paths, eval_labels, authors_loader.eval_transform(size)),
                split.classes, sampler, np.random.default_rng([seed, 6400]), args.epochs, args.iterations,
                args.eval_draws, args.workers,
            )  # fmt: skip
            times["authors"].append(
                {"train": result.train_seconds, "eval": result.eval_seconds, "macro": result.final_macro_accuracy}
            )
            print(f"  authors' loader: {result.train_seconds:.2f} s training, {result.eval_seconds:.2f} s evaluating")
            peak["authors"] = _peak_gb(encoder.device)

            encoder = backbone()
            _reset_peak(encoder.device)
            TimedEvaluator.seconds = 0.0
            _sync(encoder.device)
            start = time.perf_counter()
            trained = train_classifier(
                args.classifier, config, training_set, split.classes, root / f"features-{round_}",
                encoder=encoder, seed=seed, eval_records=split.eval,
            )  # fmt: skip
            _sync(encoder.device)
            total = time.perf_counter() - start
            decode = trained.pixel_store["decode_seconds"]
            times["dalda"].append({"decode": decode, "eval": TimedEvaluator.seconds, "total": total,
                                   "train": total - TimedEvaluator.seconds,
                                   "macro": trained.epoch_evaluations[-1]["macro_accuracy"]})  # fmt: skip
            print(f"  dalda: {total - TimedEvaluator.seconds:.2f} s decoding once + training ({decode:.2f} s "
                  f"decoding), {TimedEvaluator.seconds:.2f} s evaluating")  # fmt: skip
            peak["dalda"] = _peak_gb(encoder.device)
            times["backbone"].append({"train": backbone_alone(encoder, args.batch_size, size, args.iterations)})
        load = max(load_before, os.getloadavg()[0])

    def median(path: str, key: str) -> float:
        return float(np.median([entry[key] for entry in times[path]]))

    authors_rate = draws / median("authors", "train")
    dalda_rate = draws / median("dalda", "train")
    backbone_rate = args.iterations * args.batch_size / median("backbone", "train")
    authors_fit = median("authors", "train") + median("authors", "eval")
    dalda_fit = median("dalda", "total")
    print(f"(a) authors' loader ({args.workers} workers): {authors_rate:.0f} training draws/s; fit "
          f"{authors_fit:.2f} s with evaluation, final macro {median('authors', 'macro'):.4f}")
    print(f"(b) dalda (pixel store + on-device augmentation): {dalda_rate:.0f} training draws/s; fit "
          f"{dalda_fit:.2f} s with decoding and evaluation, final macro {median('dalda', 'macro'):.4f}")
    print(f"backbone alone (train-mode forward of a ready batch, no data path): {backbone_rate:.0f} draws/s, "
          f"{backbone_rate / authors_rate:.1f}x the authors' loader: the ceiling of any data path")
    print(f"training draws/s ratio (b)/(a): {dalda_rate / authors_rate:.1f}x; whole fit: "
          f"{authors_fit / dalda_fit:.1f}x; 1-min load average up to {load:.1f}")  # fmt: skip
    if args.record:
        row = (
            f"| {date.today()} | {_hardware(encoder.device)} | {args.profile} | {args.classifier} | {size} | "
            f"{args.shots} x 5 + {len(training_set.synthetic_paths)} syn | "
            f"{args.epochs} x {args.iterations} x {args.batch_size} | {args.eval_draws} | {authors_rate:.0f} | "
            f"{dalda_rate:.0f} | {dalda_rate / authors_rate:.1f}x | {backbone_rate:.0f} "
            f"({backbone_rate / authors_rate:.1f}x) | {median('authors', 'train'):.1f} + "
            f"{median('authors', 'eval'):.1f} | {median('dalda', 'decode'):.1f} + "
            f"{median('dalda', 'train') - median('dalda', 'decode'):.1f} + {median('dalda', 'eval'):.1f} | "
            f"{authors_fit / dalda_fit:.1f}x | {median('authors', 'macro'):.4f} / {median('dalda', 'macro'):.4f} | "
            f"{load:.1f} |\n"
        )
        record_row(args.record, LOADER_TABLE, row, LOADER_HEADER)
    if args.jsonl:
        result_row = {
            "run": args.run_id, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "kind": "training", "hardware": _hardware(encoder.device), "profile": args.profile,
            "classifier": args.classifier, "px": size, "dtype": str(encoder.dtype).removeprefix("torch."),
            "images": len(training_set.item_paths), "eval_images": len(eval_paths),
            "schedule": f"{args.epochs} x {args.iterations} x {args.batch_size}", "eval_draws": args.eval_draws,
            "workers": args.workers, "authors_draws_s": authors_rate, "dalda_draws_s": dalda_rate,
            "ratio": dalda_rate / authors_rate, "backbone_draws_s": backbone_rate, "authors_fit_s": authors_fit, "dalda_fit_s": dalda_fit,
            "dalda_decode_s": median("dalda", "decode"), "authors_peak_gb": peak["authors"],
            "dalda_peak_gb": peak["dalda"], "load": load,
        }  # fmt: skip
        with open(args.jsonl, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result_row) + "\n")


if __name__ == "__main__":
    main()
