#!/usr/bin/env bash
# Third-party MCP servers behind the notary proxy: the official reference
# servers (pinned npm packages, installed into a temp dir) driven by a raw
# pipelining client and by the MCP Inspector CLI (pinned, as in 50 and 55).
# Checks: every response arrives once, progress notifications pass
# through, stdout is pure protocol, a ~10 MB result is forwarded, one
# receipt per tools/call, each session is complete (exit 0) and its pack
# verifies (exit 0), and a secret-looking argument is only hashed.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=56-mcp-proxy-thirdparty
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
command -v npx >/dev/null || fail "npx not found; install Node.js 20+ and npm (scripts/setup.d/30-npm-js-sdks.sh)"

EVERYTHING=@modelcontextprotocol/server-everything@2026.8.31
FILESYSTEM=@modelcontextprotocol/server-filesystem@2026.8.31
INSPECTOR=@modelcontextprotocol/inspector@2.12.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/bin/" ./cmd/assay
export ASSAY_HOME="$work/home"
npm install --prefix "$work/npm" --no-audit --no-fund --loglevel=error "$EVERYTHING" "$FILESYSTEM" >"$work/npm.log" 2>&1 ||
  fail "npm install $EVERYTHING $FILESYSTEM failed: $(tail -1 "$work/npm.log")"
everything="$work/npm/node_modules/.bin/mcp-server-everything"
filesystem="$work/npm/node_modules/.bin/mcp-server-filesystem"
fsroot="$work/fsroot"
mkdir -p "$fsroot"
head -c 7500000 /dev/urandom | base64 -w 0 >"$fsroot/huge.txt" # 10 MB, one line
echo "notes" >"$fsroot/small.txt"
secret=sk-qa-SECRET-0123456789abcdef

# drive.mjs MSGS -- ARGV: a raw newline-delimited JSON-RPC client that writes
# every message at once (pipelined), closes stdin when every request has an
# answer, and prints {code, answers by id, notification counts, non-JSON lines}.
cat >"$work/drive.mjs" <<'JS'
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
const msgs = JSON.parse(readFileSync(process.argv[2], "utf8"));
const argv = process.argv.slice(process.argv.indexOf("--") + 1);
const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
let errText = ""; child.stderr.on("data", d => { errText += d; });
const want = msgs.filter(m => m.id !== undefined && m.method).map(m => JSON.stringify(m.id));
const answers = {}, notes = {}, bad = [];
// CL=1: the client speaks Content-Length framing (the proxy bridges it to
// the server's newline-delimited stdio); every answer must come back so.
const cl = process.env.CL === "1";
let buf = Buffer.alloc(0), closed = false;
const next = () => {
  if (!cl) {
    const i = buf.indexOf(10);
    if (i < 0) return null;
    const line = buf.subarray(0, i).toString(); buf = buf.subarray(i + 1);
    return line;
  }
  const h = buf.indexOf("\r\n\r\n");
  if (h < 0) return null;
  const m = /^Content-Length: (\d+)$/i.exec(buf.subarray(0, h).toString());
  if (!m) { const bad = buf.toString().slice(0, 120); buf = Buffer.alloc(0); return "\0" + bad; }
  const n = +m[1];
  if (buf.length < h + 4 + n) return null;
  const body = buf.subarray(h + 4, h + 4 + n).toString(); buf = buf.subarray(h + 4 + n);
  return body;
};
child.stdout.on("data", d => {
  buf = Buffer.concat([buf, d]);
  let line;
  while ((line = next()) !== null) {
    let m;
    try { m = JSON.parse(line); } catch { bad.push(line.slice(0, 120)); continue; }
    if (m.method) { notes[m.method] = (notes[m.method] || 0) + 1; continue; }
    const k = JSON.stringify(m.id);
    answers[k] = k in answers ? "DUPLICATE" : (m.error ? "error" : (m.result.isError ? "isError" : "ok:" + line.length));
  }
  if (!closed && want.every(k => k in answers)) { closed = true; child.stdin.end(); }
});
for (const m of msgs) {
  const b = JSON.stringify(m);
  child.stdin.write(cl ? `Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}` : b + "\n");
}
const t = setTimeout(() => { console.log(JSON.stringify({ timeout: true, answers, notes, bad })); child.kill("SIGKILL"); process.exit(1); }, 30000);
child.on("close", code => { clearTimeout(t); if (buf.length) bad.push(buf.toString().slice(0, 120)); console.log(JSON.stringify({ code, answers, notes, bad, stderr: errText })); });
JS

