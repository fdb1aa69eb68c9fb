#!/usr/bin/env bash
# Installs Azurite, the Azure Storage emulator (npm package azurite, pinned in
# testdata/azurite/package-lock.json), for core/blob's and cmd/assay's
# azblob:// tests: the tests start azurite-blob in memory on a loopback port,
# telemetry off. Idempotent: skips npm when node_modules already matches the
# lock file. Runs in the background next to the other setup (npm ci of its
# 450 packages takes minutes on an empty cache).
# assay-setup: background
set -euo pipefail
cd "$(dirname "$0")/../../testdata/azurite"

if ! command -v npm >/dev/null 2>&1; then
  echo "47-azurite: node/npm missing; installing Debian's nodejs and npm" >&2
  # Another setup script may be installing at the same time: wait for
  # apt's locks rather than fail on them.
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq nodejs npm >/dev/null
fi

stamp=node_modules/.assay-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
npm ci --omit=dev --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
