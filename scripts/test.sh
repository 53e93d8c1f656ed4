#!/usr/bin/env bash
# Runs every test: installs what is missing, builds in release (the tests
# train real networks and start real worker processes), runs the suite.
#   scripts/test.sh                 all tests
#   scripts/test.sh --filter NAME   only tests matching NAME (passed to swift test)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "test: building (release)"
swift build -c release --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "test: build failed" >&2; exit 1; }
echo "test: running"
swift test -c release --skip-build "$@"
