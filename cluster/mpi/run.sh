#!/usr/bin/env bash
# dptrain under Open MPI: one `dptrain launch` per rank on the hosts of a
# hostfile; rank 0 (the hostfile's first slot) coordinates, the others work.
#   cluster/mpi/run.sh HOSTFILE TASKS [training flags]
#   e.g. cluster/mpi/run.sh hosts 5 --dataset mnist --out /shared/runs/mpi
# HOSTFILE is Open MPI's ("node1 slots=1" a line); --out must be on a file
# system every host shares only if MASTER_PORT is unset. MASTER_ADDR defaults
# to the hostfile's first host, MASTER_PORT to 29500. Extra mpirun flags go
# in MPIRUN_FLAGS (for example "--oversubscribe" on a small machine).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: cluster/mpi/run.sh HOSTFILE TASKS [training flags]" >&2; exit 2; }
hostfile=$1 tasks=$2; shift 2
[ -r "$hostfile" ] || { echo "cluster/mpi/run.sh: $hostfile: no such hostfile" >&2; exit 2; }
master=${MASTER_ADDR:-$(awk 'NF && $1 !~ /^#/ {print $1; exit}' "$hostfile")}
dptrain=${DPTRAIN:-dptrain}
# shellcheck disable=SC2086
exec mpirun --hostfile "$hostfile" -n "$tasks" ${MPIRUN_FLAGS:-} \
  -x MASTER_ADDR="$master" -x MASTER_PORT="${MASTER_PORT:-29500}" \
  "$dptrain" launch "$@"
