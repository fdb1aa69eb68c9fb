#!/usr/bin/env bash
# Installs actionlint (from the Go module proxy), which checks the GitHub
# workflows `assay ci init github` generates (scripts/checks.d/40-actionlint.sh).
set -euo pipefail
if command -v actionlint >/dev/null 2>&1 && actionlint -version 2>/dev/null | grep -q '^1\.7\.12'; then
  exit 0
fi
go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
