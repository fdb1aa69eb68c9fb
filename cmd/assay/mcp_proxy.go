package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/mcpproxy"
	"github.com/assay-dev/assay/core/runner"
	"github.com/assay-dev/assay/core/store"
)

// stdoutIsProtocol marks a command whose stdout is a protocol stream: its
// --json error documents go to stderr (see run in root.go).
const stdoutIsProtocol = "stdout-protocol"

type mcpProxyOptions struct {
	auditDir, serverID, policyPath, upstreamURL string
	upstreamHeaders                             []string
	storeArgs, storeResults, noAutoPack, asJSON bool
	callTimeout, grace                          time.Duration
	maxMessage, maxServerMessage                int
	otlpEndpoint                                string
}

func init() { commands = append(commands, newMCPProxyCmd) }

func newMCPProxyCmd() *cobra.Command {
	var o mcpProxyOptions
	c := &cobra.Command{
		Use:         "mcp-proxy [flags] -- SERVER_CMD [ARGS...]",
		Short:       "Notarise an MCP server: check and forward every message, receipt every tool call, pack the session",
		GroupID:     "capture",
		Annotations: map[string]string{stdoutIsProtocol: "true"},
		Long: `Sits between an MCP client and an MCP server, checks every message and
forwards what it checked (re-encoded; member names are read exactly), records
one mcp_tool_call receipt per tools/call (arguments and results hashed;
cleartext only with --store-args/--store-results), applies an optional policy
(assay mcp policy init), and when the session ends writes the session file and
a signed proof pack under --audit-dir.

A message that is not one exact JSON-RPC message (duplicate or case-variant
members, unknown members, a batch, two messages in one frame, a line or frame
over --max-message-bytes) and a tools/call before initialize are refused: the
client gets a JSON-RPC error, the server sees nothing, and each refused
tools/call gets a receipt (outcome denied) naming the tool it asked for.

The server is a stdio command (after --), or a streamable-HTTP server given
with --upstream-url, exposed to the client over stdio. stdout carries only
the protocol; everything else goes to stderr.

A session is complete when every forwarded call was answered, the server
ended normally and every receipt was written. An incomplete session (server
crash, timeout, garbage output, client gone mid-call, interrupt) is still
packed, its session_metadata receipt says so, and the proxy exits 1.

Exit codes: 0 complete session; 1 incomplete session or evidence that could
not be written; 3 bad input (flags, policy, server command not found).`,
		Example: `  assay mcp-proxy -- python my_server.py
  assay mcp-proxy --policy assay.mcp-policy.yaml --server-id files -- npx -y @modelcontextprotocol/server-filesystem .
  assay mcp-proxy --upstream-url http://127.0.0.1:8080/mcp

  MCP client config:  "command": "assay", "args": ["mcp-proxy", "--policy", "assay.mcp-policy.yaml", "--", "python", "my_server.py"]`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMCPProxy(cmd, o, args)
		},
	}
	f := c.Flags()
	f.StringVar(&o.auditDir, "audit-dir", ".assay/mcp", "directory for session files (receipts/) and packs (packs/); the policy's audit_dir applies when this flag is not given")
	f.StringVar(&o.serverID, "server-id", "", "name of the server in receipts (default: the policy's server_id, else the command's or URL host's name)")
	f.StringVar(&o.policyPath, "policy", "", "policy file (assay.mcp-policy.yaml); loaded and checked before the server starts")
	f.BoolVar(&o.storeArgs, "store-args", false, "keep tool arguments in cleartext in receipts (default: hash only; the policy's store_args applies when this flag is not given)")
	f.BoolVar(&o.storeResults, "store-results", false, "keep tool results in cleartext in receipts (default: hash only; the policy's store_results applies when this flag is not given)")
	f.StringVar(&o.otlpEndpoint, "otlp-endpoint", "", otlpEndpointUsage)
	f.BoolVar(&o.noAutoPack, "no-auto-pack", false, "do not build a pack when the session ends (build it later with assay proof-pack TRACE_ID)")
	f.DurationVar(&o.callTimeout, "call-timeout", 0, "answer a tool call with an error and record outcome timeout when the server has not responded within this time (e.g. 30s; 0 = no limit)")
	f.DurationVar(&o.grace, "shutdown-grace", 5*time.Second, "how long the server gets to finish after the client closes, before it is terminated")
	f.StringVar(&o.upstreamURL, "upstream-url", "", "proxy a streamable-HTTP MCP server at this URL instead of a stdio command")
	f.StringArrayVar(&o.upstreamHeaders, "upstream-header", nil, `extra HTTP header for --upstream-url, "Name: value" (repeatable; values are never logged or recorded)`)
	f.IntVar(&o.maxMessage, "max-message-bytes", mcpproxy.DefaultMaxMessage, "largest line or Content-Length frame accepted from the client; a longer one is refused with an error (and a receipt), not buffered")
	f.IntVar(&o.maxServerMessage, "max-server-message-bytes", mcpproxy.DefaultMaxServerMessage, "largest line or frame accepted from a stdio server (results are larger than requests); a longer one is dropped, not buffered")
	f.BoolVar(&o.asJSON, "json", false, "write the end-of-session report as one JSON document on stderr (stdout is the protocol), and logs as JSON lines")
	return c
}

