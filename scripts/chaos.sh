#!/usr/bin/env bash
# Chaos test of DESIGN.md's determinism promise: a simulation whose workers
# are SIGKILLed at random moments, and whose coordinator is SIGKILLed once
# and resumed, must write the same model.safetensors as an undisturbed
# `train` with the same flags.
#
#   scripts/chaos.sh [--kills N] [--workers W] [--seed S] [--epochs E] [--collective central|ring]
#
#   --kills N    worker kills in all (default 20); about half are followed at once
#                by a replacement `dptrain worker`; the last live worker is never
#                killed: a late joiner is started first
#   --workers W  workers simulate starts (default 3)
#   --seed S     seeds the chaos (victims, pauses, replacements) and training (default 1)
#   --epochs E   training length (default 12 on Fashion-MNIST, 200 on mnist-5k)
#   --collective central (default) or ring: with the ring, every kill breaks
#                the ring and makes the coordinator repeat the steps since its snapshot
#
# Trains 784-128-10 on Fashion-MNIST (/usr/share/datasets/fashion-mnist), or
# 784-64-10 on ../shared/datasets/mnist-5k when that is missing. Builds the
# release binary if it is missing or older than the sources. Prints the
# reference md5, the chaos run's md5, the kills done, and finally
# `chaos: MATCH` (exit 0) or `chaos: MISMATCH` (exit 1); 2 for bad usage.
# It only ever kills processes it started and children of its own simulate.
# Logs stay in the folder it names.
set -uo pipefail
cd "$(dirname "$0")/.."

kills=20 workers=3 seed=1 epochs= collective=central
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) kills=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --collective) collective=$2; shift 2 ;;
    *) echo "chaos: unknown option $1 (known: --kills N --workers W --seed S --epochs E --collective central|ring)" >&2; exit 2 ;;
  esac
done
for value in "$kills" "$workers" "$seed" ${epochs:+"$epochs"}; do
  [[ $value =~ ^[0-9]+$ ]] || { echo "chaos: options take whole numbers, got '$value'" >&2; exit 2; }
done
(( workers >= 1 )) || { echo "chaos: --workers must be at least 1" >&2; exit 2; }
[[ $collective == central || $collective == ring ]] || { echo "chaos: --collective is central or ring, got '$collective'" >&2; exit 2; }
RANDOM=$seed

bin=.build/release/dptrain
if [ ! -x "$bin" ] || [ -n "$(find Sources Package.swift -newer "$bin" -print -quit)" ]; then
  echo "chaos: building (release)"
  swift build -c release --product dptrain 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "chaos: build failed" >&2; exit 2; }
fi

if [ -d /usr/share/datasets/fashion-mnist ]; then
  data=(--data /usr/share/datasets/fashion-mnist --layers 784,128,10 --batch-size 128)
  epochs=${epochs:-12}
else
  data=(--data ../shared/datasets/mnist-5k --test-data ../shared/datasets/mnist --layers 784,64,10 --batch-size 100)
  epochs=${epochs:-200}
fi
training=("${data[@]}" --epochs "$epochs" --lr 0.1 --momentum 0.9 --lr-decay 0.95 --seed "$seed")
cluster=(--heartbeat-ms 100 --peer-timeout-ms 1000)
dir=$(mktemp -d "${TMPDIR:-/tmp}/dptrain-chaos.XXXXXX")
run=$dir/run
echo "chaos: logs and runs in $dir"

# --- Processes ------------------------------------------------------------

