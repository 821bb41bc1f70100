#!/usr/bin/env bash
# Brings the public API files of the shipped libraries (src/*/PublicAPI.Unshipped.txt) in line with the code, from the
# public-API analyzer's own diagnostics:
#   RS0016 (a public symbol no file declares)     -> its line is added to PublicAPI.Unshipped.txt
#   RS0017 (a declared symbol that is gone)       -> its line is removed from PublicAPI.Unshipped.txt, or, when it was
#                                                    shipped, recorded there as "*REMOVED*<line>" (a breaking change:
#                                                    review it)
# Run it after adding, changing or removing public API (e.g. once after merging a branch that did), then review the
# diff of the PublicAPI.*.txt files and commit them with the change.
#
#   eng/public-api.sh                 every library under src/ (not the CLI); a new one (e.g. src/Keel.AI) gets its
#                                     two files, all of its API declared in Unshipped
#   eng/public-api.sh src/Keel ...    only these
#   eng/public-api.sh --ship [...]    at a release: move what Unshipped declares into Shipped (applying *REMOVED*)
#
# How: one Release build of the projects with the analyzer's rules as warnings (so every project compiles even while
# its API files are out of date; RS0026/RS0027 on new overloads too: the ordinary build reports them) and a SARIF log
# per compilation (src/Directory.Build.targets, KeelPublicApiLogDir);
# RS0016 carries the exact line to declare in its properties (APIName), RS0017 points at the line that is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

ship=false
if [[ "${1:-}" == "--ship" ]]; then
  ship=true
  shift
fi

# Every library under src/ is tracked (src/Directory.Build.targets); executables are not.
projects=()
if [[ $# -gt 0 ]]; then
  for dir in "$@"; do projects+=("${dir%/}"); done
else
  for project in src/*/*.csproj; do
    grep -q '<OutputType>Exe</OutputType>' "$project" || projects+=("$(dirname "$project")")
  done
fi
for dir in "${projects[@]}"; do
  if ! ls "$dir"/*.csproj >/dev/null 2>&1 || grep -q '<OutputType>Exe</OutputType>' "$dir"/*.csproj; then
    echo "public-api: $dir is not a library project under src/" >&2
    exit 2
  fi
  # A new library starts with nothing shipped: all of its API is declared in Unshipped by the run below.
  for file in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [[ -f "$dir/$file" ]] || { printf '#nullable enable\n' > "$dir/$file"; echo "public-api: created $dir/$file"; }
  done
done

if $ship; then
  python3 - "${projects[@]}" <<'PY'
import sys
from pathlib import Path
HEADER = "#nullable enable"
def lines(path):
    return [l for l in path.read_text().splitlines() if l.strip() and l.strip() != HEADER]
for directory in sys.argv[1:]:
    shipped_path, unshipped_path = Path(directory, "PublicAPI.Shipped.txt"), Path(directory, "PublicAPI.Unshipped.txt")
    shipped, unshipped = set(lines(shipped_path)), lines(unshipped_path)
    for line in unshipped:
        if line.startswith("*REMOVED*"):
            shipped.discard(line[len("*REMOVED*"):])
        else:
            shipped.add(line)
    shipped_path.write_text("\n".join([HEADER, *sorted(shipped, key=str.casefold)]) + "\n")
    unshipped_path.write_text(HEADER + "\n")
    print(f"public-api: {directory}: {len(unshipped)} line(s) shipped")
PY
  exit 0
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
touch "$logs/stamp" # newer than every output: each tracked project compiles (once) and writes its log
status=0
for dir in "${projects[@]}"; do
  project=$(ls "$dir"/*.csproj)
  # Build errors other than the API rules still fail the build (and are printed); the logs say what they can.
  dotnet build "$project" -c Release -nologo -v quiet -clp:ErrorsOnly \
    -p:KeelPublicApiLogDir="$logs" -p:WarningsNotAsErrors='RS0016%3BRS0017%3BRS0026%3BRS0027' || { status=1; break; }
done
if [[ $status -ne 0 ]]; then
  echo "public-api: the build failed (errors above); the API files are updated from what compiled" >&2
fi

python3 - "$logs" "${projects[@]}" <<'PY'
import json, sys
from pathlib import Path
from urllib.parse import unquote, urlparse

HEADER = "#nullable enable"
logs, directories = Path(sys.argv[1]), sys.argv[2:]

def read(path):
    return [l for l in path.read_text().splitlines() if l.strip() and l.strip() != HEADER]

changed = 0
for directory in directories:
    root = Path(directory).resolve()
    project = next(root.glob("*.csproj")).stem
    log = logs / f"{project}.sarif"
    if not log.exists():
        print(f"public-api: {directory}: no compilation log (did it build?)", file=sys.stderr)
        continue
    shipped_path, unshipped_path = root / "PublicAPI.Shipped.txt", root / "PublicAPI.Unshipped.txt"
    shipped_lines = shipped_path.read_text().splitlines()
    unshipped_lines = unshipped_path.read_text().splitlines()
    unshipped = read(unshipped_path)
    added, removed, marked = set(), set(), set()
    seen = set()
    for run in json.loads(log.read_text())["runs"]:
        for result in run.get("results", []):
            rule = result.get("ruleId")
            if rule not in ("RS0016", "RS0017") or result.get("suppressions"):
                continue
            location = result["locations"][0]["physicalLocation"]
            key = (rule, result["message"]["text"], json.dumps(location, sort_keys=True))
            if key in seen:
                continue
            seen.add(key)
            if rule == "RS0016":
                properties = result.get("properties", {}).get("customProperties", {})
                added.add(properties["APIName"])
                for sibling in filter(None, properties.get("ApiNamesOfSiblingsToRemove", "").split(";")):
                    if sibling in unshipped:
                        removed.add(sibling)
                    else:
                        marked.add(sibling)
                continue
            # RS0017 is reported at the stale line of the API file.
            path = Path(unquote(urlparse(location["artifactLocation"]["uri"]).path)).resolve()
            line_no = location["region"]["startLine"]
            if path == unshipped_path:
                removed.add(unshipped_lines[line_no - 1].strip())
            elif path == shipped_path:
                marked.add(shipped_lines[line_no - 1].strip())
    result = [l for l in unshipped if l not in removed]
    result += sorted(added - set(result))
    result += sorted("*REMOVED*" + l for l in marked if "*REMOVED*" + l not in result)
    plain = sorted((l for l in result if not l.startswith("*REMOVED*")), key=str.casefold)
    gone = sorted((l for l in result if l.startswith("*REMOVED*")), key=str.casefold)
    text = "\n".join([HEADER, *plain, *gone]) + "\n"
    if text != unshipped_path.read_text():
        unshipped_path.write_text(text)
        changed += 1
    print(f"public-api: {directory}: +{len(added)} declared, -{len(removed)} dropped from Unshipped, "
          f"{len(marked)} shipped line(s) marked *REMOVED*")
print(f"public-api: {changed} Unshipped file(s) changed; review them with: git diff -- 'src/*/PublicAPI.*.txt'")
PY
exit $status
