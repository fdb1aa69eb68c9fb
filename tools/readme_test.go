package tools

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/assay-dev/assay/flows"
)

const (
	readmePath   = "../README.md"
	sectionStart = "<!-- section: mcp -->"
	sectionEnd   = "<!-- /section: mcp -->"
)

// readmeIntro is the hand-written part of the README's MCP section; the
// tool, resource and prompt lists after it are generated from the code.
const readmeIntro = "## MCP server: `assay-mcp`\n\n" +
	"`assay-mcp` gives an agent (Claude, Cursor, VS Code assistants, scripted clients) assay's tools over MCP:\n" +
	"scan a codebase, record receipts for its own decisions and actions, run guided flows, verify and explain packs,\n" +
	"and bundle the evidence. It speaks stdio by default and streamable HTTP with `--http ADDR`; `assay mcp serve`\n" +
	"is the same server.\n\n" +
	"```sh\n" +
	"go install github.com/assay-dev/assay/cmd/assay-mcp@latest github.com/assay-dev/assay/cmd/assay@latest\n" +
	"assay start mcp --client claude --write   # or cursor, vscode: writes the project config below for you\n" +
	"```\n\n" +
	"**The session is evidence.** Each session has its own trace (`mcp_mcp_<id>_<time>`, or `--trace-id`/`ASSAY_TRACE_ID`):\n" +
	"over stdio the server process is the session; over HTTP each client that connects with the handshake gets its own\n" +
	"(keyed by its `Mcp-Session-Id`). Every tool call is recorded in it as an `mcp_tool_call` receipt with the\n" +
	"reference proxy's field names, arguments and result hashed as `sha256:` + hex of canonical JSON (cleartext only with\n" +
	"`--store-args`/`--store-results`);\n" +
	"`emit-receipt` adds the agent's own receipts, and `bundle` signs a pack of the whole session that\n" +
	"`assay verify-pack` checks offline. `--no-record` turns the per-call receipts off. Over HTTP a session ends\n" +
	"with the client's DELETE (or, past 1024 live sessions, for the least recently used one; or at shutdown): its\n" +
	"trace gets a `session_metadata` receipt and is packed under `.assay/mcp/packs/session_<trace>` in the first root,\n" +
	"and its id answers 404 from then on, like any id the server never issued. No trace serves two sessions.\n\n" +
	"**Safety.** Every path argument must lie under an allowed root: `--root DIR` (repeatable), else (over stdio)\n" +
	"the client's MCP roots when it offers them, else the working directory; `..` and symlinks out of a root are\n" +
	"refused. `run-flow` with `apply` runs commands only when the server was started with `--allow-exec`, and even\n" +
	"then every path parameter of a flow is confined to the roots. Over HTTP the server binds\n" +
	"127.0.0.1 unless told otherwise, answers 403 to a foreign `Origin` (`--allowed-origin` adds one), and on any\n" +
	"non-loopback address refuses to start without a bearer token (`--token` or `ASSAY_MCP_TOKEN`; 401 without it).\n" +
	"Each request body is capped (`--max-body`, default 4MiB; 413) and read as exactly one JSON-RPC message (case\n" +
	"variants, duplicate or unknown members and batches get 400 and a receipt of the refused call); slow clients\n" +
	"are cut off by header and read timeouts.\n" +
	"Logs go to stderr only (stdout carries protocol frames); long lists are paged or cut and counted.\n\n" +
	"### Claude Desktop\n\n" +
	"`claude_desktop_config.json` (macOS: `~/Library/Application Support/Claude/`, Windows: `%APPDATA%\\Claude\\`);\n" +
	"use absolute paths, since Desktop starts servers from its own directory:\n\n" +
	"```json\n" +
	"{\n  \"mcpServers\": {\n    \"assay\": {\n      \"command\": \"/usr/local/bin/assay-mcp\",\n      \"args\": [\"--root\", \"/path/to/project\"]\n    }\n  }\n}\n" +
	"```\n\n" +
	"### Claude Code\n\n" +
	"```sh\n" +
	"claude mcp add --scope project assay -- assay-mcp --root \"$PWD\"\n" +
	"```\n\n" +
	"which writes `.mcp.json`:\n\n" +
	"```json\n" +
	"{\n  \"mcpServers\": {\n    \"assay\": {\n      \"command\": \"assay-mcp\",\n      \"args\": [\"--root\", \"/path/to/project\"]\n    }\n  }\n}\n" +
	"```\n\n" +
	"### Cursor\n\n" +
	"`.cursor/mcp.json` in the project (or `~/.cursor/mcp.json` for all projects):\n\n" +
	"```json\n" +
	"{\n  \"mcpServers\": {\n    \"assay\": {\n      \"command\": \"assay-mcp\",\n      \"args\": [\"--root\", \"/path/to/project\"]\n    }\n  }\n}\n" +
	"```\n\n" +
	"### VS Code\n\n" +
	"`.vscode/mcp.json` (note the `servers` key):\n\n" +
	"```json\n" +
	"{\n  \"servers\": {\n    \"assay\": {\n      \"type\": \"stdio\",\n      \"command\": \"assay-mcp\",\n      \"args\": [\"--root\", \"${workspaceFolder}\"]\n    }\n  }\n}\n" +
	"```\n\n" +
	"### Over HTTP\n\n" +
	"```sh\n" +
	"ASSAY_MCP_TOKEN=$(openssl rand -hex 32) assay-mcp --http 0.0.0.0:8765 --root /srv/project\n" +
	"```\n\n" +
	"Clients connect to `http://HOST:8765/mcp` with `Authorization: Bearer <token>` (VS Code: `\"type\": \"http\", \"url\": ...,\n" +
	"\"headers\": {...}`). On 127.0.0.1 the token is optional but honoured when set.\n\n"

