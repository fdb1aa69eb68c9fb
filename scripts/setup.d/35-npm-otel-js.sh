#!/usr/bin/env bash
# Installs the official OpenTelemetry JavaScript SDK (@opentelemetry/sdk-node),
# @opentelemetry/instrumentation-openai and the openai SDK, pinned in
# testdata/otel-js/package-lock.json, for cmd/assay's OTLP tests: a Node app
# that emits GenAI spans under `assay run --otlp` and through the
# Collector into `assay collect`. Idempotent: skips npm when node_modules
# already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../../testdata/otel-js"

if ! command -v npm >/dev/null 2>&1; then
  echo "35-npm-otel-js: node/npm missing; installing Debian's nodejs and npm" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

stamp=node_modules/.assay-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
