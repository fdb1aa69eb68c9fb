#!/usr/bin/env bash
# Installs actionlint (from the Go module proxy) and shellcheck (Debian),
# which check the GitHub workflows `assay ci init github` generates, their
# run: scripts included (scripts/checks.d/40-actionlint.sh and the ciinit
# tests).
set -euo pipefail
if ! command -v shellcheck >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq shellcheck >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    apt-get install -y -qq shellcheck >/dev/null
  }
fi
if command -v actionlint >/dev/null 2>&1 && actionlint -version 2>/dev/null | grep -q '^1\.7\.12'; then
  exit 0
fi
# A test tool: unoptimised (-N -l) compiles faster cold; no DWARF (-w) links faster.
go install -gcflags='all=-N -l' -ldflags=-w github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
