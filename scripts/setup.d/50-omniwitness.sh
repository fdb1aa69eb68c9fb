#!/usr/bin/env bash
# transparency-dev/witness's omniwitness, the real C2SP tlog-witness the
# anchoring tests (cmd/assay TestWitnessedAnchor) run on loopback. Built from
# the Go module proxy at the pinned version into $GOPATH/bin (on PATH in
# scripts/test). Idempotent: does nothing when that version is installed.
set -euo pipefail
V=v0.0.0-20260720115447-2e1c6971d19e
BIN="$(go env GOPATH)/bin"
STAMP="$BIN/.omniwitness-$V"
if [ -x "$BIN/omniwitness" ] && [ -e "$STAMP" ]; then
  exit 0
fi
mkdir -p "$BIN"
# A test tool: unoptimised (-N -l) compiles a fifth faster cold (most of
# it is modernc.org/sqlite), and the tests ask little of it; no DWARF (-w).
(cd "${TMPDIR:-/tmp}" && GOBIN="$BIN" GOFLAGS=-mod=mod go install -gcflags='all=-N -l' -ldflags=-w "github.com/transparency-dev/witness/cmd/omniwitness@$V")
touch "$STAMP"
