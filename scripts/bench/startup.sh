#!/usr/bin/env bash
# Prints the start-up time of `assay version` (target: within 5x of an empty
# Go program's start): median and p90 over 100 runs of the built binary,
# beside an empty Go binary measured by the same harness, and the init
# time of the heaviest packages (GODEBUG=inittrace, mean of 20 runs). Also
# the CPU time of each (steadier than wall time when the machine is busy).
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/assay" ./cmd/assay
mkdir -p "$work/empty"
printf 'package main\n\nfunc main() {}\n' >"$work/empty/main.go"
printf 'module empty\n\ngo 1.26\n' >"$work/empty/go.mod"
(cd "$work/empty" && go build -o "$work/emptybin" .)
python3 - "$work" <<'PY'
import os, resource, subprocess, sys, time
w = sys.argv[1]
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
def med(cmd):
    for _ in range(5):
        subprocess.run(cmd, stdout=subprocess.DEVNULL)
    ts, cs = [], []
    for _ in range(100):
        c, t = cpu(), time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        ts.append((time.perf_counter() - t) * 1000)
        cs.append((cpu() - c) * 1000)
    ts.sort(); cs.sort()
    return ts[50], ts[90], cs[50]
load = os.getloadavg()[0]
a, a90, ac = med([w + "/assay", "version"])
e, e90, ec = med([w + "/emptybin"])
print(f"assay version start-up: median {a:.1f} ms, p90 {a90:.1f} ms; empty Go binary: median {e:.1f} ms, p90 {e90:.1f} ms; ratio {a/e:.1f}x (100 runs each, target <= 5x)")
# CPU time (user+sys of the child) is steadier than wall time on a loaded
# machine; the load average says how loaded it was.
print(f"  CPU time: assay version {ac:.1f} ms, empty Go binary {ec:.1f} ms (ratio {ac/ec:.1f}x); load average {load:.1f} on {os.cpu_count()} CPUs")
PY
for i in $(seq 20); do GODEBUG=inittrace=1 "$work/assay" version 2>&1 >/dev/null; done >"$work/inits"
awk '/^init / {all+=$5} END {printf "package init, mean of 20 runs: %.1f ms in all; the heaviest:\n", all/20}' "$work/inits"
awk '/^init / {t[$2]+=$5} END {for (p in t) printf "%8.2f ms  %s\n", t[p]/20, p}' "$work/inits" | sort -rn | head -12

# The floor the linked dependencies set: a program that does nothing but
# import one of them, started the same way. `assay version` cannot start
# faster than the slowest of the ones it links (they share packages, so
# their costs do not add up).
probe="$(mktemp -d ./_startup-probe.XXXXXX)"
trap 'rm -rf "$work" "$probe"' EXIT
for p in \
  "gocloud.dev/blob" \
  "gocloud.dev/blob/s3blob" \
  "github.com/Azure/azure-sdk-for-go/sdk/azidentity" \
  "github.com/transparency-dev/tessera/storage/aws" \
  "go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp" \
  "google.golang.org/grpc" \
  "github.com/mark3labs/mcp-go/server" \
  "github.com/spf13/cobra"; do
  name=$(echo "$p" | tr '/.' '__')
  mkdir -p "$probe/$name"
  printf 'package main\n\nimport _ "%s"\n\nfunc main() {}\n' "$p" >"$probe/$name/main.go"
  go build -o "$work/probe-$name" "./$probe/$name"
  echo "$p $work/probe-$name"
done >"$work/probes"
python3 - "$work" <<'PY'
import resource, subprocess, sys, time
w = sys.argv[1]
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
def med(cmd):
    for _ in range(3):
        subprocess.run(cmd, stdout=subprocess.DEVNULL)
    ts, cs = [], []
    for _ in range(40):
        c, t = cpu(), time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        ts.append((time.perf_counter() - t) * 1000)
        cs.append((cpu() - c) * 1000)
    ts.sort(); cs.sort()
    return ts[20], cs[20]
e, ec = med([w + "/emptybin"])
print(f"start-up of a program that only imports one dependency (median of 40 runs; empty Go binary {e:.1f} ms wall, {ec:.1f} ms CPU):")
for line in open(w + "/probes"):
    pkg, path = line.split()
    t, c = med([path])
    print(f"  {t:6.1f} ms wall ({t/e:4.1f}x)  {c:6.1f} ms CPU  {pkg}")
PY
