#!/usr/bin/env bash
# Both collectives across simulated hosts: one network namespace per
# simulated host (the coordinator's and each worker host's), all on one
# bridge in a namespace of its own, every link rate-limited in both
# directions with tc tbf. For each link rate, worker count and collective it
# trains a fixed number of steps of 784-512-256-10 and reads
# samples_per_second and comm_fraction from the run's metrics.jsonl, and the
# bytes every link carried from its counters, next to what
# docs/performance.md's cost model predicts. Then, as a peer, PyTorch DDP
# (gloo) trains the same model and samples over the same shaped links, one
# rank per worker in its host's namespace (scripts/lib/ddp_peer.py), and the
# cell's dptrain figure is set against DDP's (goal: 1.5 times). Each dptrain
# cell's model.safetensors must be byte for byte that of `dptrain train`
# with the same flags, run once per batch size in this host's namespace; one
# that differs fails its cell.
#
#   scripts/netbench.sh [--workers "2 4 8"] [--workers-per-host W] [--rates "1gbit 100mbit"]
#                       [--collectives "central ring"] [--batch-size B] [--steps K] [--quick] [--no-ddp]
#
#   --workers           worker counts to measure, all hosts together (default "2 4 8")
#   --workers-per-host  dptrain workers (and DDP ranks) on each simulated host (default 1).
#                       Above 1, every worker count N must be a multiple of W and at least
#                       2·W; the hosts are N/W namespaces, and a host's workers share one
#                       UTS namespace named netbench-hH (H the host's number), so they pass
#                       sums through shared memory and use sockets only between hosts.
#                       The ring then also runs with the coordinator's --no-hierarchical
#                       (row ring-flat), if this build has that flag
#   --rates             tc rates of every link (default "1gbit 100mbit"; kbit, mbit, gbit)
#   --collectives       central, ring or both (default "central ring"); each cell runs once per collective
#   --batch-size        global batch (default 128); a worker count with more workers than
#                       micro-shards (N·32 > B) is also measured at B = N·32, so all of them work
#   --steps             training steps per cell (default 20)
#   --quick             2 hosts at 1gbit, 5 steps, each collective asked for: a smoke test
#   --no-ddp            no PyTorch DDP peer
#
# Needs root (network namespaces), ip and tc (iproute2), unshare
# (util-linux) for --workers-per-host above 1, python3. Builds the
# release binaries if missing or older than the sources. PyTorch (CPU) for
# the peer comes from the venv DPTRAIN_TORCH_VENV (default
# ~/.cache/dptrain-torch-venv, as scripts/bench-accuracy.sh), installed
# there when missing; if it cannot be had, the dptrain cells run alone and
# one line says the peer was skipped. Addresses are 10.77.0.0/24, inside
# its own namespaces only: no default route, nothing in the host's
# namespace is touched. Everything it creates (namespaces,
# links, processes, the temporary folder) is removed on exit, also after a
# failure or Ctrl-C; it kills only processes it started, by pid.
# Prints three tables (the cost model's, the bytes across each host's link,
# then dptrain against DDP), then one JSON line. Exit 0 if every cell
# (dptrain's and DDP's) ran and every model was train's, 1 if not, 2 for
# bad usage.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

workers_list="2 4 8" per_host=1 rates="1gbit 100mbit" collectives="central ring" batch=128 steps=20 ddp=1
usage="known: --workers \"2 4 8\" --workers-per-host W --rates \"1gbit 100mbit\" --collectives \"central ring\" --batch-size B --steps K --quick --no-ddp"
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers_list=${2:?}; shift 2 ;;
    --workers-per-host) per_host=${2:?}; shift 2 ;;
    --rates) rates=${2:?}; shift 2 ;;
    --collectives) collectives=${2:?}; shift 2 ;;
    --batch-size) batch=${2:?}; shift 2 ;;
    --steps) steps=${2:?}; shift 2 ;;
    --quick) quick=1 workers_list=2 rates=1gbit steps=5; shift ;;
    --no-ddp) ddp=0; shift ;;
    *) echo "netbench: unknown option $1 ($usage)" >&2; exit 2 ;;
  esac
