// Package tools is assay's MCP server: the tool table (each tool a thin
// adapter from typed arguments to a core call and back to a typed result),
// the one wrapper that gives every tool its schemas, validation, errors,
// logging, output bounds and mcp_tool_call receipt, plus resources, prompts,
// path confinement and the HTTP security layer. cmd/assay-mcp and
// `assay mcp serve` both build their server with New.
package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/version"
)

// ServerName is the name the server reports in initialize and records as
// server_id in its receipts.
const ServerName = "assay-mcp"

// Transports the server records in server_transport.
const (
	TransportStdio     = "stdio"
	TransportHTTP      = "streamable-http"
	TransportInProcess = "in-process"
)

// Config is everything the server needs; the zero value plus a logger is a
// working stdio server confined to the working directory.
type Config struct {
	// Roots confine every path argument; empty means the working directory,
	// or the client's MCP roots when it offers them.
	Roots []string
	// AllowExec permits tools that execute commands (run-flow with apply).
	AllowExec bool
	// NoRecord turns off the mcp_tool_call receipt for every call.
	NoRecord bool
	// StoreArgs and StoreResults also keep the cleartext arguments and
	// results in the receipts (arguments_content, result_content); by
	// default only their hashes are recorded.
	StoreArgs, StoreResults bool
	// Home is the assay home (store and keys); "" means the one Env names
	// ($ASSAY_HOME, else $HOME/.assay).
	Home string
	// Env is the server's environment (KEY=VALUE lines): the assay home
	// when Home is "", the CI variables a session pack's CI binding is
	// detected from, and ASSAY_BIN, PATH for the steps run-flow runs, whose
	// environment it also is. nil means this process's (read once, in New).
	Env []string
	// TraceID names the session's trace; "" makes a fresh mcp_mcp_… id.
	TraceID string
	// Transport is recorded in each receipt's server_transport.
	Transport string
	// Log receives every log line; it must not write to stdout in stdio mode.
	Log zerolog.Logger
	// Observer, when set, is told of each receipt the server writes (a
	// live OTLP exporter).
	Observer store.Observer
}

// Server is an assay MCP server: the mcp-go server plus what the tools share.
type Server struct {
	MCP     *server.MCPServer
	cfg     Config
	log     zerolog.Logger
	home    string
	store   *store.Store
	roots   *roots
	session *session // the process's session
	tools   []Tool

	httpSess atomic.Pointer[httpSessions] // handshake-era HTTP sessions (set by HTTPHandler)

	packsMu sync.Mutex
	packs   map[string]string // resource pack id -> directory
}

// New builds the server with every tool, resource template and prompt.
func New(cfg Config) (*Server, error) {
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	home := cfg.Home
	if home == "" {
		h, err := store.HomeFrom(func(k string) string { return lookupEnv(cfg.Env, k) })
		if err != nil {
			return nil, fmt.Errorf("find the assay home: %w", err)
		}
		home = h
	}
	if cfg.Transport == "" {
		cfg.Transport = TransportStdio
	}
	rs, err := newRoots(cfg.Roots)
	if err != nil {
		return nil, err
	}
	sess, err := newSession(cfg.TraceID)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		log:     cfg.Log.With().Str("svc", ServerName).Logger(),
		home:    home,
		store:   store.Open(home),
		roots:   rs,
		session: sess,
		packs:   map[string]string{},
	}
	if cfg.Observer != nil {
		s.store.Observe(cfg.Observer)
	}
	hooks := &server.Hooks{}
	// mcp-go hands the JSON-RPC id to hooks only; carry it to the handler on
	// the request (its header map is per request) so receipts can name it.
	hooks.AddBeforeCallTool(func(_ context.Context, id any, req *mcp.CallToolRequest) {
		b, err := json.Marshal(id)
		if err != nil {
			return
		}
		h := req.Header.Clone()
		if h == nil {
			h = map[string][]string{}
		}
		h.Set(requestIDHeader, string(b))
		req.Header = h
	})
	// Input schemas compile on a tool's first call, off the start-up path
	// (tool.go); a client that has listed the tools is likely to call one
	// soon, so compile them all in the background then.
	var warm sync.Once
	hooks.AddAfterListTools(func(context.Context, any, *mcp.ListToolsRequest, *mcp.ListToolsResult) {
		warm.Do(func() { go s.compileSchemas() })
	})
	var listed sync.Once
	hooks.AddBeforeListResources(func(context.Context, any, *mcp.ListResourcesRequest) {
		listed.Do(s.registerFoundPacks)
	})
	s.MCP = server.NewMCPServer(ServerName, version.Version,
		server.WithTitle("assay"),
		server.WithInstructions(instructions),
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(false, true),
		server.WithPromptCapabilities(false),
		server.WithRoots(),
		server.WithRecovery(),
		server.WithResourceRecovery(),
		server.WithHooks(hooks),
		server.WithPaginationLimit(100),
		server.WithLogger(s.slog()),
	)
	// A client whose roots change gets them asked for again.
	s.MCP.AddNotificationHandler(mcp.MethodNotificationRootsListChanged, func(context.Context, mcp.JSONRPCNotification) {
		s.roots.refresh()
	})
	s.tools = Tools(cfg.AllowExec)
	for _, t := range s.tools {
		s.MCP.AddTool(t.MCPTool(), s.handler(t))
	}
	s.addResources()
	s.addPrompts()
	s.log.Info().Str("trace_id", sess.traceID).Strs("roots", rs.list()).Bool("allow_exec", cfg.AllowExec).
		Bool("record", !cfg.NoRecord).Str("transport", cfg.Transport).Msg("assay-mcp ready")
	return s, nil
}

// compileSchemas compiles every tool's input schema (each once).
func (s *Server) compileSchemas() {
	for _, t := range s.tools {
		if _, err := t.validator.get(t.Name, t.InputSchema); err != nil {
			s.log.Error().Err(err).Str("tool", t.Name).Msg("input schema does not compile")
		}
	}
}

// TraceID is the trace of the process's session (stdio, in-process, and
// HTTP requests without a session id).
func (s *Server) TraceID() string { return s.session.traceID }

// Home is the assay home the server writes to.
func (s *Server) Home() string { return s.home }

const instructions = `assay records what an agent does as receipts and turns them into signed, offline-verifiable proof packs.
Record your own decisions and actions with emit-receipt; every tool call here is also recorded in this session's trace.
When done, call bundle to build and sign a pack of the whole session, then verify-pack to check it.
Paths must be under the server's allowed roots.`

// cwd returns the working directory, or "." when it cannot be read.
func cwd() string {
	d, err := os.Getwd()
	if err != nil {
		return "."
	}
	return filepath.Clean(d)
}

func (s *Server) slog() *slog.Logger { return slog.New(zerolog.NewSlogHandler(s.log)) }

// lookupEnv returns the last value of key in env ("" when unset).
func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
