#!/usr/bin/env bash
# assay-setup: background
# A minimal OpenTelemetry Collector (otlpreceiver, otlp_http exporter, file
# exporter, debug exporter), built from the collector modules pinned in
# testdata/otelcol, for cmd/assay's Collector tests (Go and Node apps ->
# Collector -> assay collect; assay export otlp -> Collector -> file).
# Built once into a cache directory keyed by the sources' hash:
#   ${ASSAY_CACHE_DIR:-$HOME/.cache/assay}/otelcol/<key>/assay-testcol
# (the tests compute the same path). A cold build costs minutes of CPU, so
# scripts/test runs this script in the background ("assay-setup:
# background" above) while the other setup runs. Idempotent: nothing to do
# when the binary for these sources exists.
set -euo pipefail
cd "$(dirname "$0")/../../testdata/otelcol"
key=$(cat go.mod go.sum main.go | sha256sum | cut -c1-16)
dir="${ASSAY_CACHE_DIR:-$HOME/.cache/assay}/otelcol/$key"
bin="$dir/assay-testcol"
if [ -x "$bin" ]; then
  exit 0
fi
mkdir -p "$dir"
tmp=$(mktemp "$dir/.build.XXXXXX")
trap 'rm -f "$tmp"' EXIT
start=$(date +%s)
# A test tool: unoptimised (-N -l) compiles a quarter faster cold, and
# nothing here needs its speed; without DWARF (-w) it links faster.
go build -trimpath -gcflags='all=-N -l' -ldflags=-w -o "$tmp" .
mv "$tmp" "$bin"
echo "45-otelcol: built $bin in $(( $(date +%s) - start )) s" >&2
