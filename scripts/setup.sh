#!/usr/bin/env bash
# Installs what dptrain needs from the system, and only what is missing.
# Idempotent: a second run installs nothing and says so.
#   scripts/setup.sh            install missing packages (needs root or sudo)
#   scripts/setup.sh --check    only report; exit 1 if anything is missing
set -euo pipefail

# Package -> why we need it. Keep this list the single source of truth.
packages=(
  libzmq3-dev           # ZeroMQ 4.3: coordinator <-> worker sockets
  libopenblas-dev       # cblas_sgemm for the MLP core
  zlib1g-dev            # gzip-compressed IDX files
  pkg-config            # lets SwiftPM find the three above
  dataset-fashion-mnist # full-size training data (60,000 images) in IDX format
  python3               # the tests' local HTTP mirror and contract checks
  iproute2              # network namespaces for multi-host tests
  iptables              # packet loss and cut links between the multi-host tests' namespaces
  openmpi-bin           # mpirun, to test `dptrain launch` under a real MPI launcher
  slurm-wlm             # slurmctld, slurmd, sbatch: a real Slurm for the launch tests
  munge                 # Slurm's authentication daemon
  tcpdump               # the CURVE test captures loopback traffic to look for plaintext
  python3-venv          # the venv the export tests install onnxruntime and torch into (PyPI)
  chromium              # headless browser: the report test renders report.html to a screenshot
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present (${#packages[@]} checked)"
  exit 0
fi

if [ "${1:-}" = "--check" ]; then
  echo "setup: missing packages: ${missing[*]}"
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing ${missing[*]}, and this system has no apt-get; install them with your package manager" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "setup: missing ${missing[*]}; run as root (or with passwordless sudo) to install them" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null || { echo "setup: apt-get update failed" >&2; exit 1; }
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/dptrain-setup-apt.log 2>&1; then
  echo "setup: apt-get install failed for ${missing[*]}; see /tmp/dptrain-setup-apt.log" >&2
  tail -5 /tmp/dptrain-setup-apt.log >&2
  exit 1
fi
echo "setup: installed ${missing[*]}"
