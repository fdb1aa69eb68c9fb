#!/usr/bin/env python3
"""Headline performance figures of assay, each beside this machine's own limit.

Run through scripts/bench/all, which builds the binaries. Prints one table and
writes the same figures as JSON. Times are the best of RUNS runs (wall clock;
the CPU time of the same run is kept in the JSON): on a shared machine the
best run is the one least disturbed by others, for the tool and its limit
alike. Peak memory is the child's maxrss.
"""
import argparse
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time


def run(cmd, env=None, cwd=None):
    """Runs cmd once; returns (wall s, cpu s, maxrss MB, exit code)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench: {' '.join(cmd)} exited {code}: {err.strip()[:500]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, code


def best(cmd, runs, env=None, cwd=None, before=None):
    """Best wall time of runs; before() runs untimed before each run."""
    res = []
    for _ in range(runs):
        if before:
            before()
        res.append(run(cmd, env=env, cwd=cwd))
    w = min(res, key=lambda r: r[0])
    return {"seconds": round(w[0], 4), "cpu_seconds": round(w[1], 4), "max_rss_mb": round(max(r[2] for r in res), 1)}


def median_ms(cmd, n, env=None):
    walls, cpus = [], []
    for _ in range(n):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, _, ru = os.wait4(p.pid, 0)
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((ru.ru_utime + ru.ru_stime) * 1000)
    return {"median_ms": round(statistics.median(walls), 2), "min_ms": round(min(walls), 2),
            "cpu_median_ms": round(statistics.median(cpus), 2)}


class MCP:
    """A minimal MCP stdio client."""

    def __init__(self, cmd, env, cwd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        self.id = 0

    def request(self, method, params):
        self.id += 1
        msg = {"jsonrpc": "2.0", "id": self.id, "method": method, "params": params}
        self.p.stdin.write((json.dumps(msg) + "\n").encode())
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                sys.exit(f"bench: assay-mcp closed stdout during {method}")
            m = json.loads(line)
            if m.get("id") == self.id and "method" not in m:
                if "error" in m:
                    sys.exit(f"bench: {method}: {m['error']}")
                return m["result"]

    def notify(self, method):
        self.p.stdin.write((json.dumps({"jsonrpc": "2.0", "method": method}) + "\n").encode())
        self.p.stdin.flush()

    def initialize(self):
        self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.notify("notifications/initialized")

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def cpu_s(pid):
    """User + system CPU seconds of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ratio(a, b):
    return round(a / b, 2) if b else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default="bench.json")
    ap.add_argument("--gateway-requests", type=int, default=10000)
    ap.add_argument("--gateway-concurrency", type=int, default=200)
    a = ap.parse_args()
    b = lambda name: os.path.join(a.bin, name)
    home = os.path.join(a.work, "home")
    env = dict(os.environ, ASSAY_HOME=home, ASSAY_TRACE_ID="")
    rows = []  # (figure, value, limit, ratio, target)
    out = {"machine": {"cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0]}, "packs": [], "startup": {}, "mcp": {}, "gateway": {}}

    # Packs: proof-pack, verify-pack, prove at each size.
    for n in [int(s) for s in a.sizes.split(",")]:
        trace_id = f"trace_bench_{n}"
        path = subprocess.check_output([b("gentrace"), "-home", home, "-n", str(n), "-trace", trace_id]).decode().strip()
        size = os.path.getsize(path)
        warm = lambda p=path: subprocess.run(["cat", p], stdout=subprocess.DEVNULL)
        sha_trace = best(["sha256sum", path], a.runs, before=warm)
        cat_trace = best(["cat", path], a.runs, before=warm)
        pack = os.path.join(a.work, f"pack_{n}")

        def clean(p=pack):
            subprocess.run(["rm", "-rf", p])
            warm()
        build = best([b("assay"), "proof-pack", trace_id, "-o", pack], a.runs, env=env, before=clean)
        jsonl = os.path.join(pack, "receipt_pack.jsonl")
        warm2 = lambda p=jsonl: subprocess.run(["cat", p], stdout=subprocess.DEVNULL)
        sha_pack = best(["sha256sum", jsonl], a.runs, before=warm2)
        verify = best([b("assay"), "verify-pack", pack], a.runs, env=env, before=warm2)
        rid = "mcr_%016x" % (n // 2)
        proof = os.path.join(a.work, "proof.json")
        prove = best([b("assay"), "prove", pack, rid, "-o", proof, "--force"], a.runs, env=env, before=warm2)
        fig = {"receipts": n, "trace_bytes": size, "pack_jsonl_bytes": os.path.getsize(jsonl),
               "sha256sum_trace": sha_trace, "cat_trace": cat_trace, "proof_pack": build,
               "sha256sum_receipt_pack": sha_pack, "verify_pack": verify, "prove_one": prove,
               "proof_pack_over_sha256sum": ratio(build["seconds"], sha_trace["seconds"]),
               "verify_over_sha256sum": ratio(verify["seconds"], sha_pack["seconds"]),
               "prove_over_verify": ratio(prove["seconds"], verify["seconds"])}
        out["packs"].append(fig)
        k = f"{n:,}"
        rows.append((f"proof-pack {k} receipts ({size/1e6:.0f} MB)", f"{build['seconds']:.2f} s, {build['max_rss_mb']:.0f} MB",
                     f"sha256sum {sha_trace['seconds']:.2f} s, cat {cat_trace['seconds']:.2f} s", fig["proof_pack_over_sha256sum"], "<= 4x, < 150 MB"))
        rows.append((f"verify-pack {k}", f"{verify['seconds']:.2f} s, {verify['max_rss_mb']:.0f} MB",
                     f"sha256sum {sha_pack['seconds']:.2f} s", fig["verify_over_sha256sum"], "<= 1.2x, < 64 MB"))
        rows.append((f"prove one receipt {k}", f"{prove['seconds']:.2f} s, {prove['max_rss_mb']:.0f} MB",
                     f"verify-pack {verify['seconds']:.2f} s", fig["prove_over_verify"], "< 2x verify"))
        subprocess.run(["rm", "-rf", pack, path])

    # Start-up.
    empty = median_ms([b("empty")], 50)
    ver = median_ms([b("assay"), "version"], 50, env=env)
    out["startup"] = {"empty_go_program": empty, "assay_version": ver,
                      "ratio_median": ratio(ver["median_ms"], empty["median_ms"]),
                      "ratio_cpu": ratio(ver["cpu_median_ms"], empty["cpu_median_ms"])}
    rows.append(("assay version (median of 50)", f"{ver['median_ms']:.1f} ms (cpu {ver['cpu_median_ms']:.1f})",
                 f"empty Go binary {empty['median_ms']:.1f} ms (cpu {empty['cpu_median_ms']:.1f})", out["startup"]["ratio_median"], "<= 5x"))

    # MCP over stdio.
    root = os.path.join(a.work, "mcproot")
    os.makedirs(root, exist_ok=True)
    mcp_cmd = [b("assay-mcp"), "--root", root, "--log-level", "warn"]
    init_ms = []
    for _ in range(20):
        t = time.perf_counter()
        m = MCP(mcp_cmd, env, root)
        m.initialize()
        m.request("tools/list", {})
        init_ms.append((time.perf_counter() - t) * 1000)
        m.close()
    # A 100-receipt pack.
    subprocess.check_output([b("gentrace"), "-home", home, "-n", "100", "-trace", "trace_bench_100"])
    p100 = os.path.join(root, "p100")
    subprocess.run(["rm", "-rf", p100])
    run([b("assay"), "proof-pack", "trace_bench_100", "-o", p100], env=env)
    m = MCP(mcp_cmd + ["--no-record"], env, root)
    m.initialize()
    m.request("tools/call", {"name": "verify-pack", "arguments": {"path": "p100"}})
    rt = []
    for _ in range(100):
        t = time.perf_counter()
        r = m.request("tools/call", {"name": "verify-pack", "arguments": {"path": "p100"}})
        rt.append((time.perf_counter() - t) * 1000)
        if r.get("isError") or r.get("structuredContent", {}).get("verdict") != "PASS":
            sys.exit(f"bench: MCP verify-pack: {r}")
    m.close()
    out["mcp"] = {"initialize_tools_list_median_ms": round(statistics.median(init_ms), 2),
                  "verify_pack_100_median_ms": round(statistics.median(rt), 2),
                  "empty_go_program_median_ms": empty["median_ms"]}
    rows.append(("assay-mcp spawn + initialize + tools/list", f"{out['mcp']['initialize_tools_list_median_ms']:.1f} ms",
                 f"empty Go binary {empty['median_ms']:.1f} ms", ratio(out['mcp']['initialize_tools_list_median_ms'], empty['median_ms']), "< 20 ms"))
    rows.append(("MCP verify-pack, 100 receipts (median of 100)", f"{out['mcp']['verify_pack_100_median_ms']:.2f} ms", "", None, "< 5 ms"))

    # Gateway under load.
    if a.gateway_requests > 0:
        mock = subprocess.Popen([b("assay"), "mock-llm"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        murl = mock.stdout.readline().decode().strip()
        gw = subprocess.Popen([b("assay"), "gateway", "--json", "--upstream-openai", murl + "/v1"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env)
        buf = b""
        while True:
            chunk = gw.stdout.readline()
            if not chunk:
                sys.exit("bench: gateway printed nothing")
            buf += chunk
            if chunk.startswith(b"}"):
                break
        info = json.loads(buf)
        load = lambda base: json.loads(subprocess.check_output([b("gwload"), "-base", base, "-n", str(a.gateway_requests), "-c", str(a.gateway_concurrency)]))
        # Warm both paths, then measure direct and through the gateway.
        subprocess.check_output([b("gwload"), "-base", murl + "/v1", "-n", "400", "-c", "50"])
        subprocess.check_output([b("gwload"), "-base", info["url"] + "/openai", "-n", "400", "-c", "50"])
        rss_before = rss_mb(gw.pid)
        m0 = cpu_s(mock.pid)
        direct = load(murl + "/v1")
        m1, g1 = cpu_s(mock.pid), cpu_s(gw.pid)
        via = load(info["url"] + "/openai")
        m2, g2 = cpu_s(mock.pid), cpu_s(gw.pid)
        rss_after = rss_mb(gw.pid)
        # A second round: memory that plateaus is buffers, memory that grows
        # again would be a leak.
        load(info["url"] + "/openai")
        rss_after2 = rss_mb(gw.pid)
        gw.send_signal(signal.SIGINT)
        gw.wait(timeout=60)
        mock.send_signal(signal.SIGINT)
        mock.wait(timeout=30)
        trace = None
        for d, _, files in os.walk(home):
            for f in files:
                if f == info["trace_id"] + ".jsonl":
                    trace = os.path.join(d, f)
        receipts = sum(1 for _ in open(trace)) if trace else 0
        total = 2 * a.gateway_requests + 400  # two measured rounds and the warm-up
        out["gateway"] = {"direct": direct, "via_gateway": via, "gateway_rss_mb_before": rss_before, "gateway_rss_mb_after": rss_after, "gateway_rss_mb_after_second_round": rss_after2,
                          "gateway_cpu_ms_per_request": round((g2 - g1) * 1000 / a.gateway_requests, 3),
                          "mock_llm_cpu_ms_per_request": round((m1 - m0) * 1000 / a.gateway_requests, 3),
                          "requests_through_gateway": total, "receipts": receipts,
                          "added_p50_ms": round(via["latency_p50_ms"] - direct["latency_p50_ms"], 3),
                          "added_p99_ms": round(via["latency_p99_ms"] - direct["latency_p99_ms"], 3),
                          "added_ttfb_p50_ms": round(via["stream_ttfb_p50_ms"] - direct["stream_ttfb_p50_ms"], 3)}
        g = out["gateway"]
        c = f"{a.gateway_requests:,} req at {a.gateway_concurrency}, half streamed"
        rows.append((f"gateway added latency p50 / p99 ({c})", f"{g['added_p50_ms']:.2f} / {g['added_p99_ms']:.2f} ms",
                     f"direct p50 {direct['latency_p50_ms']:.1f}, p99 {direct['latency_p99_ms']:.1f} ms", None, "p99 < 1 ms"))
        rows.append(("gateway added time to first streamed byte (p50)", f"{g['added_ttfb_p50_ms']:.2f} ms",
                     f"direct {direct['stream_ttfb_p50_ms']:.1f} ms", None, "< 1 ms"))
        rows.append(("gateway CPU per request", f"{g['gateway_cpu_ms_per_request']:.3f} ms",
                     f"synthetic LLM server {g['mock_llm_cpu_ms_per_request']:.3f} ms", ratio(g['gateway_cpu_ms_per_request'], g['mock_llm_cpu_ms_per_request']), ""))
        rows.append(("gateway RSS before / after / after 2nd round", f"{rss_before} / {rss_after} / {rss_after2} MB", "", None, "flat"))
        rows.append(("gateway receipts / requests", f"{receipts} / {total}", f"errors direct {direct['errors']}, via {via['errors']}", None, "equal"))

    # The table.
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    print(f"{'figure':<{w0}}  {'assay':<{w1}}  {'limit on this machine':<{w2}}  {'ratio':>6}  target")
    for r in rows:
        rt = f"{r[3]:.2f}x" if r[3] is not None else ""
        print(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:<{w2}}  {rt:>6}  {r[4]}")
    print(f"(2 figures per line are best-of-{a.runs} wall times; load average at start {out['machine']['load_avg_1m']:.1f} on {os.cpu_count()} CPUs)")
    with open(a.json, "w") as f:
        json.dump(out, f, indent=2)
    print(f"JSON: {a.json}")


if __name__ == "__main__":
    main()