init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"drive","version":"1"}}},{"jsonrpc":"2.0","method":"notifications/initialized"}'
call() { printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s%s}}' "$@"; }

# check_session DIR WANT_CALLS: the session's one pack verifies, holds
# WANT_CALLS mcp_tool_call receipts and says the session was complete.
check_session() {
  local dir=$1 want=$2 p n
  p=$(ls -d "$dir"/packs/proof_pack_* 2>/dev/null) || fail "$dir: no pack"
  [ "$(wc -l <<<"$p")" -eq 1 ] || fail "$dir: want one pack, got: $p"
  "$work/bin/assay" verify-pack "$p" >/dev/null 2>&1 || fail "$p does not verify (exit $?)"
  n=$(grep -c '"type":"mcp_tool_call"' "$p/receipt_pack.jsonl" || true)
  [ "$n" -eq "$want" ] || fail "$p: $n mcp_tool_call receipts, want $want"
  grep -q '"session_complete":true' "$p/receipt_pack.jsonl" || fail "$p: session not complete: $(grep -o '"incomplete_reasons":[^]]*]' "$p/receipt_pack.jsonl")"
}

# 1. server-everything, pipelined: string and numeric ids, progress
# notifications, an image, an unknown tool, a secret-looking argument.
echo "[$init,
{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"},
$(call 2 echo "{\"message\":\"$secret\"}"),
$(call '"three"' get-sum '{"a":2,"b":3}'),
$(call 4 trigger-long-running-operation '{"duration":1,"steps":4}' ',"_meta":{"progressToken":"p4"}'),
$(call 5 get-tiny-image '{}'),
$(call 6 get-structured-content '{"location":"Chicago"}'),
$(call 7 no-such-tool '{}')]" >"$work/everything.json"
out=$(node "$work/drive.mjs" "$work/everything.json" -- "$work/bin/assay" mcp-proxy --audit-dir "$work/a1" -- "$everything" stdio) || true # a timeout is reported below
node -e '
let r; try { r = JSON.parse(process.argv[1]); } catch { console.error("'$name': FAIL: the client driver printed no summary: " + process.argv[1].slice(0, 300)); process.exit(1); }
const f = m => { console.error("'$name': FAIL: server-everything: " + m + "\n" + (r.stderr || "").slice(-800)); process.exit(1); };
if (r.timeout) f("the client timed out: " + JSON.stringify(r.answers));
if (r.code !== 0) f("the proxy exited " + r.code);
if (r.bad.length) f("stdout carried non-JSON: " + JSON.stringify(r.bad));
const ids = ["0","1","2","\"three\"","4","5","6","7"];
for (const k of ids) if (!(k in r.answers) || r.answers[k] === "DUPLICATE") f("id " + k + ": " + r.answers[k]);
if (Object.keys(r.answers).length !== ids.length) f("answers " + JSON.stringify(r.answers));
if (!(r.notes["notifications/progress"] >= 1)) f("no progress notification came through: " + JSON.stringify(r.notes));
if (r.stderr.includes("'$secret'")) f("the secret argument reached stderr");
' "$out"
check_session "$work/a1" 6
! grep -rq -- "$secret" "$work/a1" "$ASSAY_HOME" || fail "the secret argument was stored in cleartext (no --store-args)"
echo "ok: server-everything: 6 pipelined calls, progress notifications, pure stdout, pack verifies, secret hashed only" >&2

