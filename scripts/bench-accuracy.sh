#!/usr/bin/env bash
# A benchmark, not a test: trains the same recipes in dptrain and in
# PyTorch (scripts/lib/torch_recipe.py: same layers, AdamW, dropout, label
# smoothing, shifts, batch and cosine schedule) and prints both accuracies.
#   scripts/bench-accuracy.sh [--all]     (--all adds fashion-best, about 10 minutes more)
# PyTorch comes from the CPU wheel index, else PyPI, into a venv of its own;
# if it cannot be installed the script says so and prints dptrain's figures alone.
set -euo pipefail
cd "$(dirname "$0")/.."

all=0
[ "${1:-}" = "--all" ] && all=1
fashion=/usr/share/datasets/fashion-mnist
mnist5k=../shared/datasets/mnist-5k
mnisttest=../shared/datasets/mnist

swift build -c release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "bench-accuracy: build failed" >&2; exit 1; }
bin=$(swift build -c release --show-bin-path)/dptrain

venv=${DPTRAIN_TORCH_VENV:-$HOME/.cache/dptrain-torch-venv}
torch=1
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  python3 -m venv "$venv" >/dev/null 2>&1 || { torch=0; echo "bench-accuracy: cannot create a venv (python3-venv missing?): no PyTorch comparison"; }
  if [ $torch = 1 ]; then
    "$venv/bin/pip" install -q --index-url https://download.pytorch.org/whl/cpu torch >/dev/null 2>&1 \
      || "$venv/bin/pip" install -q torch >/dev/null 2>&1 \
      || { torch=0; echo "bench-accuracy: PyTorch could not be installed (neither the CPU wheel index nor PyPI): no PyTorch comparison"; }
  fi
fi

# name | dptrain data flags | torch flags
recipes=(
  "fashion-fast|--data $fashion|--data $fashion --layers 784,256,10 --dropout 0.2 --label-smoothing 0.1 --epochs 20"
  "mnist-subset-best|--data $mnist5k --test-data $mnisttest|--data $mnist5k --test-data $mnisttest --layers 784,512,256,10 --dropout 0.3 --label-smoothing 0.1 --shift 2 --epochs 60"
)
[ $all = 1 ] && recipes+=("fashion-best|--data $fashion|--data $fashion --layers 784,512,256,10 --dropout 0.3 --label-smoothing 0.1 --epochs 30")

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-20s %10s %10s %10s\n' recipe dptrain pytorch difference
for recipe in "${recipes[@]}"; do
  IFS='|' read -r name data torchflags <<<"$recipe"
  # shellcheck disable=SC2086
  "$bin" train --preset "$name" $data --seed 1 --out "$out/$name" >/dev/null
  ours=$(tail -1 "$out/$name/metrics.jsonl" | sed -E 's/.*"test_accuracy":([0-9.]+).*/\1/')
  theirs=n/a difference=n/a
  if [ $torch = 1 ]; then
    # shellcheck disable=SC2086
    theirs=$("$venv/bin/python" scripts/lib/torch_recipe.py $torchflags --seed 1 | tail -1)
    difference=$(python3 -c "print(f'{($ours - $theirs) * 100:+.2f} pt')")
  fi
  printf '%-20s %10s %10s %10s\n' "$name" "$ours" "$theirs" "$difference"
done