done
shard=32
# --quick's two workers are two hosts' worth, however many a host runs.
[[ ${quick:-0} = 1 && $per_host =~ ^[1-9][0-9]*$ ]] && workers_list=$(( 2 * per_host ))
for value in $workers_list "$batch" "$steps"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "netbench: worker counts, --batch-size and --steps take positive whole numbers, got '$value'" >&2; exit 2; }
done
[[ $per_host =~ ^[1-9][0-9]*$ ]] || { echo "netbench: --workers-per-host takes a positive whole number, got '$per_host'" >&2; exit 2; }
max_workers=0
for n in $workers_list; do
  if (( per_host > 1 )) && (( n % per_host != 0 || n < 2 * per_host )); then
    echo "netbench: with --workers-per-host $per_host, --workers takes multiples of $per_host from $(( 2 * per_host )) (two hosts or more), got $n" >&2; exit 2
  fi
  (( n / per_host <= 200 )) || { echo "netbench: at most 200 hosts (addresses 10.77.0.11-210), got $(( n / per_host ))" >&2; exit 2; }
  (( n > max_workers )) && max_workers=$n
done
max_hosts=$(( max_workers / per_host ))
rate_bits() {  # 100mbit -> 100000000
  [[ $1 =~ ^([0-9]+)(kbit|mbit|gbit)$ ]] || return 1
  case ${BASH_REMATCH[2]} in kbit) echo $(( BASH_REMATCH[1] * 1000 )) ;; mbit) echo $(( BASH_REMATCH[1] * 1000000 )) ;;
                             gbit) echo $(( BASH_REMATCH[1] * 1000000000 )) ;; esac
}
for rate in $rates; do
  rate_bits "$rate" >/dev/null || { echo "netbench: a rate is a whole number with kbit, mbit or gbit, got '$rate'" >&2; exit 2; }
done
[ -n "${collectives// /}" ] || { echo "netbench: --collectives needs central, ring or both" >&2; exit 2; }
for collective in $collectives; do
  case $collective in central|ring) ;; *) echo "netbench: a collective is central or ring, got '$collective'" >&2; exit 2 ;; esac
done

[ "$(id -u)" -eq 0 ] || { echo "netbench: needs root for network namespaces (ip netns)" >&2; exit 2; }
tools="ip tc python3"
(( per_host > 1 )) && tools+=" unshare"
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "netbench: needs $tool (ip and tc come with iproute2: scripts/setup.sh; unshare with util-linux)" >&2; exit 2; }
done

if [ -d /usr/share/datasets/fashion-mnist ]; then
  source_data=/usr/share/datasets/fashion-mnist test_data=/usr/share/datasets/fashion-mnist
else
  # 5,000 images sorted by class: only the timing matters here, and each
  # epoch's order is a permutation anyway.
  source_data=../shared/datasets/mnist-5k test_data=../shared/datasets/mnist
  largest_batch=$(( max_workers * 32 > batch ? max_workers * 32 : batch ))
  if (( steps * largest_batch > 5000 )); then
    steps=$(( 5000 / largest_batch ))
    (( steps >= 1 )) || { echo "netbench: mnist-5k holds 5,000 images, fewer than one batch of $largest_batch" >&2; exit 2; }
    echo "netbench: no Fashion-MNIST (scripts/setup.sh installs it); $steps steps per cell on mnist-5k" >&2
  fi
fi

bin=$root/.build/release
if [ ! -x "$bin/dptrain" ] || [ ! -x "$bin/dptrain-bench" ] ||
   [ -n "$(find Sources Package.swift -newer "$bin/dptrain" -print -quit)" ]; then
  echo "netbench: building (release)" >&2
  swift build -c release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' >&2
  [ -x "$bin/dptrain" ] && [ -x "$bin/dptrain-bench" ] || { echo "netbench: build failed" >&2; exit 1; }
fi

# --- The peer's PyTorch, in the benchmark's own venv --------------------------------

