#!/usr/bin/env bash
# PostgreSQL workloads (Release), and W1/W2 on SQLite (full) in the same session for comparison; collects the JSON lines.
# usage: bench/run-postgres.sh [OUTDIR] [ROUNDS]   (default: bench-results/pg-<utc timestamp>, 1 round)
# Uses KEEL_POSTGRES or KEEL_TEST_POSTGRES when set; otherwise starts a throwaway server (eng/postgres.sh) and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-results/pg-$(date -u +%Y%m%dT%H%M%SZ)}"
rounds="${2:-1}"
mkdir -p "$out"
if [ -z "${KEEL_POSTGRES:-}" ] && [ -z "${KEEL_TEST_POSTGRES:-}" ]; then
  state="$out/postgres.env"
  eng/postgres.sh start "$state"
  trap 'eng/postgres.sh stop "$state"' EXIT
  # shellcheck disable=SC1090
  source "$state"
fi
dotnet build -c Release bench/Keel.Bench >/dev/null
run() {
  local name="$1"; shift
  echo "== $name (load $(cut -d' ' -f1 /proc/loadavg))"
  dotnet run -c Release --no-build --project bench/Keel.Bench -- "$@" >"$out/$name.log" 2>&1 || echo "   FAILED: see $out/$name.log"
  tail -n 1 "$out/$name.log" | tee -a "$out/results.jsonl"
}
for r in $(seq 1 "$rounds"); do
  run "r$r-w1-postgres" w1 --store postgres
  run "r$r-w1-sqlite-full" w1 --store sqlite --durability full
  run "r$r-w2-postgres-1worker" w2 --store postgres
  run "r$r-w2-postgres-1worker-poll" w2 --store postgres --wait poll
  run "r$r-w2-postgres-2workers" w2 --store postgres --workers 2
  # Diagnostic: leases of 10 minutes, so no lease renewal runs during a pass (see README, PostgreSQL finding 1).
  run "r$r-w2-postgres-1worker-norenew" w2 --store postgres --lease-ms 600000
  run "r$r-w2-sqlite-full" w2 --store sqlite --durability full
  run "r$r-w2-sqlite-full-poll" w2 --store sqlite --durability full --wait poll
  run "r$r-w3-postgres" w3 --store postgres
  run "r$r-w4-postgres" w4 --store postgres
done
echo "results: $out/results.jsonl"
