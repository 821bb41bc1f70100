#!/usr/bin/env bash
# Runs every Keel test on a fresh clone: restore, build (Release), then each test assembly with xUnit's own runner.
# Ends with one line, taken from the result files: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
results="$root/.test-results"
rm -rf "$results"; mkdir -p "$results"

echo "== build"
if ! dotnet build Keel.slnx -c Release -nologo -v quiet -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# Throwaway services that test assemblies need are started by scripts under eng/ and stopped on exit.
# PostgreSQL: KEEL_TEST_POSTGRES if set, else a server from this machine's own binaries (eng/postgres.sh).
status=0
pgstate="$results/postgres.env"
trap 'eng/postgres.sh stop "$pgstate" >/dev/null' EXIT
if eng/postgres.sh start "$pgstate" >/dev/null; then
  # shellcheck disable=SC1090
  source "$pgstate"
  echo "== postgres: $KEEL_TEST_POSTGRES"
else
  echo "== postgres: could not start one; the PostgreSQL tests will fail and say why"
  status=1
fi
# The dashboard tests drive a real browser: /usr/bin/chromium, installed here when missing.
eng/chromium.sh || status=1
for project in tests/*/ samples/*/; do
  name=$(basename "$project")
  dll="artifacts/bin/$name/release/$name.dll"
  grep -q '<IsTestProject>true</IsTestProject>' "$project/$name.csproj" 2>/dev/null || continue
  echo "== $name"
  dotnet exec "$dll" -noColor -parallel collections -result-xml "$results/$name.xml" || status=1
done

python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
p = f = s = 0
files = glob.glob(sys.argv[1] + "/*.xml")
for path in files:
    for a in ET.parse(path).getroot().iter("assembly"):
        p += int(a.get("passed", 0)); f += int(a.get("failed", 0)) + int(a.get("errors", 0)); s += int(a.get("skipped", 0))
if not files:
    f += 1
print(f"{p} passed, {f} failed, {s} skipped")
PY
exit $status
