package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
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
	f.StringVar(&o.auditDir, "audit-dir", mcpproxy.DefaultAuditDir, "directory for session files (receipts/) and packs (packs/); the policy's audit_dir applies when this flag is not given")
	f.StringVar(&o.serverID, "server-id", "", "name of the server in receipts (default: the policy's server_id, else the command's or URL host's name)")
	f.StringVar(&o.policyPath, "policy", "", "policy file (assay.mcp-policy.yaml); loaded and checked before the server starts")
	f.BoolVar(&o.storeArgs, "store-args", false, "keep tool arguments in cleartext in receipts (default: hash only; the policy's store_args applies when this flag is not given)")
	f.BoolVar(&o.storeResults, "store-results", false, "keep tool results in cleartext in receipts (default: hash only; the policy's store_results applies when this flag is not given)")
	f.StringVar(&o.otlpEndpoint, "otlp-endpoint", "", otlpEndpointUsage)
	f.BoolVar(&o.noAutoPack, "no-auto-pack", false, "do not build a pack when the session ends (build it later with assay proof-pack TRACE_ID)")
	f.DurationVar(&o.callTimeout, "call-timeout", 0, "answer a tool call with an error and record outcome timeout when the server has not responded within this time (e.g. 30s; 0 = no limit)")
	f.DurationVar(&o.grace, "shutdown-grace", mcpproxy.DefaultGrace, "how long the server gets to finish after the client closes, before it is terminated")
	f.StringVar(&o.upstreamURL, "upstream-url", "", "proxy a streamable-HTTP MCP server at this URL instead of a stdio command")
	f.StringArrayVar(&o.upstreamHeaders, "upstream-header", nil, `extra HTTP header for --upstream-url, "Name: value" (repeatable; values are never logged or recorded)`)
	f.IntVar(&o.maxMessage, "max-message-bytes", mcpproxy.DefaultMaxMessage, "largest line or Content-Length frame accepted from the client; a longer one is refused with an error (and a receipt), not buffered")
	f.IntVar(&o.maxServerMessage, "max-server-message-bytes", mcpproxy.DefaultMaxServerMessage, "largest line or frame accepted from a stdio server (results are larger than requests); a longer one is dropped, not buffered")
	f.BoolVar(&o.asJSON, "json", false, "write the end-of-session report as one JSON document on stderr (stdout is the protocol), and logs as JSON lines")
	return c
}

func runMCPProxy(cmd *cobra.Command, o mcpProxyOptions, args []string) error {
	stderr := cmd.ErrOrStderr()
	env := envOf(cmd)
	logger := *logOf(cmd)
	if o.asJSON {
		logger = zerolog.New(stderr).Level(logOf(cmd).GetLevel()).With().Timestamp().Logger()
	}
	logger = logger.With().Str("component", "mcp-proxy").Logger()

	// Everything is checked before the server starts.
	if dash := cmd.ArgsLenAtDash(); dash > 0 {
		return exit.Bad("put the server command after --: assay mcp-proxy [flags] -- SERVER_CMD [ARGS...]", "unexpected argument %q before --", args[0])
	}
	argv := args
	fl := cmd.Flags()
	req := mcpproxy.SettingsRequest{
		Argv: argv, UpstreamURL: o.upstreamURL, Headers: o.upstreamHeaders, ServerID: o.serverID,
		CallTimeout: o.callTimeout, Grace: o.grace, MaxMessage: o.maxMessage, MaxServerMessage: o.maxServerMessage,
		Getenv: env.Getenv,
	}
	if fl.Changed("policy") {
		req.PolicyPath = &o.policyPath
	}
	if fl.Changed("audit-dir") {
		req.AuditDir = &o.auditDir
	}
	if fl.Changed("store-args") {
		req.StoreArgs = &o.storeArgs
	}
	if fl.Changed("store-results") {
		req.StoreResults = &o.storeResults
	}
	if fl.Changed("no-auto-pack") {
		req.NoAutoPack = &o.noAutoPack
	}
	set, err := mcpproxy.ResolveSettings(req)
	if err != nil {
		return err
	}

	st, err := env.OpenStore()
	if err != nil {
		return err
	}
	// Receipts that cannot be written are evidence lost: refuse to start
	// rather than run a session that records nothing.
	if err := probeWritable(st.Home); err != nil {
		return exit.Bad("point "+store.EnvHome+" at a writable directory (or unset it for ~/.assay)", "the receipt store %s is not writable: %v", st.Home, err)
	}
	if err := os.MkdirAll(set.AuditDir, 0o755); err != nil {
		return exit.Bad("choose a writable --audit-dir", "cannot create the audit directory %s: %v", set.AuditDir, err)
	}
	stopExport, err := startLiveExport(context.Background(), envOf(cmd).Getenv, st, o.otlpEndpoint, cmd.ErrOrStderr(), "assay mcp-proxy")
	if err != nil {
		return err
	}
	defer stopExport()
	sessionID := mcpproxy.NewSessionID()
	traceID := mcpproxy.NewTraceID(sessionID, time.Now())
	if set.JoinTrace != "" {
		traceID = set.JoinTrace
	}
	var signer *keys.Signer
	if set.NeedsSigner() {
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
		h, err := mcpproxy.NewHTTPUpstream(o.upstreamURL, mcpproxy.HTTPOptions{Header: set.Header, Logger: &logger})
		if err != nil {
			return err
		}
		up = h
	} else {
		env := runner.WithEnv(env.Vars, map[string]string{store.EnvTrace: traceID})
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
	logger.Debug().Str("trace_id", traceID).Str("server_id", set.ServerID).Msg("proxy started")
	sess, err := mcpproxy.Run(ctx, mcpproxy.Options{
		Upstream: up, Client: cmd.InOrStdin(), ClientOut: cmd.OutOrStdout(),
		Store: st, TraceID: traceID, SessionID: sessionID, ServerID: set.ServerID,
		Policy: set.Policy, StoreArgs: set.StoreArgs, StoreResults: set.StoreResults,
		CallTimeout: o.callTimeout, Grace: o.grace, Logger: &logger, MaxMessage: o.maxMessage,
	})
	if err != nil {
		return err
	}

	rep, ferr := mcpproxy.Conclude(st, sess, set, signer)
	if art := rep.Artifacts; art != nil && art.Unreadable > 0 {
		logger.Error().Int("lines", art.Unreadable).Str("trace_id", traceID).Msg("EVIDENCE LEFT OUT: trace lines that are not receipts could not be packed")
	}
	if ferr != nil {
		msg := "EVIDENCE NOT PACKED: the session's receipts are in the store; build the pack with assay proof-pack " + traceID
		if sess.EvidenceLost > 0 {
			msg = fmt.Sprintf("EVIDENCE NOT PACKED: %d receipt(s) of this session could not be written and no pack was built", sess.EvidenceLost)
		}
		logger.Error().Err(ferr).Str("trace_id", traceID).Msg(msg)
	}
	if serverLog != nil {
		serverLog.Flush() // the server has ended: its last line goes before the report
	}
	if o.asJSON {
		_ = writeJSON(stderr, rep)
	} else {
		renderMCPSession(stderr, rep)
	}
	if rep.ExitCode != exit.OK {
		return exit.Silent{Code: rep.ExitCode}
	}
	return nil
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
