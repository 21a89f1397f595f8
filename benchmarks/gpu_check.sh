#!/usr/bin/env bash
# One call on a GPU machine that has torch, transformers and accelerate but no package registry:
#
#   benchmarks/gpu_check.sh                        # install from wheels/, measure for 8 minutes at most
#   benchmarks/gpu_check.sh --device cpu --smoke   # the same code on tiny models in seconds (no GPU needed)
#
# 1. installs dalda and the packages it needs from wheels/ (made beforehand by benchmarks/make_wheels.sh on a
#    machine with a registry); a package the machine already has is kept. --no-install skips this (dalda already
#    installed, as in CI); so does a missing wheels/ folder when dalda imports already.
# 2. measures (benchmarks/gpu_check.py): the generation engine against the authors' one-image loop for every
#    generator (512 px, 30 steps, fp16, batch 1 / 8 / 16, with and without channels_last and torch.compile, as
#    time allows), dalda's train.protocol=authors fit against the authors' loader, peak GPU memory per row;
# 3. appends every row to OUT/gpu_check.jsonl as soon as it is measured and writes OUT/gpu_check.md, its summary,
#    even when the measuring was cut short (OUT: benchmarks/results unless --out says otherwise).
#
# Options: --device cuda|cpu, --smoke, --no-install, --out DIR, --budget SECONDS (the whole call, default 480).
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
device=cuda
smoke=()
install=1
out=benchmarks/results
budget=480
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device="$2"; shift 2 ;;
        --smoke) smoke=(--smoke); shift ;;
        --no-install) install=0; shift ;;
        --out) out="$2"; shift 2 ;;
        --budget) budget="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
started=$(date +%s)
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1

install_from_wheels() {
    if [ ! -f wheels/requirements.txt ]; then
        echo "gpu_check: wheels/requirements.txt is missing; run benchmarks/make_wheels.sh where a registry is" \
             "reachable and copy wheels/ here" >&2
        return 1
    fi
    # The packages the machine lacks; the ones it has stay as they are (its torchvision matches its torch).
    missing=$("$python" - wheels/requirements.txt <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
for line in open(sys.argv[1]):
    name = line.split("==")[0].strip()
    try:
        print(f"  kept installed: {name} {version(name)}", file=sys.stderr)
    except PackageNotFoundError:
        print(line.strip())
EOF
)
    if [ -n "$missing" ]; then
        echo "gpu_check: installing from wheels/: $(echo $missing | tr '\n' ' ')"
        "$python" -m pip install --quiet --no-index --no-deps --find-links wheels $missing || return 1
    fi
    "$python" -m pip install --quiet --no-index --no-deps --force-reinstall wheels/dalda-*.whl || return 1
    "$python" -m pip check || echo "gpu_check: pip check reports the conflicts above; going on"
}

if [ "$install" = 1 ]; then
    if [ -d wheels ]; then
        install_from_wheels || { echo "gpu_check: installing from wheels/ failed" >&2; exit 1; }
    elif "$python" -c "import dalda" 2>/dev/null; then
        echo "gpu_check: no wheels/ folder; using the dalda already installed"
    else
        echo "gpu_check: no wheels/ folder and no dalda installed: run benchmarks/make_wheels.sh first" >&2
        exit 1
    fi
fi
"$python" -c "import diffusers, dalda.generation.stage, dalda.training.stage, dalda.evaluation.stage" \
    || { echo "gpu_check: dalda does not import (above); nothing measured" >&2; exit 1; }

mkdir -p "$out"
jsonl="$out/gpu_check.jsonl"
markdown="$out/gpu_check.md"
# Leave 20 s of the budget for stopping a run that overruns and writing the summary.
left=$(( budget - ($(date +%s) - started) - 20 ))
if [ "$left" -lt 30 ]; then
    echo "gpu_check: only ${left} s of the ${budget} s budget left after installing; nothing measured" >&2
    exit 1
fi
timeout --signal=TERM --kill-after=10 "$left" "$python" benchmarks/gpu_check.py --device "$device" "${smoke[@]}" \
    --jsonl "$jsonl" --budget "$(( left - 10 ))"
status=$?
[ "$status" = 124 ] && echo "gpu_check: stopped at the budget; the rows measured so far are kept"
if [ -f "$jsonl" ]; then
    "$python" benchmarks/gpu_check.py --summarise --jsonl "$jsonl" --markdown "$markdown"
fi
echo "gpu_check: $(( $(date +%s) - started )) s in all; rows in $jsonl, summary in $markdown"
exit "$status"