sim=            # the simulate running now
replacements=() # replacement workers started here
orphans=()      # workers of the simulate that was killed
alive() {       # a live process, not a zombie waiting to be reaped
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] && [ "$state" != Z ]
}
live_workers() {  # simulate's worker children and our live replacements
  local pid
  for pid in $(pgrep -P "$sim") "${replacements[@]}"; do alive "$pid" && echo "$pid"; done
}
cleanup() {
  local pid
  for pid in "${replacements[@]}" "${orphans[@]}" $sim; do alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

starts=0
start_simulate() {  # extra flags, e.g. --resume RUN
  starts=$((starts + 1))
  "$bin" simulate --workers "$workers" --collective "$collective" "${cluster[@]}" --checkpoint-every 50 "$@" "${training[@]}" --out "$run" \
    >"$dir/simulate-$starts.out" 2>"$dir/simulate-$starts.err" &
  sim=$!
  endpoint=
  local deadline=$((SECONDS + 120))
  # Kill nothing before all workers have joined: the coordinator waits for that many.
  while alive "$sim" && (( SECONDS < deadline )); do
    endpoint=$(grep -o 'listening on [a-z]*://[^ ,]*' "$dir/simulate-$starts.err" | head -1 | cut -d' ' -f3)
    joined=$(grep -c '^coordinator: worker .* joined' "$dir/simulate-$starts.err")
    [ -n "$endpoint" ] && (( joined >= workers )) && return 0
    sleep 0.02
  done
  echo "chaos: simulate #$starts did not get going; see $dir/simulate-$starts.err" >&2
  return 1
}
declare -A born  # replacement pid -> start time in microseconds
now() { echo "${EPOCHREALTIME/./}"; }
start_worker() {
  "$bin" worker --coordinator "$endpoint" "${cluster[@]}" >>"$dir/replacements.log" 2>&1 &
  replacements+=($!)
  born[$!]=$(now)
  disown $!  # no "Killed" notices; alive() tells zombies apart
}
settled_workers() {  # live workers that have had half a second to join
  local pid
  for pid in $(live_workers); do
    (( $(now) - ${born[$pid]:-0} >= 500000 )) && echo "$pid"
  done
}

# --- The undisturbed reference ----------------------------------------------

started=$SECONDS
echo "chaos: reference: dptrain train ${training[*]}"
"$bin" train "${training[@]}" --out "$dir/reference" >"$dir/reference.out" 2>&1 ||
  { echo "chaos: the reference run failed; see $dir/reference.out" >&2; exit 2; }
reference=$(md5sum <"$dir/reference/model.safetensors" | cut -d' ' -f1)

# --- The chaos run ----------------------------------------------------------

echo "chaos: simulate --workers $workers --collective $collective: $kills worker kills, and the coordinator killed once"
done_kills=0 replaced=0 late=0 coordinator_killed=0
coordinator_at=$(( kills / 3 + RANDOM % (kills / 3 + 1) ))  # after this many worker kills
start_simulate || exit 1
while (( done_kills < kills )) && alive "$sim"; do
  sleep "0.$(( 2 + RANDOM % 8 ))"
  alive "$sim" || break
  if (( !coordinator_killed && done_kills >= coordinator_at )) && [ -f "$run/checkpoint.safetensors" ]; then
    mapfile -t orphans < <(live_workers)
    kill -KILL "$sim"
    wait "$sim" 2>/dev/null
    coordinator_killed=1
    echo "chaos: killed simulate (pid $sim) after $done_kills worker kills; resuming"
    # Its workers go by themselves once it is gone; replacements after the peer timeout.
    deadline=$((SECONDS + 15))
    left=("${orphans[@]}")
    while (( ${#left[@]} > 0 && SECONDS < deadline )); do
      sleep 0.1
      mapfile -t left < <(for pid in "${left[@]}"; do alive "$pid" && echo "$pid"; done)
    done
    (( ${#left[@]} == 0 )) || echo "chaos: workers outlived their coordinator by 15 s: ${left[*]}" >&2
    start_simulate --resume "$run" || exit 1
    continue
  fi
  mapfile -t live < <(live_workers)
  if (( ${#live[@]} <= 1 )); then  # never kill the last worker: bring in a late joiner first
    start_worker
    late=$((late + 1))
    continue
  fi
  mapfile -t ready < <(settled_workers)
  (( ${#ready[@]} > 0 )) || continue
  victim=${ready[RANDOM % ${#ready[@]}]}
  kill -KILL "$victim" 2>/dev/null || continue
  done_kills=$((done_kills + 1))
  if (( RANDOM % 2 == 0 )); then  # a replacement at once, while the victim's shards are still out
    start_worker
    replaced=$((replaced + 1))
  fi
done
if (( done_kills < kills )); then
  echo "chaos: training ended after $done_kills of $kills kills; raise --epochs for more"
fi
wait "$sim"
status=$?

# --- Verdict ----------------------------------------------------------------

if [ -f "$run/model.safetensors" ]; then
  result=$(md5sum <"$run/model.safetensors" | cut -d' ' -f1)
else
  result="(no model)"
fi
lines=$(wc -l <"$run/metrics.jsonl" 2>/dev/null || echo 0)
rejected=$(cat "$dir"/simulate-*.err | grep -c '^coordinator: rejected message' || true)
echo "chaos: reference md5  $reference"
echo "chaos: chaos run md5  $result (exit $status, $lines metrics lines for $epochs epochs)"
joined=$(grep -c 'worker: joined' "$dir/replacements.log" 2>/dev/null || true)
echo "chaos: kills done: $done_kills workers ($replaced replaced at once), $coordinator_killed coordinator (resumed);" \
  "$late late joiners; ${joined:-0} of $((replaced + late)) started workers joined; $rejected messages rejected; $((SECONDS - started)) s"
if [ "$status" -eq 0 ] && [ "$result" = "$reference" ]; then
  echo "chaos: MATCH"
  exit 0
fi
echo "chaos: MISMATCH (logs in $dir)"
exit 1