# 1b. The same session from a Content-Length framed client.
out=$(CL=1 node "$work/drive.mjs" "$work/everything.json" -- "$work/bin/assay" mcp-proxy --audit-dir "$work/a1cl" -- "$everything" stdio) || true # a timeout is reported below
node -e '
let r; try { r = JSON.parse(process.argv[1]); } catch { console.error("'$name': FAIL: the client driver printed no summary: " + process.argv[1].slice(0, 300)); process.exit(1); }
if (r.timeout || r.code !== 0 || r.bad.length || Object.keys(r.answers).length !== 8 || Object.values(r.answers).includes("DUPLICATE")) {
  console.error("'$name': FAIL: server-everything, Content-Length client: " + JSON.stringify(r).slice(0, 1500)); process.exit(1);
}' "$out"
check_session "$work/a1cl" 6
echo "ok: server-everything from a Content-Length client: every answer framed back, pack verifies" >&2

# 2. server-filesystem: a 10 MB result, a directory listing, a path outside
# the allowed root (an isError result, outcome error).
echo "[$init,
$(call 1 read_text_file "{\"path\":\"$fsroot/huge.txt\"}"),
$(call 2 list_directory "{\"path\":\"$fsroot\"}"),
$(call 3 read_text_file '{"path":"/etc/passwd"}')]" >"$work/fs.json"
out=$(node "$work/drive.mjs" "$work/fs.json" -- "$work/bin/assay" mcp-proxy --audit-dir "$work/a2" -- "$filesystem" "$fsroot") || true # a timeout is reported below
node -e '
let r; try { r = JSON.parse(process.argv[1]); } catch { console.error("'$name': FAIL: the client driver printed no summary: " + process.argv[1].slice(0, 300)); process.exit(1); }
const f = m => { console.error("'$name': FAIL: server-filesystem: " + m + "\n" + (r.stderr || "").slice(-800)); process.exit(1); };
if (r.timeout || r.code !== 0 || r.bad.length) f(JSON.stringify({ code: r.code, timeout: r.timeout, bad: r.bad }));
if (!(parseInt((r.answers["1"] || "ok:0").slice(3)) > 10000000)) f("the 10 MB result did not come through: " + r.answers["1"]);
if (!String(r.answers["2"]).startsWith("ok:") || !["error", "isError"].includes(r.answers["3"])) f(JSON.stringify(r.answers));
' "$out"
check_session "$work/a2" 3
grep -q '"outcome":"error"' "$work"/a2/packs/*/receipt_pack.jsonl || fail "the denied path is not recorded as outcome error"
echo "ok: server-filesystem: a 10 MB result forwarded, outcome error recorded, pack verifies" >&2

# 3. The MCP Inspector CLI, which closes the proxy's stdin and signals it at
# once: the session is still complete and the proxy exits 0.
cat >"$work/proxy.sh" <<SH
#!/bin/sh
exec "$work/bin/assay" mcp-proxy --audit-dir "$work/a3-\$SUFFIX" -- "\$@"
SH
chmod +x "$work/proxy.sh"
inspector() {
  local suffix=$1
  shift
  npx -y -p node@22 -p "$INSPECTOR" inspector --cli -e "ASSAY_HOME=$ASSAY_HOME" -e "SUFFIX=$suffix" \
    "$work/proxy.sh" "$@" --format json 2>"$work/stderr" || fail "inspector $* exited $?: $(grep -v '^npm warn' "$work/stderr" | tail -5)"
}
inspector list "$everything" stdio --method tools/list --strict | grep -q '"trigger-long-running-operation"' || fail "inspector tools/list lacks trigger-long-running-operation"
[ ! -d "$work/a3-list/packs" ] || [ -z "$(ls "$work/a3-list/packs")" ] || fail "a session without tool calls left a pack"
inspector echo "$everything" stdio --method tools/call --tool-name echo --tool-arg message=hi | grep -q 'Echo: hi' || fail "inspector echo: wrong answer"
check_session "$work/a3-echo" 1
inspector fs "$filesystem" "$fsroot" --method tools/call --tool-name read_text_file --tool-arg "path=$fsroot/small.txt" | grep -q 'notes' || fail "inspector read_text_file: wrong answer"
check_session "$work/a3-fs" 1
echo "ok: MCP Inspector CLI through the proxy: tools/list, echo, read_text_file; complete sessions, packs verify" >&2
echo "$name: all third-party checks passed" >&2
