# shellcheck shell=bash
# Sourced by scripts/test and scripts/test-race-shuffle: which packages CI
# tests under the race detector and which without it. Every package is
# tested exactly once in CI.
#
# race_packages: the quick ones (stores, JSON-RPC, the MCP server and its
# transports, capture, verify, scan and the rest of core).
# plain_packages: everything else: cmd/assay, flows and the slow end-to-end
# packages (under -race they would take several times CI's budget), and
# the packages that link the object-storage SDKs or the AWS log backend
# (a race build of the AWS, Azure and Google Cloud SDKs costs about ten
# minutes of a cold two-core machine). Run them by hand with
# `go test -race -shuffle=on ./...`.
_assay_slow='/cmd/assay$|/flows$|/core/mcpproxy$|/core/proof$|/core/pack$|/core/patch$|/core/capture/gateway$|/core/tlog$'
_assay_slow+='|/core/blob$|/core/remote$|/core/runpack$|/core/tlog/tlogaws$'

race_packages() {
  go list ./core/... ./tools/... ./cmd/assay-mcp | grep -Ev "$_assay_slow"
}

plain_packages() {
  local race
  race=$(race_packages)
  go list ./... | grep -vxF "$race"
}