func runMCPProxy(cmd *cobra.Command, o mcpProxyOptions, args []string) error {
	stderr := cmd.ErrOrStderr()
	logger := log
	if o.asJSON {
		logger = zerolog.New(stderr).Level(log.GetLevel()).With().Timestamp().Logger()
	}
	logger = logger.With().Str("component", "mcp-proxy").Logger()

	// Everything is checked before the server starts.
	argv := args
	if dash := cmd.ArgsLenAtDash(); dash > 0 {
		return exit.Bad("put the server command after --: assay mcp-proxy [flags] -- SERVER_CMD [ARGS...]", "unexpected argument %q before --", args[0])
	}
	switch {
	case o.upstreamURL != "" && len(argv) > 0:
		return exit.Bad("give either --upstream-url or a server command after --, not both", "both --upstream-url and a server command were given")
	case o.upstreamURL == "" && len(argv) == 0:
		return exit.Bad("put the server command after --, e.g. assay mcp-proxy -- python my_server.py (or use --upstream-url URL)", "no MCP server to proxy")
	}
	if o.callTimeout < 0 {
		return exit.Bad("use a positive duration such as 30s, or 0 for no limit", "--call-timeout: %s is negative", o.callTimeout)
	}
	if o.grace <= 0 {
		return exit.Bad("use a positive duration such as 5s", "--shutdown-grace: %s is not positive", o.grace)
	}
	if o.maxServerMessage < 1024 {
		return exit.Bad("use at least 1024 (the default is 67108864, 64 MiB)", "--max-server-message-bytes: %d is too small", o.maxServerMessage)
	}
	if o.maxMessage < 1024 {
		return exit.Bad("use at least 1024 (the default is 16777216, 16 MiB)", "--max-message-bytes: %d is too small", o.maxMessage)
	}
	var pol *mcppolicy.Policy
	if cmd.Flags().Changed("policy") {
		if o.policyPath == "" {
			return exit.Bad("give the policy file's path, or drop --policy", "--policy is empty")
		}
		p, err := mcppolicy.Load(o.policyPath)
		if err != nil {
			return err
		}
		pol = p
	}
	header := http.Header{}
	for i, h := range o.upstreamHeaders {
		name, val, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
			// Nothing of it is echoed: it may hold a credential.
			return exit.Bad(`write it as "Name: value"`, "--upstream-header number %d is not a header (its text is not shown)", i+1)
		}
		header.Add(strings.TrimSpace(name), strings.TrimSpace(val))
	}
	if len(o.upstreamHeaders) > 0 && o.upstreamURL == "" {
		return exit.Bad("use --upstream-header only with --upstream-url", "--upstream-header without --upstream-url")
	}

	// Settings: an explicit flag wins, then the policy file, then the default
	// (the reference let the policy override even explicit flags).
	fl := cmd.Flags()
	auditDir := o.auditDir
	if !fl.Changed("audit-dir") && pol != nil && pol.AuditDir != "" {
		auditDir = pol.AuditDir
	}
	if auditDir == "" {
		return exit.Bad("give a directory, or drop --audit-dir for .assay/mcp", "--audit-dir is empty")
	}
	storeArgs := flagOrPolicy(fl.Changed("store-args"), o.storeArgs, pol, func(p *mcppolicy.Policy) *bool { return p.StoreArgs })
	storeResults := flagOrPolicy(fl.Changed("store-results"), o.storeResults, pol, func(p *mcppolicy.Policy) *bool { return p.StoreResults })
	autoPack := !flagOrPolicy(fl.Changed("no-auto-pack"), o.noAutoPack, pol, func(p *mcppolicy.Policy) *bool {
		if p.AutoPack == nil {
			return nil
		}
		v := !*p.AutoPack
		return &v
	})
	serverID := o.serverID
	if serverID == "" && pol != nil {
		serverID = pol.ServerID
	}
	if serverID == "" {
		serverID = defaultServerID(argv, o.upstreamURL)
	}

	st, err := store.OpenDefault()
	if err != nil {
		return err
	}
	// Receipts that cannot be written are evidence lost: refuse to start
	// rather than run a session that records nothing.
	if err := probeWritable(st.Home); err != nil {
		return exit.Bad("point "+store.EnvHome+" at a writable directory (or unset it for ~/.assay)", "the receipt store %s is not writable: %v", st.Home, err)
	}
	if err := os.MkdirAll(auditDir, 0o755); err != nil {
		return exit.Bad("choose a writable --audit-dir", "cannot create the audit directory %s: %v", auditDir, err)
	}
	stopExport, err := startLiveExport(context.Background(), st, o.otlpEndpoint, cmd.ErrOrStderr(), "assay mcp-proxy")
	if err != nil {
		return err
	}
	defer stopExport()
	sessionID := mcpproxy.NewSessionID()
	traceID := mcpproxy.NewTraceID(sessionID, time.Now())
	joined := false
	if t := os.Getenv(store.EnvTrace); t != "" {
		if err := store.ValidTraceID(t); err != nil {
			return exit.Bad("unset "+store.EnvTrace+" or give it a valid trace id", "%s: %v", store.EnvTrace, err)
		}
		// Under `assay run` (or any owner of a trace) the session joins
		// that trace; its owner builds the pack.
		traceID, joined = t, true
	}
	var signer *keys.Signer
	if autoPack && !joined {
		s, made, err := keys.Open(st.Home).ActiveSigner(true)
		if err != nil {
			return err
		}
		if made {
			logger.Info().Str("signer", s.ID).Msg("generated a signing key")
		}
		signer = s
	}

	var up mcpproxy.Upstream
	var serverLog *jsonLines // --json: the server's stderr as JSON lines
	if o.upstreamURL != "" {
		h, err := mcpproxy.NewHTTPUpstream(o.upstreamURL, mcpproxy.HTTPOptions{Header: header, Logger: &logger})
		if err != nil {
			return err
		}
		up = h
	} else {
		env := append(withoutEnv(os.Environ(), store.EnvTrace), store.EnvTrace+"="+traceID)
		var serverStderr io.Writer = stderr
		if o.asJSON {
			// --json: stderr carries JSON lines only, the server's too.
			serverLog = &jsonLines{log: logger.With().Str("source", "mcp-server-stderr").Logger()}
			defer serverLog.Flush()
			serverStderr = serverLog
		}
		s, err := mcpproxy.StartStdio(mcpproxy.StdioOptions{Argv: argv, Env: env, Stderr: serverStderr, MaxMessage: o.maxServerMessage})
		if err != nil {
			if errors.Is(err, runner.ErrNotFound) {
				return exit.Bad("check the server command after -- (is it installed and on PATH?)", "cannot start the MCP server: %v", err)
			}
			return fmt.Errorf("start the MCP server: %w", err)
		}
		up = s
	}

	// The signal context stays until the pack is written: a SIGTERM from a
	// client that closed us must hurry the shutdown, not kill the process.
	// A client that closes our stdout or stderr early must not kill us with
	// SIGPIPE either: writes fail instead, and the evidence is still packed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	signal.Ignore(syscall.SIGPIPE)
	defer signal.Reset(syscall.SIGPIPE)
	logger.Debug().Str("trace_id", traceID).Str("server_id", serverID).Msg("proxy started")
	sess, err := mcpproxy.Run(ctx, mcpproxy.Options{
		Upstream: up, Client: cmd.InOrStdin(), ClientOut: cmd.OutOrStdout(),
		Store: st, TraceID: traceID, SessionID: sessionID, ServerID: serverID,
		Policy: pol, StoreArgs: storeArgs, StoreResults: storeResults,
		CallTimeout: o.callTimeout, Grace: o.grace, Logger: &logger, MaxMessage: o.maxMessage,
	})
	if err != nil {
		return err
	}

	rep := &mcpproxy.Report{Command: "mcp-proxy", Status: "complete", Session: sess}
	if !sess.Complete {
		rep.Status = "incomplete"
	}
	mode := "shadow"
	if pol != nil && pol.Enforce() {
		mode = "enforced"
	}
	switch {
	case joined:
		rep.PackNote = "joined trace " + traceID + " from " + store.EnvTrace + "; its owner builds the pack"
		signer = nil
	case !autoPack:
		rep.PackNote = "auto-pack is off; build it with: assay proof-pack " + traceID
	case sess.Complete && sess.ToolCalls == 0:
		rep.PackNote = "no tool calls in this session; no pack built"
		signer = nil
	}
	art, ferr := mcpproxy.Finish(st, sess, auditDir, signer, mode)
	rep.Artifacts = art
	code := exit.OK
	if !sess.Complete || sess.EvidenceLost > 0 {
		code = exit.HonestFail
	}
	if art != nil && art.Unreadable > 0 {
		// The pack is honest about what it holds, but not the whole trace.
		code = exit.HonestFail
		logger.Error().Int("lines", art.Unreadable).Str("trace_id", traceID).Msg("EVIDENCE LEFT OUT: trace lines that are not receipts could not be packed")
	}
	if ferr != nil {
		code = exit.HonestFail
		rep.Error = ferr.Error()
		msg := "EVIDENCE NOT PACKED: the session's receipts are in the store; build the pack with assay proof-pack " + traceID
		if sess.EvidenceLost > 0 {
			msg = fmt.Sprintf("EVIDENCE NOT PACKED: %d receipt(s) of this session could not be written and no pack was built", sess.EvidenceLost)
		}
		logger.Error().Err(ferr).Str("trace_id", traceID).Msg(msg)
	}
	rep.ExitCode = code
	if serverLog != nil {
		serverLog.Flush() // the server has ended: its last line goes before the report
	}
	if o.asJSON {
		_ = writeJSON(stderr, rep)
	} else {
		renderMCPSession(stderr, rep)
	}
	if code != exit.OK {
		return exit.Silent{Code: code}
	}
	return nil
}

