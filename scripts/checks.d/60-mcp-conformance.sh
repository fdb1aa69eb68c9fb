#!/usr/bin/env bash
# The official MCP conformance suite (pinned) against assay-mcp's streamable
# HTTP server on 127.0.0.1: the generic server scenarios (the others expect
# the suite's fixture tools). Builds the binary, starts and stops the server,
# and fails loudly on any failed scenario.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v npx >/dev/null || { echo "60-mcp-conformance: FAIL: npx not found; install Node.js 20+ and npm" >&2; exit 1; }

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/bin/" ./cmd/assay-mcp ./cmd/assay
export ASSAY_HOME="$work/home"
mkdir -p "$work/root"
"$work/bin/assay" demo-challenge -o "$work/root/challenge" >/dev/null

# Port 0: the server logs the URL it bound (zerolog JSON on stderr).
"$work/bin/assay-mcp" --http 127.0.0.1:0 --root "$work/root" --log-level info 2>"$work/server.log" &
pid=$!
url=
for _ in $(seq 100); do
  url=$(grep -o '"url":"http://127.0.0.1:[0-9]*/mcp"' "$work/server.log" | head -1 | cut -d'"' -f4) || true
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "60-mcp-conformance: FAIL: server exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log" >&2; echo "60-mcp-conformance: FAIL: server did not report its URL" >&2; exit 1; }
echo "serving at $url" >&2

for s in server-initialize ping tools-list resources-list prompts-list dns-rebinding-protection; do
  rc=0
  out=$(npx -y -p node@22 -p @modelcontextprotocol/conformance@0.1.16 conformance server --url "$url" --scenario "$s" 2>&1) || rc=$?
  summary=$(grep -a 'Passed:' <<<"$out" | tail -1)
  if [ "$rc" -ne 0 ] || ! grep -q ' 0 failed' <<<"$summary"; then
    grep -v '^npm warn' <<<"$out" | tail -30 >&2
    echo "60-mcp-conformance: FAIL: scenario $s (exit $rc) $summary" >&2
    tail -20 "$work/server.log" >&2
    exit 1
  fi
  echo "ok: conformance $s: $summary" >&2
done
kill -0 "$pid" 2>/dev/null || { echo "60-mcp-conformance: FAIL: server died during the run" >&2; exit 1; }
echo "60-mcp-conformance: all scenarios passed" >&2
