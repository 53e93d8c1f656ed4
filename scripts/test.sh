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
# Every test is XCTest; the empty Swift Testing pass would only end the log
# with "0 tests". The closing summary line counts XCTest's own totals.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test -c release --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "^\s*Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$log" | tail -1)
executed=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
skipped=$(echo "$summary" | sed -nE 's/.*with ([0-9]+) tests? skipped.*/\1/p')
skipped=${skipped:-0}
if [ -z "$summary" ]; then
  echo "test: no test summary found"
  exit 1
fi
echo "test: $((executed - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
