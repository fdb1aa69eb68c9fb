#!/usr/bin/env bash
# Scan throughput next to `cat` of the same files, measured in the same run:
# a generated tree of N Python files (one in ten with an LLM call), then each
# real tree given. For each: files, bytes, findings, and the best of R runs
# of wall time and of CPU time (user+sys) for `cat` and for `assay scan
# --no-go` (Python only, as the reference scans), with the ratio and our
# files/s. On a loaded machine the CPU ratio is the steadier figure.
#   scripts/bench-scan.sh [N_FILES] [REAL_TREE...]
#   scripts/bench-scan.sh --real [N_FILES]   # also fetches real trees that ship Python:
#       Go modules apache/beam/sdks/v2 (Beam's Python SDK), pulumi/pulumi/sdk/v3,
#       kubeflow/katib, and the npm package node-gyp (gyp) -- about 90 MB of downloads
#   BENCH_RUNS=5 scripts/bench-scan.sh 10000 /usr/lib/python3
#
# For scale, the last column divides our files/s by the reference's
# (assay-ai, Python) as issue 15 measured it on a 2-core machine: agno,
# 4,326 files in 10 s (433 files/s). The reference is not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
real=""
if [ "${1:-}" = "--real" ]; then
  real=1
  shift
fi
n="${1:-10000}"
shift || true
runs="${BENCH_RUNS:-3}"
tmp="$(mktemp -d)"
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/assay" ./cmd/assay
trees=("$tmp/tree" "$@")
names=("generated-$n" "$@")
if [ -n "$real" ]; then
  # Real Go modules and an npm package that contain Python, through the
  # ordinary clients (a private module cache, removed on exit).
  GOMODCACHE="$tmp/mod" GOFLAGS=-modcacherw go mod download -json \
    github.com/apache/beam/sdks/v2@v2.78.0 github.com/pulumi/pulumi/sdk/v3@v3.276.0 \
    github.com/kubeflow/katib@v0.19.0 >"$tmp/mods.json"
  for m in apache/beam/sdks/v2@v2.78.0 pulumi/pulumi/sdk/v3@v3.276.0 kubeflow/katib@v0.19.0; do
    trees+=("$tmp/mod/github.com/$m")
    names+=("go:$m")
  done
  mkdir -p "$tmp/npm/node-gyp"
  (cd "$tmp/npm" && npm pack --silent node-gyp@13.1.0 >/dev/null && tar xzf node-gyp-13.1.0.tgz -C node-gyp)
  trees+=("$tmp/npm/node-gyp")
  names+=("npm:node-gyp@13.1.0")
fi
python3 - "$tmp/tree" "$n" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
body = '''
class Handler{i}:
    """Handles requests of kind {i}."""

    def __init__(self, store, limit=10):
        self.store = store
        self.limit = limit
        self.cache = {{"hits": 0, "misses": 0}}

    def fetch(self, key: str) -> dict:
        if key in self.cache:
            self.cache["hits"] += 1
            return self.cache[key]
        value = self.store.get(key, default=None)
        rows = [r for r in value or [] if r.get("ok")]
        self.cache[key] = {{"rows": rows, "n": len(rows)}}
        return self.cache[key]
'''
for i in range(n):
    d = os.path.join(root, "pkg%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    src = "import os\nimport json\nfrom typing import Any\n" + body.format(i=i) * 6
    if i % 10 == 0:
        src += '\ndef ask(client, q):\n    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": q}])\n'
    with open(os.path.join(d, "mod%05d.py" % i), "w") as f:
        f.write(src)
PY

# best CMD...: runs CMD R times; prints "wall cpu" (seconds, each the minimum).
best() {
  local bw="" bc="" out
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$tmp/time" -f '%e %U %S' "$@" >/dev/null 2>&1
    read -r w u s <"$tmp/time"
    c=$(echo "$u + $s" | bc)
    if [ -z "$bw" ] || [ "$(echo "$w < $bw" | bc)" = 1 ]; then bw=$w; fi
    if [ -z "$bc" ] || [ "$(echo "$c < $bc" | bc)" = 1 ]; then bc=$c; fi
  done
  echo "$bw $bc"
}

printf 'CPUs: %d, best of %d runs each, load average %s; scan = assay scan --no-go (Python only)\n' "$(nproc)" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %6s %7s %5s | %7s %7s | %7s %7s | %6s %6s | %7s %6s %9s\n' tree files MB finds cat-wall cat-cpu scan-wall scan-cpu x-wall x-cpu files/s x-ref files/cpu-s
for i in "${!trees[@]}"; do
  tree=${trees[$i]}
  # The files scan reads: .py, outside the directories it prunes.
  find "$tree" -mindepth 1 -type d \( -name '.*' -o -name venv -o -name node_modules -o -name __pycache__ -o -name dist -o -name build -o -name challenge_pack -o -name 'proof_pack_*' \) -prune -o -name '*.py' -type f -print0 >"$tmp/list"
  files=$(tr -cd '\0' <"$tmp/list" | wc -c)
  bytes=$(xargs -0 -r cat <"$tmp/list" | wc -c)
  findings=$("$tmp/assay" scan "$tree" --no-go --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')
  read -r cw cc <<<"$(best sh -c 'xargs -0 -r cat <"$1"' _ "$tmp/list")"
  read -r sw sc <<<"$(best "$tmp/assay" scan "$tree" --no-go --json)"
  awk -v t="${names[$i]}" -v f="$files" -v b="$bytes" -v k="$findings" -v cw="$cw" -v cc="$cc" -v sw="$sw" -v sc="$sc" 'BEGIN {
    xw = (cw > 0) ? sprintf("%.1f", sw / cw) : "-"
    xc = (cc > 0) ? sprintf("%.1f", sc / cc) : "-"
    fs = (sw > 0) ? f / sw : 0
    fc = (sc > 0) ? sprintf("%.0f", f / sc) : "-"
    printf "%-36s %6d %7.1f %5d | %7.2f %7.2f | %7.2f %7.2f | %6s %6s | %7.0f %5.0fx %9s\n", t, f, b / 1e6, k, cw, cc, sw, sc, xw, xc, fs, fs / 433, fc
  }'
done
echo "files/s: files over scan wall time (with the process start); x-ref: that over the reference's 433 files/s"
echo "(issue 15's figure for assay-ai on agno, 4,326 files in 10 s wall on 2 cores; not measured here); files/cpu-s: over user+sys"