// readmeSection renders the whole section, markers included.
func readmeSection() string {
	var b strings.Builder
	b.WriteString(sectionStart + "\n")
	b.WriteString(readmeIntro)
	b.WriteString("### Tools\n\n")
	b.WriteString("<!-- generated by `go test ./tools -run TestReadmeSection -update`; do not edit by hand -->\n\n")
	b.WriteString("| tool | what it does | read-only | destructive | idempotent | open-world |\n|---|---|---|---|---|---|\n")
	yn := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	for _, t := range Registry() {
		a := t.Annotations
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", t.Name, strings.ReplaceAll(t.Description, "|", "\\|"),
			yn(a.ReadOnly), yn(a.Destructive), yn(a.Idempotent), yn(a.OpenWorld))
	}
	b.WriteString("\nInput and output schemas: [`schemas/tools/`](schemas/tools/).\n\n")
	b.WriteString("**Resources:** `" + PackURITemplate + "`, every pack under the roots (`file` is one of the five pack files).\n\n")
	b.WriteString("**Prompts** (one per guided flow):")
	for _, n := range flows.Names() {
		b.WriteString(" `flow-" + n + "`")
	}
	b.WriteString(".\n")
	b.WriteString(sectionEnd + "\n")
	return b.String()
}

// The README's MCP section is generated from the code; -update rewrites only
// that section (appending it at the end when missing).
func TestReadmeSection(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	want := readmeSection()
	i := bytes.Index(data, []byte(sectionStart))
	j := bytes.Index(data, []byte(sectionEnd))
	var cur string
	if i >= 0 && j > i {
		end := j + len(sectionEnd)
		if end < len(data) && data[end] == '\n' {
			end++
		}
		cur = string(data[i:end])
		if *update && cur != want {
			out := append(append(append([]byte(nil), data[:i]...), want...), data[end:]...)
			mustWrite(t, readmePath, out)
		}
	} else if *update {
		out := append([]byte(nil), data...)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(append(out, '\n'), want...)
		mustWrite(t, readmePath, out)
	}
	if !*update && cur != want {
		t.Fatalf("README.md's mcp section is out of date: run go test ./tools -run TestReadmeSection -update")
	}
}