// flagOrPolicy resolves a boolean setting: an explicit flag, else the
// policy's value when it has one, else the flag's default.
func flagOrPolicy(changed, flag bool, pol *mcppolicy.Policy, get func(*mcppolicy.Policy) *bool) bool {
	if changed || pol == nil {
		return flag
	}
	if v := get(pol); v != nil {
		return *v
	}
	return flag
}

// defaultServerID names the server after its command (the script when the
// command is an interpreter) or the URL's host.
func defaultServerID(argv []string, url string) string {
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

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// renderMCPSession prints the end-of-session summary (to stderr).
func renderMCPSession(w io.Writer, r *mcpproxy.Report) {
	s := r.Session
	st := newStyle(w)
	head := st.Green("session complete")
	if !s.Complete {
		head = st.Red("session INCOMPLETE")
	}
	fmt.Fprintf(w, "assay mcp-proxy: %s: %d tool call(s) (%s), server %s\n", head, s.ToolCalls, s.DescribeOutcomes(), s.ServerExit.Detail)
	for _, why := range s.Incomplete {
		fmt.Fprintf(w, "  - %s\n", why)
	}
	if s.WouldDeny > 0 {
		fmt.Fprintf(w, "  audit mode: %d call(s) would have been denied by the policy\n", s.WouldDeny)
	}
	if a := r.Artifacts; a != nil {
		if a.SessionFile != "" {
			fmt.Fprintf(w, "  session file: %s\n", a.SessionFile)
		}
		if a.Pack != nil {
			mark := ""
			if !s.Complete {
				mark = " (its session_metadata receipt marks the session incomplete)"
			}
			fmt.Fprintf(w, "  pack: %s, %d receipts, signed by %s%s\n  check it: assay verify-pack %s\n", a.Pack.Dir, a.Pack.NReceipts, a.Pack.SignerID, mark, a.Pack.Dir)
		}
	}
	if r.PackNote != "" {
		fmt.Fprintf(w, "  %s\n", r.PackNote)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  %s\n", st.Red("error: "+r.Error))
	}
}

// probeWritable checks that files can be created in dir (made if missing).
func probeWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// jsonLines turns the server's stderr into JSON log lines, one per line of
// text, so that --json keeps stderr pure JSON.
type jsonLines struct {
	log zerolog.Logger
	mu  sync.Mutex
	buf []byte
}

func (j *jsonLines) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			break
		}
		j.emit(j.buf[:i])
		j.buf = j.buf[i+1:]
	}
	if len(j.buf) > 64<<10 { // a very long line is cut, not buffered for ever
		j.emit(j.buf)
		j.buf = nil
	}
	return len(p), nil
}

// Flush emits a last line that had no newline.
func (j *jsonLines) Flush() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.buf) > 0 {
		j.emit(j.buf)
		j.buf = nil
	}
}

func (j *jsonLines) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) > 0 {
		j.log.Log().Msg(string(line)) // no level: shown whatever --log-level, as without --json
	}
}
