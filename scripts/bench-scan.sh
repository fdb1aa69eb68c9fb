#!/usr/bin/env bash
# Scan throughput on a generated tree of 10,000 Python files, next to `cat`
# of the same files. Prints files/s and MB/s for both and the ratio.
#   scripts/bench-scan.sh [N_FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/assay" ./cmd/assay
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
bytes=$(find "$tmp/tree" -name '*.py' -print0 | xargs -0 cat | wc -c)
now() { date +%s.%N; }
t0=$(now); find "$tmp/tree" -name '*.py' -print0 | xargs -0 cat >/dev/null; t1=$(now)
"$tmp/assay" scan "$tmp/tree" --json >/dev/null; t2=$(now)
awk -v n="$n" -v b="$bytes" -v c="$(echo "$t1 - $t0" | bc)" -v s="$(echo "$t2 - $t1" | bc)" 'BEGIN {
  printf "files: %d, %.1f MB, %d CPUs\n", n, b/1e6, '"$(nproc)"'
  printf "cat:        %8.3f s  %9.0f files/s  %7.1f MB/s\n", c, n/c, b/1e6/c
  printf "assay scan: %8.3f s  %9.0f files/s  %7.1f MB/s  (%.1fx cat)\n", s, n/s, b/1e6/s, s/c
}'
