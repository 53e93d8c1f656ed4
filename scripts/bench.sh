#!/usr/bin/env bash
# Benchmarks, measured in one run on this machine, reported as ratios where
# a ratio is what matters (the machines are shared and noisy). The last line
# is one JSON object with every figure: compute (dptrain-bench compute),
# throughput of train and simulate (central, and ring with 2 workers; both
# with 2 workers and --verify-fraction 0.02, as a ratio to without; the
# ring with its neighbours in shared memory, the default on one host, and
# over sockets; the best 2-worker figure against train at global batch 128
# and 512), what launching a step costs (from the shards sent, or the
# worker's last step done if later, to its compute's start: central, and
# the ring in shared memory and over sockets, 2 workers at batch 128),
# ZeroMQ transfer and all-reduce times (dptrain-bench transfer, allreduce),
# heap allocations per step and peak resident memory of separately started
# coordinator and worker processes, with either collective.
#   scripts/bench.sh [--epochs E] [--rounds R] [--fuzz-cases N] [--verify-only | --speed-only]
#     E: epochs of Fashion-MNIST per throughput run (default 1)
#     R: rounds of the throughput and exchange runs (default 3). The host's
#        other tenants move a single run by 10-30% within minutes, so each
#        round runs every command once, back to back; the JSON gives each
#        figure's median over the rounds, each ratio's median over the
#        rounds' own ratios, and every round's figures under "rounds".
#     N: hostile messages of the fuzz run (default 1,000,000; dptrain-bench
#        fuzz): it fails the benchmark if any dptrain process dies of a signal.
#     --verify-only: only the cost of --verify-fraction 0.02, central and
#        ring: each round runs simulate --workers 2 without and with it, for
#        both collectives, back to back; the JSON has the four throughputs,
#        their two ratios and the two ratios of CPU seconds (all processes),
#        medians and every round's (the full run reports them too).
#     --speed-only: only whether 2 workers beat one process: each round runs
#        train, simulate --workers 2 central, ring (shared memory) and ring
#        over sockets at batch 128, then train and both collectives at batch
#        512, back to back; the JSON has the throughputs, the best 2-worker
#        figure over train at each batch, medians and every round's.
set -euo pipefail
cd "$(dirname "$0")/.."

epochs=1 rounds=3 fuzz_cases=1000000 verify_only=0 speed_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --fuzz-cases) fuzz_cases=$2; shift 2 ;;
    --verify-only) verify_only=1; shift ;;
    --speed-only) speed_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1 (known: --epochs E, --rounds R, --fuzz-cases N, --verify-only, --speed-only)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rounds must be a positive whole number, not '$rounds'" >&2; exit 2; }
[[ "$fuzz_cases" =~ ^[0-9]+$ ]] || { echo "bench: --fuzz-cases must be a whole number, not '$fuzz_cases'" >&2; exit 2; }

scripts/setup.sh >&2
swift build -c release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' >&2 || { echo "bench: build failed" >&2; exit 1; }
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Throughput of the real commands on full-size data: 784-512-256-10, global batch 128.
flags=(--data /usr/share/datasets/fashion-mnist --layers 784,512,256,10 --batch-size 128
       --lr 0.05 --momentum 0.9 --epochs "$epochs" --seed 1)

# timed_simulate NAME ARGS...: simulate into $work/NAME, its CPU seconds
# (user + system, the workers' included: simulate reaps them) into
# $work/NAME.cpu. On a shared machine CPU time moves less than throughput.
# Its step launches go to $work/NAME.launch (a few writes a step, no more).
timed_simulate() {
  local name=$1; shift
  local TIMEFORMAT='%U %S'
  { time DPTRAIN_LAUNCH_TRACE="$work/$name.launch" "$bin/dptrain" simulate "$@" "${flags[@]}" --out "$work/$name" >&3 2>&3; } \
    3>&2 2>"$work/$name.cpu"
}

