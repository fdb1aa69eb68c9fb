# Shared by the checks that drive the MCP Inspector CLI against our binaries
# (scripts/checks.d/50 and 55). Source it after setting CHECK (the check's
# name); define inspector() (how the check starts the inspector) before
# calling expect.

# The pinned inspector, run on a pinned Node.
INSPECTOR_NPX=(npx -y -p node@22 -p @modelcontextprotocol/inspector@2.12.0 inspector --cli)

command -v npx >/dev/null || { echo "$CHECK: FAIL: npx not found; install Node.js 20+ and npm" >&2; exit 1; }

# A work directory with the built binaries, an isolated ASSAY_HOME, and a
# root holding a good and a tampered pack (challenge/).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/bin/" ./cmd/assay-mcp ./cmd/assay
export ASSAY_HOME="$work/home"
root="$work/root"
mkdir -p "$root"
"$work/bin/assay" demo-challenge -o "$root/challenge" >/dev/null

# fail prints one FAIL line and the inspector's last stderr lines.
fail() {
  echo "$CHECK: FAIL: $*" >&2
  grep -v '^npm warn' "$work/stderr" 2>/dev/null | tail -20 >&2 || true
  exit 1
}

# expect WANT_RC PATTERN ARGS...: the inspector exits WANT_RC and its output
# holds PATTERN.
expect() {
  local want=$1 pat=$2
  shift 2
  local out rc=0
  out=$(inspector "$@") || rc=$?
  [ "$rc" -eq "$want" ] || fail "inspector $* exited $rc, want $want: ${out:0:400}"
  grep -q -- "$pat" <<<"$out" || fail "inspector $*: output lacks $pat: ${out:0:400}"
  echo "ok: $* (exit $rc)" >&2
}
