package ciinit

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// MCPServerBinary is the MCP server a client config starts.
const MCPServerBinary = "assay-mcp"

// ServerKey is the name of our entry in a client's server map.
const ServerKey = "assay"

// Client is an MCP client whose project config we know how to write.
type Client string

// Known clients.
const (
	ClientClaude Client = "claude" // Claude Code: .mcp.json, "mcpServers"
	ClientCursor Client = "cursor" // Cursor: .cursor/mcp.json, "mcpServers"
	ClientVSCode Client = "vscode" // VS Code: .vscode/mcp.json, "servers"
)

// Clients lists the known clients in a stable order.
var Clients = []Client{ClientClaude, ClientCursor, ClientVSCode}

// ParseClient checks a client name.
func ParseClient(s string) (Client, error) {
	for _, c := range Clients {
		if string(c) == strings.ToLower(strings.TrimSpace(s)) {
			return c, nil
		}
	}
	return "", exit.Bad("use claude, cursor or vscode", "unknown MCP client %q", s)
}

// ConfigPath is the project-relative config file the client reads.
func (c Client) ConfigPath() string {
	switch c {
	case ClientCursor:
		return filepath.Join(".cursor", "mcp.json")
	case ClientVSCode:
		return filepath.Join(".vscode", "mcp.json")
	}
	return ".mcp.json"
}

// Name is the client's display name.
func (c Client) Name() string {
	switch c {
	case ClientCursor:
		return "Cursor"
	case ClientVSCode:
		return "VS Code"
	}
	return "Claude Code"
}

func (c Client) serversKey() string {
	if c == ClientVSCode {
		return "servers"
	}
	return "mcpServers"
}

// MCPServer is our entry in a client config.
type MCPServer struct {
	Type    string   `json:"type,omitempty"`
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

// Roots returns the --root values of the entry.
func (s *MCPServer) Roots() []string {
	var roots []string
	for i := 0; i < len(s.Args); i++ {
		switch a := s.Args[i]; {
		case a == "--root" && i+1 < len(s.Args):
			roots = append(roots, s.Args[i+1])
			i++
		case strings.HasPrefix(a, "--root="):
			roots = append(roots, strings.TrimPrefix(a, "--root="))
		}
	}
	return roots
}

// AllowExec reports whether the entry lets the agent run commands.
func (s *MCPServer) AllowExec() bool {
	for _, a := range s.Args {
		if a == "--allow-exec" || a == "--allow-exec=true" {
			return true
		}
	}
	return false
}

// ServerCommand is the command a client config starts: the bare name
// assay-mcp (portable: the config does not pin a build directory), or with
// absolute the full path of the binary found on PATH or next to assayExe.
// found reports whether the bare name resolves on PATH (so the client can
// start it); located is the binary found, on PATH or next to assayExe.
//
// It searches this process's PATH; ServerCommandIn takes the PATH to search.
func ServerCommand(assayExe string, absolute bool) (cmd string, found bool, located string) {
	return ServerCommandIn(os.Getenv("PATH"), assayExe, absolute)
}

// ServerCommandIn is ServerCommand with the search path pathEnv (a PATH
// value: directories separated by the list separator) instead of the
// process's.
func ServerCommandIn(pathEnv, assayExe string, absolute bool) (cmd string, found bool, located string) {
	if p, ok := lookPathIn(pathEnv, MCPServerBinary); ok {
		found, located = true, p
	} else if assayExe != "" {
		p := filepath.Join(filepath.Dir(assayExe), MCPServerBinary)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			located = p
		}
	}
	if absolute && located != "" {
		if abs, err := filepath.Abs(located); err == nil {
			return abs, true, abs
		}
	}
	return MCPServerBinary, found, located
}

