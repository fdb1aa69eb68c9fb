#!/usr/bin/env bash
# Prints how long assay-mcp takes from exec to the answer of tools/list over
# stdio (spawn, initialize, notifications/initialized, tools/list; target:
# under 20 ms), median and p90 over 50 runs, beside an empty Go binary's
# start measured the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/assay-mcp" ./cmd/assay-mcp
mkdir -p "$work/empty" "$work/root" "$work/home"
printf 'package main\n\nfunc main() {}\n' >"$work/empty/main.go"
printf 'module empty\n\ngo 1.26\n' >"$work/empty/go.mod"
(cd "$work/empty" && go build -o "$work/emptybin" .)
python3 - "$work" <<'PY'
import json, os, resource, subprocess, sys, time
w = sys.argv[1]
env = dict(os.environ, HOME=w + "/home", ASSAY_HOME=w + "/home/.assay")
msgs = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
]
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
cpus = []
def once():
    c = cpu()
    t = time.perf_counter()
    p = subprocess.Popen([w + "/assay-mcp", "--root", w + "/root", "--log-level", "error"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    p.stdin.write(json.dumps(msgs[0]).encode() + b"\n"); p.stdin.flush()
    p.stdout.readline()
    p.stdin.write((json.dumps(msgs[1]) + "\n" + json.dumps(msgs[2]) + "\n").encode()); p.stdin.flush()
    line = p.stdout.readline()
    dt = (time.perf_counter() - t) * 1000
    assert b'"tools"' in line, line[:200]
    p.stdin.close(); p.wait()
    cpus.append((cpu() - c) * 1000)  # start to exit: an upper bound of the CPU spent before the answer
    return dt
ecpus = []
def empty():
    c = cpu()
    t = time.perf_counter()
    subprocess.run([w + "/emptybin"])
    ecpus.append((cpu() - c) * 1000)
    return (time.perf_counter() - t) * 1000
for _ in range(3):
    once(); empty()
cpus.clear(); ecpus.clear()
load = os.getloadavg()[0]
a = sorted(once() for _ in range(50))
e = sorted(empty() for _ in range(50))
print(f"assay-mcp exec → tools/list answered: median {a[25]:.1f} ms, p90 {a[45]:.1f} ms (50 runs, target < 20 ms)")
print(f"empty Go binary exec → exit, same harness: median {e[25]:.1f} ms")
cpus.sort(); ecpus.sort()
print(f"  CPU time (user+sys, exec to exit): assay-mcp median {cpus[25]:.1f} ms, empty Go binary {ecpus[25]:.1f} ms; load average {load:.1f} on {os.cpu_count()} CPUs")
PY