venv=${DPTRAIN_TORCH_VENV:-$HOME/.cache/dptrain-torch-venv}
has_gloo() { "$venv/bin/python" -c 'import torch.distributed as d; assert d.is_available() and d.is_gloo_available()' 2>/dev/null; }
ddp_skipped=""  # why the peer does not run, if it does not
if [ "$ddp" = 0 ]; then
  ddp_skipped="--no-ddp given"
elif ! has_gloo; then
  echo "netbench: installing PyTorch (CPU) into $venv for the DDP peer" >&2
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    ddp_skipped="cannot create a venv at $venv (python3-venv missing?)"
  elif ! { "$venv/bin/pip" install -q --index-url https://download.pytorch.org/whl/cpu torch ||
           "$venv/bin/pip" install -q torch; } >/dev/null 2>&1; then
    ddp_skipped="PyTorch could not be installed into $venv (neither the CPU wheel index nor PyPI)"
  elif ! has_gloo; then
    ddp_skipped="PyTorch in $venv has no gloo backend"
  fi
  [ -n "$ddp_skipped" ] && echo "netbench: DDP peer skipped: $ddp_skipped" >&2
fi

# --- Cleanup: only what this run created -------------------------------------

tag=dpt$$                 # prefix of every namespace this run creates
namespaces=()             # created so far, removed in reverse
pids=()                   # processes started so far
work=$(mktemp -d "${TMPDIR:-/tmp}/dptrain-netbench.XXXXXX")
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
stop_pids() {  # TERM, a grace period, then KILL; each pid is one we started
  local pid deadline
  for pid in "$@"; do alive "$pid" && kill -TERM "$pid" 2>/dev/null; done
  deadline=$((SECONDS + 3))
  for pid in "$@"; do
    while alive "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 0
}
cleanup() {
  local i
  trap '' INT TERM
  stop_pids "${pids[@]}"
  # Deleting a namespace deletes the veth ends in it, and so their peers.
  for (( i = ${#namespaces[@]} - 1; i >= 0; i-- )); do ip netns delete "${namespaces[i]}" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The simulated network -----------------------------------------------------
#
#   tag-c (10.77.0.1) ─veth─┐
#   tag-w1 (10.77.0.11) ─veth─┤ br0 in tag-net
#   tag-wH (10.77.0.10+H) ─veth─┘
#
# One worker namespace per simulated host: N/W of them for N workers, W a
# host (--workers-per-host). Each veth end gets a tbf shaper, so every
# host's link is limited in both directions, as a full-duplex NIC port is.
# tbf shapes; it adds no delay (this kernel has no netem), so latency is the
# veth's own: a round trip of about 12 µs.

fail() { echo "netbench: $*" >&2; exit 1; }
run() {  # a setup step; on failure say exactly which command and why
  local output
  output=$("$@" 2>&1) || fail "'$*' failed: $output"
}
add_namespace() {
  local output
  output=$(ip netns add "$1" 2>&1) || fail "cannot create network namespace $1 ('ip netns add $1': $output)"
  namespaces+=("$1")
  run ip -n "$1" link set lo up
}
add_host() {  # namespace, port name on the bridge, address
  add_namespace "$1"
  run ip -n "$tag-net" link add "$2" type veth peer name eth0 netns "$1"
  run ip -n "$tag-net" link set "$2" master br0 up
  run ip -n "$1" addr add "$3/24" dev eth0
  run ip -n "$1" link set eth0 up
}
hosts=("$tag-c:c")
add_namespace "$tag-net"
run ip -n "$tag-net" link add br0 type bridge
run ip -n "$tag-net" link set br0 up
add_host "$tag-c" c 10.77.0.1
for (( i = 1; i <= max_hosts; i++ )); do
  add_host "$tag-w$i" "w$i" "10.77.0.$((10 + i))"
  hosts+=("$tag-w$i:w$i")
done
echo "netbench: namespaces $tag-net, $tag-c, $tag-w1..$tag-w$max_hosts on 10.77.0.0/24" >&2

set_rate() {  # every link, both directions
  local bits burst entry
  bits=$(rate_bits "$1")
  # 2 ms at line rate, at least 64 KiB (a GSO segment), so tbf shapes at the rate it is given.
  burst=$(( bits / 8 / 500 > 65536 ? bits / 8 / 500 : 65536 ))
  for entry in "${hosts[@]}"; do
    run tc -n "${entry%%:*}" qdisc replace dev eth0 root tbf rate "$1" burst "$burst" latency 20ms
    run tc -n "$tag-net" qdisc replace dev "${entry##*:}" root tbf rate "$1" burst "$burst" latency 20ms
  done
}

probe=$root/scripts/lib/netprobe.py
check_link() {  # rate -> goodput and round trip of one worker's path to the coordinator, as JSON in $work/link.json
  local bits bytes server goodput rtt
  bits=$(rate_bits "$1")
  bytes=$(( bits / 8 * 2 ))   # about two seconds' worth
  ip netns exec "$tag-c" python3 "$probe" serve 5601 >"$work/probe-serve.log" 2>&1 &
  server=$!
  pids+=("$server")
  sleep 0.5
  goodput=$(ip netns exec "$tag-w1" python3 "$probe" bulk 10.77.0.1 5601 "$bytes") || fail "link check at $1 failed"
  rtt=$(ip netns exec "$tag-w1" python3 "$probe" rtt 10.77.0.1 5601 200) || fail "round-trip check at $1 failed"
  stop_pids "$server"
  python3 -c 'import json,sys; a=json.loads(sys.argv[1]); a.update(json.loads(sys.argv[2])); print(json.dumps(a))' \
    "$goodput" "$rtt" >"$work/link.json"
}

# --- Data: exactly `steps` batches ------------------------------------------------

subset() {  # batch -> $work/data-B holding the first steps·batch training images
  local dir=$work/data-$1
  [ -d "$dir" ] || python3 - "$source_data" "$dir" $(( steps * $1 )) <<'PY' || fail "cannot cut a subset of $source_data"
import gzip, os, sys
source, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(target)
for name, item in (("train-images-idx3-ubyte", 784), ("train-labels-idx1-ubyte", 1)):
    path = os.path.join(source, name)
    data = gzip.open(path + ".gz").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
    header = 16 if item == 784 else 8
    have = int.from_bytes(data[4:8], "big")
    if have < count:
        sys.exit(f"netbench: {path} holds {have} samples, {count} needed (fewer --steps)")
    with open(os.path.join(target, name), "wb") as out:
        out.write(data[:4] + count.to_bytes(4, "big") + data[8:header] + data[header:header + count * item])
PY
}

# --- One cell: coordinator and N workers, each in its own namespace ------------------

model_flags=(--layers 784,512,256,10 --lr 0.05 --momentum 0.9 --seed 1)  # dptrain's and the DDP peer's
training_flags=("${model_flags[@]}" --epochs 1 --test-data "$test_data")
# A step at 100 Mbit/s takes seconds; a slow peer must not be mistaken for a lost one.
cluster_flags=(--peer-timeout-ms 60000)

link_counters() {  # hosts -> "rx tx" bytes of the coordinator's eth0, then of each worker host's, one pair a line
  local i
  for i in c $(seq 1 "$1"); do
    [ "$i" = c ] && i=$tag-c || i=$tag-w$i
    ip -j -s -n "$i" link show dev eth0 |
      python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["rx"]["bytes"], s["tx"]["bytes"])'
  done
}

host_prefix() {  # host -> $prefix: the command prefix that runs a worker on that simulated host
  prefix=(ip netns exec "$tag-w$1")
  # A host's workers take one host name in UTS namespaces of their own: a
  # worker's host identity begins with it. Each exec keeps a worker one pid.
  (( per_host > 1 )) && prefix+=(unshare --uts sh -c 'hostname "$0" && exec "$@"' "netbench-h$1")
  return 0
}

run_cell() {  # collective (central, ring or ring-flat) rate workers batch -> one JSON line appended to $results; 1 on failure
  local collective=$1 rate=$2 n=$3 b=$4 name=$1-$2-$3w-b$4 out coordinator i h cell_pids=() deadline status started busy
  local cell_timeout prefix ring_flags=() coordinator_flags=(--collective "${1%-flat}") hosts=$(( $3 / per_host ))
  # With one worker a host, the namespaces share this machine's host name
  # and /dev/shm, but stand for separate hosts: their ring links go over the
  # shaped network. With more, a host's workers share memory as on a real host.
  (( per_host == 1 )) && coordinator_flags+=(--no-shared-memory)
  # ring-flat: one ring through all N workers, not one contribution a host
  # between hosts; its host-link bytes are what the two-level ring saves on.
  [ "$collective" = ring-flat ] && coordinator_flags+=(--no-hierarchical)
  subset "$b"
  busy=$(( (b + shard - 1) / shard < n ? (b + shard - 1) / shard : n ))
  # Three times the central model's link time for a step (more than the ring
  # needs), and two minutes for start and evaluation.
  cell_timeout=$(( 120 + steps * busy * 154000000 / $(rate_bits "$rate") ))
  out=$work/$name
  link_counters "$hosts" >"$work/$name.counters-before"
  started=$SECONDS
  ip netns exec "$tag-c" "$bin/dptrain" coordinator --listen tcp://10.77.0.1:5555 --workers "$n" \
    "${coordinator_flags[@]}" "${cluster_flags[@]}" "${training_flags[@]}" --data "$work/data-$b" --batch-size "$b" \
    --out "$out" >"$work/$name.coordinator.log" 2>&1 &
  coordinator=$!
  pids+=("$coordinator")
  for (( i = 1; i <= n; i++ )); do
    h=$(( (i - 1) / per_host + 1 ))
    host_prefix "$h"
    # A host name does not resolve to a namespace's address, so a worker
    # announces its own; the port wildcard lets a host's workers share it.
    [ "${collective%-flat}" = ring ] && ring_flags=(--ring-listen "tcp://10.77.0.$((10 + h)):*")
    "${prefix[@]}" "$bin/dptrain" worker --coordinator tcp://10.77.0.1:5555 "${cluster_flags[@]}" \
      "${ring_flags[@]}" >"$work/$name.worker$i.log" 2>&1 &
    cell_pids+=($!)
    pids+=($!)
  done
  deadline=$((SECONDS + cell_timeout))
  while alive "$coordinator" && (( SECONDS < deadline )); do sleep 0.2; done
  if alive "$coordinator"; then
    echo "netbench: $name: no result after ${cell_timeout}s; stopped" >&2
    stop_pids "$coordinator" "${cell_pids[@]}"
    return 1
  fi
  wait "$coordinator"
  status=$?
  # Workers leave on the coordinator's shutdown message; give them a moment.
  deadline=$((SECONDS + 5))
  for i in "${cell_pids[@]}"; do while alive "$i" && (( SECONDS < deadline )); do sleep 0.1; done; done
  stop_pids "${cell_pids[@]}"
  if [ "$status" -ne 0 ] || [ ! -s "$out/metrics.jsonl" ]; then
    echo "netbench: $name: coordinator exited $status; its log ends:" >&2
    tail -5 "$work/$name.coordinator.log" >&2
    return 1
  fi
  link_counters "$hosts" >"$work/$name.counters-after"
  # A lost, expelled or rejected worker, a broken ring, or a member whose ring
  # traffic stopped or was rejected: the cell's figures include a recovery.
  local disturbances
  disturbances=$(grep -hE 'silent for|rejected|goes to the others|broke|no ring traffic' \
                   "$work/$name.coordinator.log" "$work/$name".worker*.log)
  [ -n "$disturbances" ] && { echo "netbench: $name was disturbed:"; head -20 <<<"$disturbances"; } >&2
  local model=DIFFERENT
  [ "$(sha256sum <"$out/model.safetensors" | cut -c1-64)" = "$(cat "$work/train-b$b.sha256")" ] && model=identical
  python3 - "$out/metrics.jsonl" "$collective" "$rate" "$n" "$per_host" "$b" "$((SECONDS - started))" \
    "$(grep -c . <<<"$disturbances")" "$work/$name.counters-before" "$work/$name.counters-after" "$model" >>"$results" <<'PY'
import json, sys
path, collective, rate, n, per_host, b, wall, disturbances, before, after, model = sys.argv[1:]
last = [json.loads(l) for l in open(path) if l.strip()][-1]
# Bytes each eth0 carried during the cell (start, steps, evaluation, shutdown),
# headers included: [rx, tx] of the coordinator, then of each worker host.
moved = [[a - b for a, b in zip(map(int, la.split()), map(int, lb.split()))]
         for la, lb in zip(open(after), open(before))]
cell = {"collective": collective, "rate": rate, "workers": int(n), "workers_per_host": int(per_host), "batch": int(b),
        "steps": last["step"], "samples_per_second": last["samples_per_second"],
        "comm_fraction": last.get("comm_fraction"), "live_workers": last["workers"], "wall_seconds": int(wall),
        "disturbed": int(disturbances) > 0, "model": model, "coordinator_bytes": moved[0], "host_bytes": moved[1:]}
if int(per_host) == 1:  # a host's link is its worker's
    cell["worker_bytes"] = moved[1:]
print(json.dumps(cell))
PY
}

reference_model() {  # batch -> $work/train-bB.sha256: the sha256 of `dptrain train`'s model.safetensors
  local dir=$work/train-b$1 trainer status
  [ -s "$dir.sha256" ] && return 0
  subset "$1"
  "$bin/dptrain" train "${training_flags[@]}" --data "$work/data-$1" --batch-size "$1" --out "$dir" >"$dir.log" 2>&1 &
  trainer=$!
  pids+=("$trainer")
  wait "$trainer"
  status=$?
  [ "$status" -eq 0 ] || fail "dptrain train at batch $1 (the reference model) exited $status: $(tail -1 "$dir.log")"
  sha256sum <"$dir/model.safetensors" | cut -c1-64 >"$dir.sha256"
}

# --- The peer: PyTorch DDP, one rank for each worker, in its host's namespace ------------

ddp_port=29500
run_ddp() {  # rate workers batch -> one JSON line appended to $ddp_results; 1 on failure
  local rate=$1 n=$2 b=$3 name=ddp-$1-$2w-b$3 i pid rank_pids=() deadline status=0 started cell_timeout
  local hosts=$(( $2 / per_host ))
  subset "$b"
  cell_timeout=$(( 120 + steps * n * 154000000 / $(rate_bits "$rate") ))
  ddp_port=$((ddp_port + 1))  # a fresh rendezvous port per cell, clear of the last one's closing connections
  link_counters "$hosts" >"$work/$name.counters-before"
  started=$SECONDS
  for (( i = 1; i <= n; i++ )); do
    # gloo finds its own address from the host name, which every namespace
    # shares; GLOO_SOCKET_IFNAME makes it take eth0's, the shaped link. Ranks
    # of one host are consecutive, as a launcher numbers them; between
    # themselves they talk through the namespace's loopback, off the link.
    MASTER_ADDR=10.77.0.11 MASTER_PORT=$ddp_port RANK=$((i - 1)) WORLD_SIZE=$n GLOO_SOCKET_IFNAME=eth0 OMP_NUM_THREADS=1 \
      ip netns exec "$tag-w$(( (i - 1) / per_host + 1 ))" "$venv/bin/python" "$root/scripts/lib/ddp_peer.py" "${model_flags[@]}" \
      --data "$work/data-$b" --batch-size "$b" >"$work/$name.rank$((i - 1)).log" 2>&1 &
    rank_pids+=($!)
    pids+=($!)
  done
  deadline=$((SECONDS + cell_timeout))
  for pid in "${rank_pids[@]}"; do while alive "$pid" && (( SECONDS < deadline )); do sleep 0.2; done; done
  for pid in "${rank_pids[@]}"; do
    if alive "$pid"; then
      echo "netbench: $name: no result after ${cell_timeout}s; stopped" >&2
      stop_pids "${rank_pids[@]}"
      return 1
    fi
  done
  for pid in "${rank_pids[@]}"; do wait "$pid" || status=$?; done
  if [ "$status" -ne 0 ] || ! grep -q '^{' "$work/$name.rank0.log"; then
    echo "netbench: $name: a rank exited $status; rank 0's log ends:" >&2
    tail -5 "$work/$name.rank0.log" >&2
    return 1
  fi
  link_counters "$hosts" >"$work/$name.counters-after"
  python3 - "$work/$name.rank0.log" "$rate" "$per_host" "$((SECONDS - started))" \
    "$work/$name.counters-before" "$work/$name.counters-after" >>"$ddp_results" <<'PY'
import json, sys
path, rate, per_host, wall, before, after = sys.argv[1:]
cell = json.loads([line for line in open(path) if line.startswith("{")][-1])
# [rx, tx] of each host's eth0 over the whole run (rendezvous, parameter
# broadcast, steps, shutdown), headers included; the coordinator's is idle.
moved = [[a - b for a, b in zip(map(int, la.split()), map(int, lb.split()))]
         for la, lb in zip(open(after), open(before))]
cell.update(rate=rate, workers=cell.pop("ranks"), workers_per_host=int(per_host), wall_seconds=int(wall),
            host_bytes=moved[1:])
if int(per_host) == 1:  # a host's link is its rank's
    cell["worker_bytes"] = moved[1:]
print(json.dumps(cell))
PY
}

# --- The grid ---------------------------------------------------------------------------

began=$SECONDS
cell_collectives=$collectives grouping=""
(( per_host > 1 )) && grouping=" ($per_host a host)"
if (( per_host > 1 )) && [[ " $collectives " == *" ring "* ]]; then
  # The two-level ring (one contribution a host between hosts) against the
  # flat one, where this build can turn the former off. (Not grep -q: under
  # pipefail, the help cut short by a closed pipe would fail the test.)
  if [[ $("$bin/dptrain" coordinator --help 2>/dev/null) == *--no-hierarchical* ]]; then
    cell_collectives=${collectives/ring/ring ring-flat}
  else
    echo "netbench: flat ring comparison skipped: this dptrain's coordinator has no --no-hierarchical" >&2
  fi
fi
echo "netbench: compute rate R_c (dptrain-bench compute, one thread)" >&2
compute=$("$bin/dptrain-bench" compute 2>/dev/null) || fail "dptrain-bench compute failed"
results=$work/cells.jsonl links=$work/links.jsonl ddp_results=$work/ddp.jsonl
: >"$results"; : >"$links"; : >"$ddp_results"
failed=0
for rate in $rates; do
  set_rate "$rate"
  check_link "$rate"
  echo "{\"rate\": \"$rate\", \"link\": $(cat "$work/link.json")}" >>"$links"
  echo "netbench: $rate links up; one path measures $(cat "$work/link.json")" >&2
  for n in $workers_list; do
    batches=$batch
    (( n * shard > batch )) && batches="$batch $(( n * shard ))"
    for b in $batches; do
      reference_model "$b"
      for collective in $cell_collectives; do
        echo "netbench: $collective, $rate, $n workers$grouping, batch $b, $steps steps" >&2
        if ! run_cell "$collective" "$rate" "$n" "$b"; then
          failed=1
          echo "{\"collective\": \"$collective\", \"rate\": \"$rate\", \"workers\": $n, \"workers_per_host\": $per_host, \"batch\": $b, \"failed\": true}" >>"$results"
        fi
      done
      [ -n "$ddp_skipped" ] && continue
      echo "netbench: PyTorch DDP (gloo), $rate, $n ranks$grouping, batch $b, $steps steps" >&2
      if ! run_ddp "$rate" "$n" "$b"; then
        failed=1
        echo "{\"rate\": \"$rate\", \"workers\": $n, \"workers_per_host\": $per_host, \"batch\": $b, \"failed\": true}" >>"$ddp_results"
      fi
    done
  done
done
grep -q '"model": "DIFFERENT"' "$results" && failed=1

python3 "$root/scripts/lib/netmodel.py" "$compute" "$links" "$results" "$((SECONDS - began))" "$ddp_results" "$ddp_skipped"
exit $failed
