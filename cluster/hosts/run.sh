#!/usr/bin/env bash
# dptrain on a list of machines over ssh, without a cluster engine: rank i
# runs `dptrain launch` on the i-th host of HOSTFILE with torchrun-style
# variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); rank 0, the first
# host, coordinates.
#   cluster/hosts/run.sh HOSTFILE [training flags]
#   e.g. cluster/hosts/run.sh hosts --dataset mnist --out runs/x
# HOSTFILE: one host a line ([user@]host; '#' comments and blank lines
# skipped); a host may appear more than once. Each host needs
# passwordless ssh and dptrain on its PATH (or DPTRAIN=/path/on/the/hosts).
# MASTER_ADDR defaults to the first host, MASTER_PORT to 29500; --out is on
# rank 0's host. SSH replaces the ssh command (default "ssh -o BatchMode=yes").
# If a rank fails, the others are stopped; Ctrl-C (or SIGTERM) stops every
# rank with SIGTERM, so rank 0 writes a checkpoint (resume with
# --resume RUN_DIR). Exit status: the first failing rank's, 130/143 when
# stopped, else 0.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: cluster/hosts/run.sh HOSTFILE [training flags]" >&2; exit 2; }
hostfile=$1; shift
[ -r "$hostfile" ] || { echo "cluster/hosts/run.sh: $hostfile: no such hostfile" >&2; exit 2; }
mapfile -t hosts < <(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$hostfile" | grep -v '^$')
world=${#hosts[@]}
[ "$world" -ge 2 ] || { echo "cluster/hosts/run.sh: $hostfile: needs at least 2 hosts (a coordinator and a worker), found $world" >&2; exit 2; }
read -r -a ssh <<<"${SSH:-ssh -o BatchMode=yes}"
master=${MASTER_ADDR:-${hosts[0]#*@}}
port=${MASTER_PORT:-29500}
dptrain=${DPTRAIN:-dptrain}
# Names the remote pid files, so a stop reaches this run's tasks and no others.
job="$(hostname -s)-$$"

# One word for a POSIX shell on the far side: ssh joins its arguments with spaces.
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# What rank $1 runs: dptrain in the background, its pid in a file (the stop
# signal's address), its exit status passed back through ssh.
remote() {
  local rank=$1 pidfile="/tmp/dptrain-hosts-$job-$1.pid" command
  command="RANK=$rank WORLD_SIZE=$world MASTER_ADDR=$(quote "$master") MASTER_PORT=$(quote "$port") $(quote "$dptrain") launch"
  for argument in "${flags[@]}"; do command+=" $(quote "$argument")"; done
  printf '%s &\necho $! >%s\nwait $!\nstatus=$?\nrm -f %s\nexit $status\n' "$command" "$pidfile" "$pidfile"
}

# SIGTERM to every rank still running (rank 0 checkpoints and exits 143).
stop_all() {
  for rank in "${!pids[@]}"; do
    [ -n "${statuses[rank]:-}" ] && continue
    local pidfile="/tmp/dptrain-hosts-$job-$rank.pid"
    "${ssh[@]}" "${hosts[rank]}" "for i in 1 2 3 4 5 6 7 8 9 10; do [ -f $pidfile ] && break; sleep 0.5; done; kill -TERM \$(cat $pidfile 2>/dev/null) 2>/dev/null" </dev/null || true
  done
}

flags=("$@")
pids=() statuses=() stopped="" failure=""
for rank in "${!hosts[@]}"; do
  "${ssh[@]}" "${hosts[rank]}" "$(remote "$rank")" </dev/null &
  pids[rank]=$!
done
trap 'stopped=130; stop_all' INT
trap 'stopped=143; stop_all' TERM

remaining=$world
while [ "$remaining" -gt 0 ]; do
  running=()
  for rank in "${!pids[@]}"; do [ -n "${statuses[rank]:-}" ] || running+=("${pids[rank]}"); done
  finished=""
  wait -n -p finished "${running[@]}"
  status=$?
  [ -n "${finished:-}" ] || continue  # a signal's trap ran; the ranks are still ending
  for rank in "${!pids[@]}"; do [ "${pids[rank]}" = "$finished" ] && break; done
  statuses[rank]=$status
  remaining=$((remaining - 1))
  if [ "$status" -ne 0 ] && [ -z "$failure" ] && [ -z "$stopped" ]; then
    failure=$status
    echo "cluster/hosts/run.sh: rank $rank on ${hosts[rank]} exited $status; stopping the others" >&2
    stop_all
  fi
done
[ -n "$stopped" ] && exit "$stopped"
exit "${failure:-0}"
