#!/usr/bin/env bash
# Runs every workload with both durabilities (Release) and collects the JSON lines.
# usage: bench/run-all.sh [OUTDIR]   (default: bench-results/<utc timestamp>)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
dotnet build -c Release bench/Keel.Bench >/dev/null
run() {
  local name="$1"; shift
  echo "== $name (load $(cut -d' ' -f1 /proc/loadavg))"
  dotnet run -c Release --no-build --project bench/Keel.Bench -- "$@" >"$out/$name.log" 2>&1 || echo "   FAILED: see $out/$name.log"
  tail -n 1 "$out/$name.log" | tee -a "$out/results.jsonl"
}
for d in full normal; do
  run "w1-$d" w1 --durability "$d"
  run "w2-$d" w2 --durability "$d"
  run "w2-poll-$d" w2 --durability "$d" --wait poll
  run "w3-$d" w3 --durability "$d"
  run "w4-$d" w4 --durability "$d"
done
echo "results: $out/results.jsonl"