// NewMCPServer builds our entry: the server confined to roots (absolute
// paths, since clients start servers from different working directories),
// with --allow-exec only when asked.
func NewMCPServer(c Client, command string, roots []string, allowExec bool) (*MCPServer, error) {
	s := &MCPServer{Command: command}
	if c == ClientVSCode {
		s.Type = "stdio"
	}
	if len(roots) == 0 {
		roots = []string{"."}
	}
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, exit.Bad("pass an existing directory", "cannot resolve root %q: %v", r, err)
		}
		if !fsutil.IsDir(abs) {
			return nil, exit.Bad("pass an existing directory", "root %s is not a directory", abs)
		}
		s.Args = append(s.Args, "--root", abs)
	}
	if allowExec {
		s.Args = append(s.Args, "--allow-exec")
	}
	return s, nil
}

// ReadMCPConfig returns our entry from a client config: (nil, nil) when the
// file does not exist or has no assay entry; a bad-input error when the file
// is not a JSON object of the client's shape.
func ReadMCPConfig(path string, c Client) (*MCPServer, error) {
	doc, err := readConfigDoc(path)
	if err != nil || doc == nil {
		return nil, err
	}
	servers, err := serversOf(doc, path, c)
	if err != nil {
		return nil, err
	}
	raw, ok := servers[ServerKey]
	if !ok {
		return nil, nil
	}
	var s MCPServer
	if err := json.Unmarshal(raw, &s); err != nil || s.Command == "" {
		return nil, exit.Bad("fix it or rewrite it with 'assay start mcp --write --force'", "%s: the %q server entry has no command", path, ServerKey)
	}
	return &s, nil
}

// HasAssayServer reports whether path already lists our server.
func HasAssayServer(path string, c Client) (bool, error) {
	s, err := ReadMCPConfig(path, c)
	return s != nil, err
}

// WriteMCPConfig adds (or with force replaces) our entry in the client
// config at path, keeping every other server and key. It reports whether
// the file changed. An existing, different assay entry without force is bad
// input; an unparseable file is never overwritten.
func WriteMCPConfig(path string, c Client, s *MCPServer, force bool) (bool, error) {
	doc, err := readConfigDoc(path)
	if err != nil {
		return false, err
	}
	if doc == nil {
		doc = map[string]json.RawMessage{}
	}
	servers, err := serversOf(doc, path, c)
	if err != nil {
		return false, err
	}
	entry, err := json.Marshal(s)
	if err != nil {
		return false, err
	}
	if old, ok := servers[ServerKey]; ok {
		var prev MCPServer
		_ = json.Unmarshal(old, &prev)
		same, _ := json.Marshal(&prev)
		if string(same) == string(entry) {
			return false, nil
		}
		if !force {
			return false, exit.Bad("pass --force to replace it", "%s already has a different %q server entry", path, ServerKey)
		}
	}
	servers[ServerKey] = entry
	sb, err := json.Marshal(servers)
	if err != nil {
		return false, err
	}
	doc[c.serversKey()] = sb
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, exit.Bad("check the path", "cannot create %s: %v", filepath.Dir(path), err)
	}
	if err := fsutil.WriteFileAtomic(path, append(out, '\n'), 0o644); err != nil {
		return false, exit.Bad("check the path", "cannot write %s: %v", path, err)
	}
	return true, nil
}

func readConfigDoc(path string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, exit.Bad("check the file's permissions", "cannot read %s: %v", path, err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil || doc == nil {
		return nil, exit.Bad("fix the JSON or move the file aside", "%s is not a JSON object", path)
	}
	return doc, nil
}

func serversOf(doc map[string]json.RawMessage, path string, c Client) (map[string]json.RawMessage, error) {
	servers := map[string]json.RawMessage{}
	if raw, ok := doc[c.serversKey()]; ok {
		if err := json.Unmarshal(raw, &servers); err != nil || servers == nil {
			return nil, exit.Bad("fix the JSON or move the file aside", "%s: %q is not an object", path, c.serversKey())
		}
	}
	return servers, nil
}

// lookPathIn finds the executable name in the directories of pathEnv.
// Relative entries (and empty ones, the working directory) are skipped, as
// exec.LookPath refuses what they find (exec.ErrDot).
func lookPathIn(pathEnv, name string) (string, bool) {
	for _, dir := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}
