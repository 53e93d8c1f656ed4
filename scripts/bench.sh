#!/usr/bin/env bash
# Benchmarks, measured in one run on this machine, reported as ratios where
# a ratio is what matters (the machines are shared and noisy). The last line
# is one JSON object with every figure.
#   scripts/bench.sh [--epochs E]     (default 1 epoch of Fashion-MNIST per throughput run)
set -euo pipefail
cd "$(dirname "$0")/.."

epochs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    *) echo "bench: unknown option $1 (known: --epochs E)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh >&2
swift build -c release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' >&2 || { echo "bench: build failed" >&2; exit 1; }
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "bench: compute (sgemm peak, MLP step), one thread" >&2
"$bin/dptrain-bench" compute >"$work/compute.json"

# Throughput of the real commands on full-size data: 784-512-256-10, global batch 128.
flags=(--data /usr/share/datasets/fashion-mnist --layers 784,512,256,10 --batch-size 128
       --lr 0.05 --momentum 0.9 --epochs "$epochs" --seed 1)
echo "bench: train, 1 process" >&2
"$bin/dptrain" train "${flags[@]}" --out "$work/train" >&2
for n in 1 2; do
  echo "bench: simulate --workers $n" >&2
  "$bin/dptrain" simulate --workers "$n" "${flags[@]}" --out "$work/sim$n" >&2
done

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def last(run):
    return [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl") if l.strip()][-1]
out = json.loads(open(f"{work}/compute.json").read())
train, one, two = last("train"), last("sim1"), last("sim2")
out["samples_per_second_train"] = train["samples_per_second"]
out["samples_per_second_1w"] = one["samples_per_second"]
out["samples_per_second_2w"] = two["samples_per_second"]
out["step_comm_fraction_2w"] = two.get("comm_fraction")
out["speedup_2w_over_1w"] = round(two["samples_per_second"] / one["samples_per_second"], 3)
out["ratio_1w_to_train"] = round(one["samples_per_second"] / train["samples_per_second"], 3)
print(json.dumps(out))
PY
