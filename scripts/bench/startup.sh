#!/usr/bin/env bash
# Prints the start-up time of `assay version` (target: under 20 ms):
# median and p90 over 100 runs of the built binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$(mktemp -d)/assay"
go build -o "$bin" ./cmd/assay
python3 - "$bin" <<'PY'
import subprocess, sys, time
b = sys.argv[1]
for _ in range(5):
    subprocess.run([b, "version"], stdout=subprocess.DEVNULL)
ts = []
for _ in range(100):
    t = time.perf_counter()
    subprocess.run([b, "version"], stdout=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1000)
ts.sort()
print(f"assay version start-up: median {ts[50]:.1f} ms, p90 {ts[90]:.1f} ms, max {ts[-1]:.1f} ms (100 runs, target < 20 ms)")
PY
rm -rf "$(dirname "$bin")"