# verify_pair ROUND: simulate --workers 2 without and with --verify-fraction
# 0.02, central then ring, back to back (so the ratios compare like with like).
verify_pair() {
  local round=$1
  echo "bench: round $round: simulate --workers 2, without and with --verify-fraction 0.02, central and ring" >&2
  timed_simulate "sim2-$round" --workers 2
  timed_simulate "sim2verify-$round" --workers 2 --verify-fraction 0.02
  timed_simulate "sim2ring-$round" --workers 2 --collective ring
  timed_simulate "sim2ringverify-$round" --workers 2 --collective ring --verify-fraction 0.02
}

# sockets_and_batch512 ROUND: the ring over sockets at batch 128, then train
# and both collectives at batch 512 (the full run has batch 128's others already).
sockets_and_batch512() {
  local round=$1
  echo "bench: round $round: simulate --workers 2 --collective ring --no-shared-memory" >&2
  DPTRAIN_LAUNCH_TRACE="$work/sim2ringsockets-$round.launch" \
    "$bin/dptrain" simulate --workers 2 --collective ring --no-shared-memory "${flags[@]}" --out "$work/sim2ringsockets-$round" >&2
  echo "bench: round $round: global batch 512: train, simulate --workers 2 central and ring" >&2
  "$bin/dptrain" train "${flags[@]}" --batch-size 512 --out "$work/train512-$round" >&2
  "$bin/dptrain" simulate --workers 2 "${flags[@]}" --batch-size 512 --out "$work/sim2b512-$round" >&2
  "$bin/dptrain" simulate --workers 2 --collective ring "${flags[@]}" --batch-size 512 --out "$work/sim2ringb512-$round" >&2
}

# speed_round ROUND: train and 2 workers at batch 128 and 512, back to back.
speed_round() {
  local round=$1
  echo "bench: round $round: train, simulate --workers 2 central and ring (batch 128)" >&2
  "$bin/dptrain" train "${flags[@]}" --out "$work/train-$round" >&2
  DPTRAIN_LAUNCH_TRACE="$work/sim2-$round.launch" "$bin/dptrain" simulate --workers 2 "${flags[@]}" --out "$work/sim2-$round" >&2
  DPTRAIN_LAUNCH_TRACE="$work/sim2ring-$round.launch" \
    "$bin/dptrain" simulate --workers 2 --collective ring "${flags[@]}" --out "$work/sim2ring-$round" >&2
  sockets_and_batch512 "$round"
}

if [ "$speed_only" = 1 ]; then
  for round in $(seq "$rounds"); do speed_round "$round"; done
  python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
