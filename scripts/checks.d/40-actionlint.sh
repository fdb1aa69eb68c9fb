#!/usr/bin/env bash
# Generates GitHub workflows with the built assay (`assay ci init github`,
# default and custom options) into a temp
# project and checks them with actionlint. Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bin/assay" ./cmd/assay
assay="$tmp/bin/assay"
proj="$tmp/proj"
mkdir -p "$proj"
cd "$proj"
"$assay" ci init github -o wf/default.yml >/dev/null 2>&1
"$assay" ci init github --run-command "python3  app.py --mode 'fast run'" \
  --cards receipt_completeness,no_breakglass -o wf/custom.yml >/dev/null
"$assay" ci init github --run-command "node agent.js" --lock ci/assay.lock \
  --baseline evidence/proof_pack_base -o wf/paths.yml >/dev/null
# --force is needed to overwrite: exit 3 and the file unchanged without it.
before="$(sha256sum wf/custom.yml)"
set +e
"$assay" ci init github --run-command "other" -o wf/custom.yml >/dev/null 2>&1
code=$?
set -e
if [ "$code" -ne 3 ] || [ "$(sha256sum wf/custom.yml)" != "$before" ]; then
  echo "ci init overwrote a workflow without --force (exit $code)" >&2
  exit 1
fi
ls wf/*.yml
actionlint -no-color wf/*.yml
echo "actionlint: $(ls wf/*.yml | wc -l) generated workflows clean" >&2
