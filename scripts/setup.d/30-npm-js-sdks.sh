#!/usr/bin/env bash
# Installs the official JavaScript LLM SDKs (openai, @anthropic-ai/sdk,
# @google/genai, ai with @ai-sdk/openai) and tsx/typescript, pinned in
# testdata/js/package-lock.json, that cmd/assay's end-to-end tests run:
# `assay run --gateway -- node app.js` and the TypeScript app in
# testdata/js/tsapp (scan -> patch -> run -> verify-pack --coverage-contract).
# Idempotent: skips npm when node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../../testdata/js"

if ! command -v npm >/dev/null 2>&1; then
  echo "30-npm-js-sdks: node/npm missing; installing Debian's nodejs and npm" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

stamp=node_modules/.assay-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# npm ci installs exactly the locked versions; no audit or fund chatter.
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
