package mcppolicy

import (
	"bytes"
	"encoding/json"
	"sync"
	"text/template"

	"github.com/assay-dev/assay/core/exit"
)

// Template returns the commented policy `assay mcp policy init` writes, in
// audit mode. It parses cleanly and allows every call until rules are
// uncommented; it documents every key and the evaluation order.
func Template(serverID string) []byte {
	b, _ := TemplateWithMode(serverID, ModeAudit)
	return b
}

// TemplateWithMode is Template with the mode set (audit or enforce).
func TemplateWithMode(serverID, mode string) ([]byte, error) {
	if mode != ModeAudit && mode != ModeEnforce {
		return nil, exit.Bad("use audit or enforce", "unknown mode %q", mode)
	}
	// A JSON string is a valid YAML double-quoted scalar, whatever it holds.
	q, _ := json.Marshal(serverID)
	var b bytes.Buffer
	if err := templateText().Execute(&b, map[string]string{"ServerID": string(q), "Mode": mode, "File": DefaultFile}); err != nil {
		return nil, err // the template is fixed; a failure here is a bug
	}
	return b.Bytes(), nil
}

// Parsed on first use: at init, every start of a binary linking this
// package paid for it.
var templateText = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("policy").Parse(`# assay MCP proxy policy ({{.File}}), version 1.
#
#   check it:   assay mcp policy validate {{.File}}
#   try a call: assay mcp policy check {{.File}} --tool write_file --args '{"path":"/tmp/x"}'
#   use it:     assay mcp-proxy --policy {{.File}} -- <server command>
#
# Every tools/call the proxy sees is evaluated; each receipt records the
# verdict, the reason and this file's sha256. Unknown keys are refused, so a
# misspelt rule cannot silently switch enforcement off. A key with no value
# is the same as a key left out.
version: "1"

# Names the server in every receipt (used instead of mcp-proxy --server-id
# when not empty).
server_id: {{.ServerID}}

# audit:   every call is forwarded; its receipt records what the policy
#          would have decided (start here).
# enforce: a denied call is not forwarded; the client gets a JSON-RPC error.
mode: {{.Mode}}

# Left out, these follow the mcp-proxy flags (--store-args, --store-results,
# --no-auto-pack, --audit-dir). Set here, they fix the behaviour for this file.
# store_args: false       # keep tool arguments in receipts, not only their hash
# store_results: false    # keep tool results in receipts, not only their hash
# auto_pack: true         # build a signed proof pack when the session ends
# audit_dir: .assay/mcp   # session files and packs

# Rules, checked in this order; the first that denies decides:
#   1. a tools.deny glob matches the tool name           -> deny_list
#   2. tools.default is deny and no tools.allow glob
#      matches the tool name                             -> not_in_allow
#   3. the tool's constraints max_calls were all used    -> tool_budget_exceeded
#   4. one of the tool's deny_patterns matches its
#      arguments                                         -> argument_denied
#   5. budget.max_tool_calls were all used               -> session_budget_exceeded
#   6. budget.max_wall_time_sec has passed since the
#      session started                                   -> session_time_exceeded
# Otherwise the call is allowed. Only allowed calls count toward max_calls
# and max_tool_calls.
#
# Globs follow Python's fnmatch, case-sensitive: * any run of characters
# (including /), ? one character, [abc] one of, [!abc] none of.
# Constraints are keyed by exact tool names, not globs.
# deny_patterns are case-insensitive regular expressions (Go RE2 syntax: no
# lookahead, lookbehind or backreferences), searched anywhere in the
# arguments as canonical JSON: keys sorted, no spaces, e.g.
#   {"action":"delete","path":"/etc/passwd"}
# (inside strings a quote appears as \" and a backslash as \\; other
# characters, / and non-ASCII included, appear as themselves).
# Limits are whole numbers of at least 1; leave a key out for no limit.
#
# tools:
#   default: allow          # allow | deny (deny: only tools matching allow run)
#   deny:
#     - "delete_*"
#     - "*_admin"
#   allow:                  # consulted only when default is deny
#     - "read_*"
#     - "list_*"
#   constraints:
#     write_file:
#       max_calls: 10
#       deny_patterns:
#         - '"path":"/etc/'
#         - 'action.*delete'
#
# budget:
#   max_tool_calls: 100     # allowed tool calls per session
#   max_wall_time_sec: 3600 # seconds from the start of the session
`))
})
