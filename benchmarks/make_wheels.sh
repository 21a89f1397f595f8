#!/usr/bin/env bash
# Fill wheels/ for benchmarks/gpu_check.sh, on a machine that reaches a package registry, for a GPU machine that
# has torch, transformers and accelerate but no registry: dalda's own wheel, plus the wheel of every package that
# dalda's other requirements bring (diffusers, torchvision, lpips, scipy, pydantic, ... and what they need), less
# torch and what torch brings (that machine has them).
#
#   benchmarks/make_wheels.sh [--python 3.12 [--python 3.11 ...]] [--torch 2.11.0] [--arch x86_64|aarch64]
#
# --python: the GPU machine's Python versions (default: this interpreter's); binary wheels are fetched for each.
# --torch:  the GPU machine's torch version, so that torchvision is the release built for it (only matters where
#           that machine has no torchvision: gpu_check.sh keeps every package already installed there).
# Writes wheels/requirements.txt (name==version, one a line) beside the wheels; gpu_check.sh installs from it.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
versions=()
torch_pin=""
arch=x86_64
while [ $# -gt 0 ]; do
    case "$1" in
        --python) versions+=("$2"); shift 2 ;;
        --torch) torch_pin="$2"; shift 2 ;;
        --arch) arch="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "make_wheels.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#versions[@]} -gt 0 ] || versions=("$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')")
export PIP_DISABLE_PIP_VERSION_CHECK=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p wheels
rm -f wheels/dalda-*.whl
"$python" -m pip wheel --quiet --no-deps --wheel-dir wheels .
dalda_wheel=$(ls wheels/dalda-*.whl)

# Every manylinux tag of this architecture: pip matches --platform values exactly.
platforms=(--platform "manylinux2014_$arch" --platform "linux_$arch")
for glibc in $(seq 17 39); do platforms+=(--platform "manylinux_2_${glibc}_$arch"); done

# dalda's requirements other than torch, transformers and accelerate, read from its wheel; datasets is left out too:
# with pyarrow and pandas it would add about 60 MB to what the device call carries, and only the generate stage's
# synthetic/metadata.parquet needs it, which gpu_check.py never writes (it measures the engine, not the stage).
"$python" - "$dalda_wheel" > "$scratch/direct.txt" <<'EOF'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    metadata = next(name for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    for line in wheel.read(metadata).decode().splitlines():
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            requirement = line.split(":", 1)[1].strip()
            if re.split(r"[ <>=!~;\[(]", requirement, maxsplit=1)[0].lower() not in {"torch", "transformers", "accelerate", "datasets"}:
                print(requirement)
EOF
pins=()
[ -n "$torch_pin" ] && pins=("torch==$torch_pin")
for version in "${versions[@]}"; do
    # What those requirements bring on that Python, and what torch brings: resolved, nothing installed.
    resolve=(--dry-run --ignore-installed --quiet --only-binary=:all: --python-version "$version"
             --implementation cp "${platforms[@]}" --target "$scratch/never-written")
    "$python" -m pip install "${resolve[@]}" --report "$scratch/all-$version.json" -r "$scratch/direct.txt" "${pins[@]}"
    "$python" -m pip install "${resolve[@]}" --report "$scratch/torch-$version.json" "${pins[@]:-torch}"
done
"$python" - "$scratch" "${versions[@]}" > wheels/requirements.txt <<'EOF'
import json, sys
from pathlib import Path

def resolved(path):
    return {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
            for item in json.loads(Path(path).read_text())["install"]}

scratch, versions = Path(sys.argv[1]), sys.argv[2:]
wanted = {}
for version in versions:
    everything, torch = resolved(scratch / f"all-{version}.json"), resolved(scratch / f"torch-{version}.json")
    for name, pinned in everything.items():
        if name not in torch and wanted.setdefault(name, pinned) != pinned:
            sys.exit(f"{name} resolves to {wanted[name]} on one Python and {pinned} on another; make one wheels/ per Python")
for name in sorted(wanted):
    print(f"{name}=={wanted[name]}")
EOF
for version in "${versions[@]}"; do
    "$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$version" --implementation cp \
        "${platforms[@]}" --dest wheels -r wheels/requirements.txt
done
echo "wheels/: $(basename "$dalda_wheel") and $(wc -l < wheels/requirements.txt) packages for Python ${versions[*]}" \
     "($(du -sh wheels | cut -f1)); copy the folder next to benchmarks/ on the GPU machine and run benchmarks/gpu_check.sh"