sys.path.insert(0, "scripts/lib")
from launch_trace import launch_figures
work, rounds = sys.argv[1], int(sys.argv[2])
def sps(run):
    return [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl") if l.strip()][-1]["samples_per_second"]
per_round = []
for r in range(1, rounds + 1):
    f = {name: sps(f"{run}-{r}") for name, run in (
        ("samples_per_second_train", "train"), ("samples_per_second_2w", "sim2"),
        ("samples_per_second_ring_2w", "sim2ring"), ("samples_per_second_ring_2w_sockets", "sim2ringsockets"),
        ("samples_per_second_train_batch512", "train512"), ("samples_per_second_2w_batch512", "sim2b512"),
        ("samples_per_second_ring_2w_batch512", "sim2ringb512"))}
    f["samples_per_second_best_2w"] = max(f["samples_per_second_2w"], f["samples_per_second_ring_2w"])
    f["speedup_best_2w_over_train"] = round(f["samples_per_second_best_2w"] / f["samples_per_second_train"], 3)
    f["samples_per_second_best_2w_batch512"] = max(f["samples_per_second_2w_batch512"], f["samples_per_second_ring_2w_batch512"])
    f["speedup_best_2w_over_train_batch512"] = round(
        f["samples_per_second_best_2w_batch512"] / f["samples_per_second_train_batch512"], 3)
    f["ratio_ring_2w_shared_memory_to_sockets"] = round(f["samples_per_second_ring_2w"] / f["samples_per_second_ring_2w_sockets"], 3)
    f.update(launch_figures(work, r))
    per_round.append(f)
out = {key: statistics.median(r[key] for r in per_round) for key in per_round[0]}
out["rounds"] = per_round
print(json.dumps(out))
PY
  exit 0
fi

if [ "$verify_only" = 1 ]; then
  for round in $(seq "$rounds"); do verify_pair "$round"; done
  python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def sps(run):
    return [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl") if l.strip()][-1]["samples_per_second"]
def cpu(run):
    return sum(float(x) for x in open(f"{work}/{run}.cpu").read().split())
per_round = []
for r in range(1, rounds + 1):
    two, verify, ring, ring_verify = (sps(f"{run}-{r}") for run in ("sim2", "sim2verify", "sim2ring", "sim2ringverify"))
    per_round.append({
        "samples_per_second_2w": two, "samples_per_second_2w_verify_002": verify,
        "ratio_verify_002_to_2w": round(verify / two, 3),
        "cpu_ratio_verify_002_to_2w": round(cpu(f"sim2verify-{r}") / cpu(f"sim2-{r}"), 3),
        "samples_per_second_ring_2w": ring, "samples_per_second_ring_2w_verify_002": ring_verify,
        "ratio_verify_002_to_ring_2w": round(ring_verify / ring, 3),
        "cpu_ratio_verify_002_to_ring_2w": round(cpu(f"sim2ringverify-{r}") / cpu(f"sim2ring-{r}"), 3),
    })
out = {key: statistics.median(r[key] for r in per_round) for key in per_round[0]}
out["rounds"] = per_round
print(json.dumps(out))
PY
  exit 0
fi

echo "bench: compute (sgemm peak, MLP step), one thread" >&2
"$bin/dptrain-bench" compute >"$work/compute.json"

# CURVE's cost: coordinator + 2 worker processes over tcp://127.0.0.1, in
# plaintext and with CURVE (keys made once), central and ring, each round.
"$bin/dptrain" keygen --out "$work/coordinator" >/dev/null
for w in 1 2; do "$bin/dptrain" keygen --out "$work/w$w" >/dev/null; done
cat "$work/w1.pub" "$work/w2.pub" >"$work/authorized_keys"
# tcp_run NAME COLLECTIVE plain|curve [COORDINATOR FLAGS...]
tcp_run() {
  local name=$1 collective=$2 mode=$3 port
  shift 3
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local coordinator_keys=() worker_keys=()
  if [ "$mode" = curve ]; then
    coordinator_keys=(--curve-secret-key "$work/coordinator.key" --authorized-keys "$work/authorized_keys")
  fi
  "$bin/dptrain" coordinator --listen "tcp://127.0.0.1:$port" --workers 2 --collective "$collective" \
    "${coordinator_keys[@]}" "${flags[@]}" "$@" --out "$work/$name" >&2 &
  local coordinator=$!
  for w in 1 2; do
    [ "$mode" = curve ] && worker_keys=(--curve-secret-key "$work/w$w.key" "--coordinator-key=$(cat "$work/coordinator.pub")")
    "$bin/dptrain" worker --coordinator "tcp://127.0.0.1:$port" "${worker_keys[@]}" >&2 &
  done
  wait "$coordinator"
  wait
}

for round in $(seq "$rounds"); do
  for collective in central ring; do
    for mode in plain curve; do
      echo "bench: round $round: coordinator + 2 workers over tcp://127.0.0.1, $collective, $mode" >&2
      tcp_run "tcp-$collective-$mode-$round" "$collective" "$mode"
    done
  done
  # The ring's links as between hosts: over TCP, not shared memory.
  for mode in plain curve; do
    echo "bench: round $round: coordinator + 2 workers over tcp://127.0.0.1, ring over sockets, $mode" >&2
    tcp_run "tcp-ringsockets-$mode-$round" ring "$mode" --no-shared-memory
  done
  echo "bench: round $round of $rounds: train, 1 process" >&2
  "$bin/dptrain" train "${flags[@]}" --out "$work/train-$round" >&2
  echo "bench: round $round: simulate --workers 1" >&2
  "$bin/dptrain" simulate --workers 1 "${flags[@]}" --out "$work/sim1-$round" >&2
  verify_pair "$round"
  sockets_and_batch512 "$round"

  echo "bench: round $round: ZeroMQ transfer of one gradient, process to process (ipc://, tcp://127.0.0.1)" >&2
  "$bin/dptrain-bench" transfer >"$work/transfer-$round.json"
  echo "bench: round $round: all-reduce of one gradient, 2 worker processes, central collective then ring" >&2
  "$bin/dptrain-bench" allreduce >"$work/allreduce-$round.json"
done

# Heap allocations per steady-state step, counted by an LD_PRELOAD-ed
# interposer (Sources/AllocationCounter) that also reports each process's
# peak resident memory (VmHWM) at exit. Each command runs twice, on the first
# 20 and the first 100 batches of Fashion-MNIST (raw IDX, the same 1,000 test
# images): the difference over the 80 extra steps cancels start-up, the
# first steps' warm-up and the epoch's end. The two runs' folder names have
# the same length, because a longer path string can cost an allocation more. Only the final image of a process
# reports (dptrain re-executes itself once; the old image never exits), and
# each report is matched to its process by pid.
counter="$bin/libAllocationCounter.so"
small_steps=20 large_steps=100
python3 - "$work" "$small_steps" "$large_steps" <<'PY'
import gzip, os, struct, sys
work, steps = sys.argv[1], {"small": int(sys.argv[2]), "large": int(sys.argv[3])}
source = "/usr/share/datasets/fashion-mnist"
def subset(split, count, folder):
    with gzip.open(f"{source}/{split}-images-idx3-ubyte.gz") as f:
        f.read(16); images = f.read(count * 784)
    with gzip.open(f"{source}/{split}-labels-idx1-ubyte.gz") as f:
        f.read(8); labels = f.read(count)
    with open(f"{folder}/{split}-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + images)
    with open(f"{folder}/{split}-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + labels)
for name, count in steps.items():
    os.makedirs(f"{work}/data-{name}")
    subset("train", 128 * count, f"{work}/data-{name}")
    subset("t10k", 1000, f"{work}/data-{name}")
PY

# counted NAME COMMAND...: starts COMMAND in the background under the counter;
# its report goes to $work/NAME.count and its pid to $work/NAME.pid.
counted() {
  local name=$1; shift
  LD_PRELOAD="$counter" ALLOCATION_COUNTER_FILE="$work/$name.count" "$@" >&2 &
  echo $! >"$work/$name.pid"
}
# cluster NAME COORDINATOR_FLAGS...: a coordinator and 2 workers, started
# separately, as on a cluster; `--collective ring` among the flags makes a ring.
# Heartbeats every 5 s rather than 0.5 s: none then falls in a run's idle
# moments (joining, the epoch's end), which would add allocations that
# depend on timing, not on steps. Workers exit as soon as the coordinator
# says stop, but that last message is sometimes lost when the coordinator
# exits at once; a worker still running a second later is stopped with
# SIGTERM rather than left to its 10 s peer timeout.
cluster() {
  local name=$1; shift
  local endpoint="ipc://$work/$name.sock" pid
  counted "$name-coordinator" "$bin/dptrain" coordinator --listen "$endpoint" --workers 2 --heartbeat-ms 5000 \
    "$@" --out "$work/$name"
  for w in 1 2; do counted "$name-worker$w" "$bin/dptrain" worker --coordinator "$endpoint" --heartbeat-ms 5000; done
  wait "$(cat "$work/$name-coordinator.pid")"
  for w in 1 2; do
    pid=$(cat "$work/$name-worker$w.pid")
    for _ in {1..20}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "bench: worker $w of the $name run missed the coordinator's shutdown; stopping it" >&2
      kill -TERM "$pid"
    fi
    wait "$pid" || [ $? -eq 143 ]
  done
}
subset_flags=(--layers 784,512,256,10 --batch-size 128 --lr 0.05 --momentum 0.9 --epochs 1 --seed 1)
for run in small large; do
  echo "bench: allocations, train and coordinator + 2 workers (central, ring), $run run" >&2
  counted "$run-train" "$bin/dptrain" train --data "$work/data-$run" "${subset_flags[@]}" --out "$work/$run-train"
  wait "$(cat "$work/$run-train.pid")"
  cluster "$run" --data "$work/data-$run" "${subset_flags[@]}"
  cluster "$run-ring" --collective ring --data "$work/data-$run" "${subset_flags[@]}"
done
echo "bench: peak memory, coordinator + 2 workers (central, ring), $epochs epoch(s) of Fashion-MNIST" >&2
cluster rss "${flags[@]}"
cluster rss-ring --collective ring "${flags[@]}"

# What crosses a link per step between hosts: scripts/netbench.sh's
# namespaced hosts (their own links, so their counters hold only the run's
# traffic), 2 workers, both collectives, 20 and 60 steps at 10 Gbit/s: the
# difference over the 40 extra steps cancels joining, the ring's formation
# and the end. Against the fp32 gradient size and what PyTorch DDP's ring
# sends per worker and step, 2·(N−1)/N of it.
# Then 2 hosts of 2 workers, the ring only: in two levels (a ring in each
# host through shared memory, one between hosts per local rank) and flat
# (--no-hierarchical), each host's link against the other.
for steps in 20 60; do
  echo "bench: bytes per step between hosts, scripts/netbench.sh --workers 2 --rates 10gbit --steps $steps --no-ddp" >&2
  scripts/netbench.sh --workers 2 --rates 10gbit --steps "$steps" --no-ddp 2>&1 >"$work/netbench-$steps.out" | tail -3 >&2
  echo "bench: the same, 2 hosts of 2 workers, ring in two levels and flat" >&2
  scripts/netbench.sh --workers 4 --workers-per-host 2 --collectives ring --rates 10gbit --steps "$steps" --no-ddp \
    2>&1 >"$work/netbench-hosts-$steps.out" | tail -3 >&2
done

if [ "$fuzz_cases" -gt 0 ]; then
  echo "bench: fuzz, $fuzz_cases hostile messages against a coordinator, a ring member and a worker (real processes)" >&2
  "$bin/dptrain-bench" fuzz "$fuzz_cases" 1 >"$work/fuzz.json"
else
  echo "{}" >"$work/fuzz.json"
fi

python3 - "$work" "$small_steps" "$large_steps" "$rounds" <<'PY'
import json, statistics, sys
sys.path.insert(0, "scripts/lib")
from launch_trace import launch_figures
work, small_steps, large_steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def last(run):
    return [json.loads(l) for l in open(f"{work}/{run}/metrics.jsonl") if l.strip()][-1]
def cpu(run):
    """CPU seconds (user + system) of a timed simulate, its workers included."""
    return sum(float(x) for x in open(f"{work}/{run}.cpu").read().split())
def report(name):
    """The counter's report of the process started as NAME:
    (allocations, of those libzmq's own, peak RSS in kB)."""
    pid = open(f"{work}/{name}.pid").read().strip()
    for line in open(f"{work}/{name}.count"):
        fields = dict(field.split("=") for field in line.split())
        if fields["pid"] == pid:
            return int(fields["allocations"]), int(fields["libzmq_allocations"]), int(fields["peak_rss_kb"])
    sys.exit(f"bench: no allocation report from {name} (pid {pid})")
def per_step(role, ring="", excluding_libzmq=False):
    def count(run):
        total, libzmq, _ = report(f"{run}{ring}-{role}")
        return total - libzmq if excluding_libzmq else total
    return (count("large") - count("small")) / (large_steps - small_steps)
def peak_mb(role, ring=""):
    return round(report(f"rss{ring}-{role}")[2] / 1024, 1)
out = json.loads(open(f"{work}/compute.json").read())
rounds = []
for r in range(1, int(sys.argv[4]) + 1):
    train, one, two, ring, verify, ring_verify = (
        last(f"{run}-{r}") for run in ("train", "sim1", "sim2", "sim2ring", "sim2verify", "sim2ringverify"))
    figures = {
        "samples_per_second_train": train["samples_per_second"],
        "samples_per_second_1w": one["samples_per_second"],
        "samples_per_second_2w": two["samples_per_second"],
        "step_comm_fraction_2w": two.get("comm_fraction"),
        "speedup_2w_over_1w": round(two["samples_per_second"] / one["samples_per_second"], 3),
        "ratio_1w_to_train": round(one["samples_per_second"] / train["samples_per_second"], 3),
        "samples_per_second_ring_2w": ring["samples_per_second"],
        "step_comm_fraction_ring_2w": ring.get("comm_fraction"),
        "speedup_ring_2w_over_1w": round(ring["samples_per_second"] / one["samples_per_second"], 3),
        "ratio_verify_002_to_2w": round(verify["samples_per_second"] / two["samples_per_second"], 3),
        "ratio_verify_002_to_ring_2w": round(ring_verify["samples_per_second"] / ring["samples_per_second"], 3),
        "cpu_ratio_verify_002_to_2w": round(cpu(f"sim2verify-{r}") / cpu(f"sim2-{r}"), 3),
        "cpu_ratio_verify_002_to_ring_2w": round(cpu(f"sim2ringverify-{r}") / cpu(f"sim2ring-{r}"), 3),
    }
    sockets = last(f"sim2ringsockets-{r}")["samples_per_second"]
    figures["samples_per_second_ring_2w_sockets"] = sockets
    figures["ratio_ring_2w_shared_memory_to_sockets"] = round(ring["samples_per_second"] / sockets, 3)
    figures.update(launch_figures(work, r))
    # The fastest collective with 2 workers on this host, against train, at batch 128 and 512.
    best = max(two["samples_per_second"], ring["samples_per_second"])
    figures["samples_per_second_best_2w"] = best
    figures["speedup_best_2w_over_train"] = round(best / train["samples_per_second"], 3)
    train512 = last(f"train512-{r}")["samples_per_second"]
    best512 = max(last(f"sim2b512-{r}")["samples_per_second"], last(f"sim2ringb512-{r}")["samples_per_second"])
    figures["samples_per_second_train_batch512"] = train512
    figures["samples_per_second_best_2w_batch512"] = best512
    figures["speedup_best_2w_over_train_batch512"] = round(best512 / train512, 3)
    for collective, key in (("central", ""), ("ring", "ring_")):
        plain, curve = (last(f"tcp-{collective}-{mode}-{r}") for mode in ("plain", "curve"))
        figures[f"samples_per_second_{key}2w_tcp"] = plain["samples_per_second"]
        figures[f"samples_per_second_{key}2w_curve"] = curve["samples_per_second"]
        figures[f"curve_over_plain_{key}2w"] = round(curve["samples_per_second"] / plain["samples_per_second"], 3)
    plain, curve = (last(f"tcp-ringsockets-{mode}-{r}") for mode in ("plain", "curve"))
    figures["samples_per_second_ring_2w_sockets_tcp"] = plain["samples_per_second"]
    figures["samples_per_second_ring_2w_sockets_curve"] = curve["samples_per_second"]
    figures["curve_over_plain_ring_2w_sockets"] = round(curve["samples_per_second"] / plain["samples_per_second"], 3)
    figures.update(json.loads(open(f"{work}/transfer-{r}.json").read()))
    figures.update(json.loads(open(f"{work}/allreduce-{r}.json").read()))
    figures["allreduce_over_transfer"] = round(figures["allreduce_ms"] / figures["zmq_transfer_ms"], 3)
    rounds.append(figures)
for key in rounds[0]:
    values = [r[key] for r in rounds if r[key] is not None]
    out[key] = statistics.median(values) if values else None
out["allocations_per_step_train"] = round(per_step("train"), 2)
for ring, key in (("", ""), ("-ring", "ring_")):
    out[f"allocations_per_step_{key}coordinator"] = round(per_step("coordinator", ring), 2)
    out[f"allocations_per_step_{key}worker"] = round((per_step("worker1", ring) + per_step("worker2", ring)) / 2, 2)
    # What dptrain's own code allocates: the rest is libzmq copying received
    # frames over 8 KB and headers over 33 bytes, which its API cannot avoid.
    out[f"allocations_per_step_{key}coordinator_excluding_libzmq"] = round(per_step("coordinator", ring, True), 2)
    out[f"allocations_per_step_{key}worker_excluding_libzmq"] = round(
        (per_step("worker1", ring, True) + per_step("worker2", ring, True)) / 2, 2)
    out[f"peak_rss_mb_{key}coordinator"] = peak_mb("coordinator", ring)
    out[f"peak_rss_mb_{key}worker"] = max(peak_mb(f"worker{i}", ring) for i in (1, 2))
out.update(json.loads(open(f"{work}/fuzz.json").read()))
def cells(steps):
    report = json.loads(open(f"{work}/netbench-{steps}.out").read().strip().splitlines()[-1])
    return report["parameters"], {c["collective"]: c for c in report["cells"] if c["batch"] == 128 and not c.get("failed")}
parameters, short = cells(20)
_, long = cells(60)
out["fp32_gradient_bytes"] = 4 * parameters
out["ddp_bytes_per_step_per_worker_2w"] = 4 * parameters  # 2·(N−1)/N·4P sent by each worker, N = 2
for collective in ("central", "ring"):
    if collective in short and collective in long:
        extra = long[collective]["steps"] - short[collective]["steps"]
        def per_step(direction):
            return round(max((b[direction] - a[direction]) for a, b in zip(short[collective]["worker_bytes"], long[collective]["worker_bytes"])) / extra)
        out[f"bytes_per_step_between_hosts_{collective}_worker_out"] = per_step(1)
        out[f"bytes_per_step_between_hosts_{collective}_worker_in"] = per_step(0)
        out[f"bytes_per_step_between_hosts_{collective}_over_ddp"] = round(per_step(1) / (4 * parameters), 3)
def host_cells(steps):
    report = json.loads(open(f"{work}/netbench-hosts-{steps}.out").read().strip().splitlines()[-1])
    return {c["collective"]: c for c in report["cells"] if not c.get("failed")}
short, long = host_cells(20), host_cells(60)
for collective, key in (("ring", "two_level"), ("ring-flat", "flat")):
    if collective in short and collective in long:
        extra = long[collective]["steps"] - short[collective]["steps"]
        # A host's link, the mean over the 2 hosts, out then in.
        for direction, name in ((1, "out"), (0, "in")):
            moved = [b[direction] - a[direction] for a, b in zip(short[collective]["host_bytes"], long[collective]["host_bytes"])]
            out[f"bytes_per_step_between_hosts_ring_2x2_{key}_host_{name}"] = round(sum(moved) / len(moved) / extra)
if "bytes_per_step_between_hosts_ring_2x2_two_level_host_out" in out and "bytes_per_step_between_hosts_ring_2x2_flat_host_out" in out:
    # 2 hosts of 2: 2(N-1)/N = 1.5 of a model flat, 2(H-1)/H = 1.0 in two levels.
    out["bytes_between_hosts_ring_2x2_flat_over_two_level"] = round(
        out["bytes_per_step_between_hosts_ring_2x2_flat_host_out"] / out["bytes_per_step_between_hosts_ring_2x2_two_level_host_out"], 3)
out["rounds"] = rounds
print(json.dumps(out))
PY
