#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, get data,
# train the fashion-fast recipe (784-256-10, AdamW, dropout, label smoothing;
# README "Recipes") with several worker processes, write its report, say
# where the results are.
#   scripts/demo.sh [--workers N] [--epochs E] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

workers=2 epochs=20 out=runs/demo
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "demo: unknown option $1 (known: --workers N --epochs E --out DIR)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
echo "demo: building (release)"
swift build -c release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "demo: build failed" >&2; exit 1; }
bin=$(swift build -c release --show-bin-path)/dptrain

dataset=mnist
if ! "$bin" fetch-data --dataset mnist >/tmp/dptrain-demo-fetch.log 2>&1; then
  echo "demo: MNIST could not be had ($(tail -1 /tmp/dptrain-demo-fetch.log)); training on Fashion-MNIST instead"
  dataset=fashion-mnist
fi

"$bin" simulate --preset fashion-fast --workers "$workers" --dataset "$dataset" --epochs "$epochs" --seed 1 --out "$out"

"$bin" report "$out" >/dev/null
echo "demo: done. Metrics: $out/metrics.jsonl  Model: $out/model.safetensors"
echo "demo: curves: tensorboard --logdir $out/tensorboard"
echo "demo: evaluate it again with: $bin evaluate --model $out/model.safetensors --dataset $dataset"
echo "demo: report: $out/report.html"
