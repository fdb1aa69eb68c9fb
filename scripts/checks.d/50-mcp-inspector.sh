#!/usr/bin/env bash
# assay-check-lane: inspector
# A real MCP client against the built stdio server: the MCP Inspector CLI
# (pinned) lists the tools with --strict (schema portability gate, exit 6 on
# a problem) in both protocol eras, calls each read-only tool on a real pack,
# checks that a path outside the roots is an isError result, and reads a
# pack resource and a flow prompt. Any unexpected exit code fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECK=50-mcp-inspector
source scripts/lib/inspector.sh

inspector() {
  "${INSPECTOR_NPX[@]}" --cwd "$root" -e "ASSAY_HOME=$ASSAY_HOME" "$work/bin/assay-mcp" "$@" --format json 2>"$work/stderr"
}

printf 'mode: enforce\ntools:\n  deny: ["delete_*"]\n' >"$root/assay.mcp-policy.yaml"

expect 0 '"verify-pack"' --method tools/list --strict
expect 0 '"verify-pack"' --method tools/list --strict --protocol-era modern
expect 0 '"verdict": *"PASS"' --method tools/call --tool-name verify-pack --tool-arg path=challenge/good
expect 0 '"verdict": *"TAMPERED"' --method tools/call --tool-name verify-pack --tool-arg path=challenge/tampered
expect 0 '"verdict": *"PASS"' --method tools/call --tool-name explain-pack --tool-arg path=challenge/good
expect 0 '"status": *"integrity_failed"' --method tools/call --tool-name diff-packs --tool-arg a=challenge/good b=challenge/tampered
expect 0 '"sites_total"' --method tools/call --tool-name scan --tool-args-json '{"min_confidence":"medium"}'
expect 0 '"status": *"dry_run"' --method tools/call --tool-name run-flow --tool-arg flow=try
expect 0 '"proxy_action": *"refuse"' --method tools/call --tool-name policy-check --tool-arg tool=delete_records
expect 5 'outside the allowed roots' --method tools/call --tool-name verify-pack --tool-arg path=/etc
expect 5 'allow-exec' --method tools/call --tool-name run-flow --tool-args-json '{"flow":"try","apply":true}'
expect 0 'assay://pack/good/pack_manifest.json' --method resources/list
expect 0 'pack_version' --method resources/read --uri assay://pack/good/pack_manifest.json
expect 0 'run-flow' --method prompts/get --prompt-name flow-try
echo "50-mcp-inspector: all inspector checks passed" >&2
