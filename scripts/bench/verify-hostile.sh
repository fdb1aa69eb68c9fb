#!/usr/bin/env bash
# Wall time, CPU time and peak RSS of `assay verify-pack` on hostile packs,
# validly signed with an attacker's own key (issue 13): 50,000 "{}" receipts
# (plain, re-signed, as a bundle, with and without --json), 100,000
# expected_files names, 50 MiB of newlines, and a FIFO in place of each pack
# file. Figures come from each child's rusage; other load on the machine
# skews them.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/assay" ./cmd/assay
go build -o "$tmp/verify-hostile" ./scripts/bench/verify-hostile
"$tmp/verify-hostile" "$tmp/assay"
