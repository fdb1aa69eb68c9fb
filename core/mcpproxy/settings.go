package mcpproxy

import (
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/store"
)

// DefaultAuditDir is where session files and packs go by default.
const DefaultAuditDir = ".assay/mcp"

// DefaultGrace is how long the server gets to finish after the client closes.
const DefaultGrace = 5 * time.Second

// SettingsRequest is what `assay mcp-proxy` was asked for. A pointer field
// is nil when its flag was not given, so the policy file can supply it:
// an explicit flag wins, then the policy, then the default (the reference
// let the policy override even explicit flags).
type SettingsRequest struct {
	Argv        []string // the stdio server command (after --)
	UpstreamURL string   // or a streamable-HTTP server
	Headers     []string // "Name: value" for the HTTP upstream (may hold credentials)

	AuditDir     *string
	ServerID     string // "" when not given
	StoreArgs    *bool
	StoreResults *bool
	NoAutoPack   *bool

	// PolicyPath is the --policy file, nil when the flag was not given;
	// it is loaded and checked here, before anything starts.
	PolicyPath *string

	CallTimeout      time.Duration
	Grace            time.Duration
	MaxMessage       int
	MaxServerMessage int

	// Getenv reads the environment (store.EnvTrace: a session under
	// `assay run` joins that trace); nil reads nothing.
	Getenv func(string) string
}

// Settings are the resolved settings of one proxy session.
type Settings struct {
	AuditDir     string
	ServerID     string
	StoreArgs    bool
	StoreResults bool
	AutoPack     bool
	Mode         string            // attestation mode: "enforced" under an enforcing policy, else "shadow"
	Policy       *mcppolicy.Policy // nil without --policy
	Header       http.Header
	// JoinTrace is the trace the session joins (from store.EnvTrace), ""
	// for a session of its own; its owner builds the pack.
	JoinTrace string
}

// ResolveSettings validates a request and merges it with the policy and the
// defaults. Every error is bad input naming the flag and the fix; a header
// is never echoed (it may hold a credential).
func ResolveSettings(r SettingsRequest) (Settings, error) {
	var s Settings
	switch {
	case r.UpstreamURL != "" && len(r.Argv) > 0:
		return s, exit.Bad("give either --upstream-url or a server command after --, not both", "both --upstream-url and a server command were given")
	case r.UpstreamURL == "" && len(r.Argv) == 0:
		return s, exit.Bad("put the server command after --, e.g. assay mcp-proxy -- python my_server.py (or use --upstream-url URL)", "no MCP server to proxy")
	}
	if r.CallTimeout < 0 {
		return s, exit.Bad("use a positive duration such as 30s, or 0 for no limit", "--call-timeout: %s is negative", r.CallTimeout)
	}
	if r.Grace <= 0 {
		return s, exit.Bad("use a positive duration such as 5s", "--shutdown-grace: %s is not positive", r.Grace)
	}
	if r.MaxServerMessage < 1024 {
		return s, exit.Bad("use at least 1024 (the default is 67108864, 64 MiB)", "--max-server-message-bytes: %d is too small", r.MaxServerMessage)
	}
	if r.MaxMessage < 1024 {
		return s, exit.Bad("use at least 1024 (the default is 16777216, 16 MiB)", "--max-message-bytes: %d is too small", r.MaxMessage)
	}
	if r.PolicyPath != nil {
		if *r.PolicyPath == "" {
			return s, exit.Bad("give the policy file's path, or drop --policy", "--policy is empty")
		}
		p, err := mcppolicy.Load(*r.PolicyPath)
		if err != nil {
			return s, err
		}
		s.Policy = p
	}
	s.Header = http.Header{}
	for i, h := range r.Headers {
		name, val, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			// Nothing of it is echoed: it may hold a credential.
			return s, exit.Bad(`write it as "Name: value"`, "--upstream-header number %d is not a header (its text is not shown)", i+1)
		}
		s.Header.Add(name, strings.TrimSpace(val))
	}
	if len(r.Headers) > 0 && r.UpstreamURL == "" {
		return s, exit.Bad("use --upstream-header only with --upstream-url", "--upstream-header without --upstream-url")
	}

	pol := s.Policy
	s.AuditDir = DefaultAuditDir
	switch {
	case r.AuditDir != nil:
		s.AuditDir = *r.AuditDir
	case pol != nil && pol.AuditDir != "":
		s.AuditDir = pol.AuditDir
	}
	if s.AuditDir == "" {
		return s, exit.Bad("give a directory, or drop --audit-dir for "+DefaultAuditDir, "--audit-dir is empty")
	}
	var polArgs, polResults, polNoAuto *bool
	if pol != nil {
		polArgs, polResults = pol.StoreArgs, pol.StoreResults
		if pol.AutoPack != nil {
			v := !*pol.AutoPack
			polNoAuto = &v
		}
	}
	s.StoreArgs = first(r.StoreArgs, polArgs)
	s.StoreResults = first(r.StoreResults, polResults)
	s.AutoPack = !first(r.NoAutoPack, polNoAuto)
	s.ServerID = r.ServerID
	if s.ServerID == "" && pol != nil {
		s.ServerID = pol.ServerID
	}
	if s.ServerID == "" {
		s.ServerID = DefaultServerID(r.Argv, r.UpstreamURL)
	}
	s.Mode = "shadow"
	if pol != nil && pol.Enforce() {
		s.Mode = "enforced"
	}
	if r.Getenv != nil {
		if t := r.Getenv(store.EnvTrace); t != "" {
			if err := store.ValidTraceID(t); err != nil {
				return s, exit.Bad("unset "+store.EnvTrace+" or give it a valid trace id", "%s: %v", store.EnvTrace, err)
			}
			// Under `assay run` (or any owner of a trace) the session
			// joins that trace; its owner builds the pack.
			s.JoinTrace = t
		}
	}
	return s, nil
}

// first is the first value given, else false.
func first(vs ...*bool) bool {
	for _, v := range vs {
		if v != nil {
			return *v
		}
	}
	return false
}

// DefaultServerID names the server after its command (the script when the
// command is an interpreter) or the URL's host, never its credentials.
func DefaultServerID(argv []string, url string) string {
	if url != "" {
		s := url
		if i := strings.Index(s, "://"); i >= 0 {
			s = s[i+3:]
		}
		if i := strings.IndexAny(s, "/?#"); i >= 0 {
			s = s[:i]
		}
		if i := strings.LastIndex(s, "@"); i >= 0 {
			s = s[i+1:] // never a credential
		}
		return s
	}
	if len(argv) == 0 {
		return ""
	}
	name := filepath.Base(argv[0])
	switch strings.TrimRight(name, "0123456789.") {
	case "python", "node", "npx", "uvx", "uv", "deno", "bun", "go", "ruby":
		for _, a := range argv[1:] {
			if !strings.HasPrefix(a, "-") && a != "run" {
				return filepath.Base(a)
			}
		}
	}
	return name
}
