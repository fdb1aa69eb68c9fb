#!/usr/bin/env bash
# assay-check-lane: inspector
# A real MCP client through the notary proxy: the MCP Inspector CLI (pinned,
# as in 50-mcp-inspector.sh) drives `assay mcp-proxy` in front of our own
# assay-mcp server. Each inspector run is one proxy session: tools/list
# (strict) passes through and leaves no pack (no tool calls); each tool call
# leaves a pack that verifies (exit 0) holding the proxy's receipt and the
# server's own; an enforcing policy's denial reaches the inspector as the
# proxy's JSON-RPC error and its pack records outcome "denied".
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECK=55-mcp-proxy-inspector
source scripts/lib/inspector.sh

cat >"$work/deny.yaml" <<'YAML'
mode: enforce
tools:
  deny: ["verify-*"]
YAML

# The inspector starts one command; the wrapper is the proxy in front of
# assay-mcp, with the audit directory and optional policy of this check.
cat >"$work/proxy.sh" <<SH
#!/bin/sh
set --
[ "\$PROXY_POLICY" = none ] || set -- --policy "\$PROXY_POLICY"
exec "$work/bin/assay" mcp-proxy --audit-dir "$work/audit\$AUDIT_SUFFIX" "\$@" --server-id assay-mcp -- "$work/bin/assay-mcp" --root "$root"
SH
chmod +x "$work/proxy.sh"

inspector() {
  "${INSPECTOR_NPX[@]}" --cwd "$root" -e "ASSAY_HOME=$ASSAY_HOME" -e "AUDIT_SUFFIX=$AUDIT_SUFFIX" -e "PROXY_POLICY=$PROXY_POLICY" \
    "$work/proxy.sh" "$@" --format json 2>"$work/stderr"
}

npacks() { ls -d "$work/audit$1"/packs/proof_pack_* 2>/dev/null | wc -l; }
AUDIT_SUFFIX=-plain PROXY_POLICY=none

expect 0 '"verify-pack"' --method tools/list --strict
[ "$(npacks -plain)" -eq 0 ] || fail "a session without tool calls left a pack"
expect 0 '"verdict": *"PASS"' --method tools/call --tool-name verify-pack --tool-arg path=challenge/good
expect 0 '"verdict": *"TAMPERED"' --method tools/call --tool-name verify-pack --tool-arg path=challenge/tampered
[ "$(npacks -plain)" -eq 2 ] || fail "want 2 packs after 2 tool-call sessions, got $(npacks -plain)"
for p in "$work"/audit-plain/packs/proof_pack_*; do
  "$work/bin/assay" verify-pack "$p" >/dev/null || fail "pack $p does not verify (exit $?)"
  grep -q '"integration_source":"assay.mcp_proxy"' "$p/receipt_pack.jsonl" || fail "$p lacks the proxy's receipt"
  grep -q '"integration_source":"assay.mcp_server"' "$p/receipt_pack.jsonl" || fail "$p lacks the server's own receipt"
  grep -q '"session_complete":true' "$p/receipt_pack.jsonl" || fail "$p: session not complete"
done
echo "ok: 2 packs verify, each with the proxy's and the server's receipts" >&2

# Enforce: the denial is the proxy's JSON-RPC error; the pack says denied.
PROXY_POLICY="$work/deny.yaml" AUDIT_SUFFIX=-deny
out=$(inspector --method tools/call --tool-name verify-pack --tool-arg path=challenge/good) && rc=0 || rc=$?
grep -q 'denied by policy' <<<"$out$(cat "$work/stderr")" || fail "the denial did not reach the inspector (exit $rc): ${out:0:400}"
[ "$(npacks -deny)" -eq 1 ] || fail "no pack for the denied session"
p=$(ls -d "$work"/audit-deny/packs/proof_pack_*)
"$work/bin/assay" verify-pack "$p" >/dev/null || fail "denied-session pack does not verify"
grep -q '"outcome":"denied"' "$p/receipt_pack.jsonl" || fail "the pack does not record the denial"
echo "ok: enforce-mode denial reached the inspector (exit $rc) and is in a verifying pack" >&2
echo "55-mcp-proxy-inspector: all proxy checks passed" >&2
