#!/usr/bin/env bash
# A one-node Slurm cluster of the tests' own, without systemd: munged,
# slurmctld and slurmd started as background processes of this machine,
# with their configuration, sockets, state and logs in DIR. Packages come
# from scripts/setup.sh (slurm-wlm, munge).
#   scripts/lib/slurm-lab.sh start DIR   starts the daemons; prints SLURM_CONF=DIR/slurm.conf when the node is idle
#   scripts/lib/slurm-lab.sh stop DIR    stops every daemon it started there, by process id
set -euo pipefail
command=${1:-} dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: slurm-lab.sh start|stop DIR" >&2; exit 2; }
dir=$(cd "$dir" && pwd)

stop() {
  for daemon in slurmd slurmctld munged; do
    pid=$(cat "$dir/$daemon.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for daemon in slurmd slurmctld munged; do
    pid=$(cat "$dir/$daemon.pid" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$daemon.pid"
  done
}

if [ "$command" = stop ]; then stop; exit 0; fi
[ "$command" = start ] || { echo "slurm-lab.sh: unknown command $command" >&2; exit 2; }
# The daemons must not inherit a caller's descriptors beyond stdio: a caller
# waiting for one of them to close (Foundation's Process does) would wait for ever.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "slurm-lab.sh: $tool is missing (scripts/setup.sh installs slurm-wlm and munge)" >&2; exit 1; }
done
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
node=$(hostname -s)
mkdir -p "$dir/state" "$dir/spool"
# A key of the lab's own, so the lab never depends on the machine's munge set-up.
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
chmod 0600 "$dir/munge.key"
cat >"$dir/slurm.conf" <<CONF
ClusterName=dptrainlab
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire is also how long a requeued job waits before it may run again
# (120 s by default); 20 s still leaves a loaded machine time to start a step.
AuthInfo=socket=$dir/munge.socket,cred_expire=20
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=lab Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF=$dir/slurm.conf
munged --force --socket="$dir/munge.socket" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
  --log-file="$dir/munged.log" --seed-file="$dir/munge.seed"
for _ in $(seq 50); do [ -S "$dir/munge.socket" ] && break; sleep 0.1; done
slurmctld -i
slurmd
# Idle means the controller has heard from the daemon and can schedule.
for _ in $(seq 150); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "SLURM_CONF=$SLURM_CONF"; exit 0; fi
  sleep 0.2
done
echo "slurm-lab.sh: the node never became idle; see $dir/slurmctld.log and $dir/slurmd.log" >&2
stop
exit 1
