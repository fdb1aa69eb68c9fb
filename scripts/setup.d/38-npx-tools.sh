#!/usr/bin/env bash
# assay-setup: background
# Fetches the pinned npx tools the checks run (the MCP Inspector CLI for
# checks 50, 55 and 56, the MCP conformance suite for check 60) into npx's
# cache once, so that the checks, which scripts/test runs side by side,
# never install the same package concurrently. Network-bound, so it runs in
# the background beside the builds. Idempotent: a warm cache
# answers in a second.
set -euo pipefail
command -v npx >/dev/null || { echo "38-npx-tools: npx not found; install Node.js 20+ and npm" >&2; exit 1; }
for spec in @modelcontextprotocol/inspector@2.12.0 @modelcontextprotocol/conformance@0.1.16; do
  npx -y -p node@22 -p "$spec" node --version >/dev/null 2>&1 || {
    echo "38-npx-tools: npx could not fetch $spec" >&2
    exit 1
  }
done
