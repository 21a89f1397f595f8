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
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dalda.configure import build_config
from dalda.artefacts import ManifestLine, Split
from dalda.data.stage import run_data_stage
from dalda.evaluation.accuracy import accuracy_report, eval_features, predict
from dalda.rundir import RunDir
from dalda.probes import PROBES
from dalda.training.classifier import train_classifier, training_seed
from dalda.training.trainset import load_training_set


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
    parser.add_argument("--eval-draws", type=int, default=6400, help="--protocols: authors' evaluation draws per epoch")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.protocols:
        compare_protocols(args)
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
        device = encoder.device
        hardware = (
            torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"
        )
        row = (
            f"| {date.today()} | {hardware} | {args.profile} | {args.classifier} | {args.image_size} | "
            f"{args.shots} x 5 + {args.synthetic_per_real * args.shots * 5} syn | "
            f"{args.epochs} x {args.iterations} x {args.batch_size} | "
            f"{results['encode']['seconds']:.1f} | {results['cached']['seconds']:.2f} | {ratio:.1f}x | "
            f"{results['encode']['accuracy']:.4f} | {results['cached']['accuracy']:.4f} | "
            f"{args.repeats} | {load:.1f} |\n"
        )
        with open(args.record, "a", encoding="utf-8") as handle:
            handle.write(row)
        print(f"recorded in {args.record}")


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
        device = encoder.device
        hardware = (
            torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"
        )
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
        with open(args.record, "a", encoding="utf-8") as handle:
            handle.write(row)
        print(f"recorded in {args.record}")


if __name__ == "__main__":
    main()
