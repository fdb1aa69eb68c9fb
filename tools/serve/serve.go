// Package serve is the command line of the assay MCP server, shared by the
// assay-mcp binary and `assay mcp serve`: flags, logging to stderr, the
// stdio and streamable HTTP transports, and shutdown on a signal.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/mcpdrain"
	"github.com/assay-dev/assay/core/otlpout"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/tools"
)

// EnvToken is the environment variable holding the HTTP bearer token.
const EnvToken = "ASSAY_MCP_TOKEN"

// Options are the command's flags.
type Options struct {
	HTTP           string
	Roots          []string
	AllowExec      bool
	NoRecord       bool
	StoreArgs      bool
	StoreResults   bool
	Token          string
	AllowedOrigins []string
	MaxBody        string
	TraceID        string
	LogLevel       string
	LogFormat      string
	LogFile        string
	// MaxMessage bounds one stdio line (0: DefaultMaxMessage, 16 MiB).
	MaxMessage int
	// Env is the server's environment (KEY=VALUE lines): the default token
	// ($ASSAY_MCP_TOKEN) and trace ($ASSAY_TRACE_ID), the assay home, and
	// the environment of the steps run-flow runs. nil means this process's.
	Env []string
	// OTLPEndpoint sends each receipt as a span, live (core/otlpout); the
	// OTEL_EXPORTER_OTLP_* variables do the same when it is empty.
	OTLPEndpoint string
	// OnListen, when set, is called with the endpoint URL once the HTTP
	// listener is bound (tests and scripts use it with port 0).
	OnListen func(url string)
}

// Command returns the serve command; use is its cobra Use line. It speaks
// on the command's own stdin/stdout and logs to its stderr, in the
// process's environment.
func Command(use string) *cobra.Command { return CommandIn(use, nil) }

// CommandIn is Command with the environment env returns for the command
// being run (nil: the process's, read when it runs).
func CommandIn(use string, env func(*cobra.Command) []string) *cobra.Command {
	var o Options
	c := &cobra.Command{
		Use:   use,
		Short: "Serve assay's MCP tools (stdio by default, streamable HTTP with --http)",
		Long: `Serve assay's MCP tools to an agent: scan, emit-receipt, run-flow, verify-pack,
explain-pack, diff-packs and bundle. Every tool call is recorded as an
mcp_tool_call receipt in the session's trace, so bundle yields a signed pack
of the agent's whole session.

stdio (the default) keeps stdout for protocol frames; logs go to stderr.
--http ADDR serves streamable HTTP at http://ADDR/mcp; it binds 127.0.0.1
unless told otherwise, refuses foreign Origins (403) and needs a bearer token
(--token or ` + EnvToken + `) on any non-loopback address (401 without it).`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if env != nil {
				o.Env = env(cmd)
			}
			if o.Env == nil {
				o.Env = os.Environ()
			}
			if o.Token == "" {
				o.Token = lookupEnv(o.Env, EnvToken)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			return Run(ctx, o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&o.HTTP, "http", "", "serve streamable HTTP on ADDR (host:port; :port or port alone bind 127.0.0.1) instead of stdio")
	f.StringArrayVar(&o.Roots, "root", nil, "allowed directory for path arguments (repeatable; default: the working directory, or over stdio the client's MCP roots)")
	f.BoolVar(&o.AllowExec, "allow-exec", false, "allow tools that execute commands (run-flow with apply)")
	f.BoolVar(&o.NoRecord, "no-record", false, "do not record an mcp_tool_call receipt for each tool call")
	f.BoolVar(&o.StoreArgs, "store-args", false, "keep each call's arguments in its receipt (default: only their hash)")
	f.BoolVar(&o.StoreResults, "store-results", false, "keep each call's result in its receipt (default: only its hash)")
	f.StringVar(&o.Token, "token", "", "bearer token HTTP clients must send (default $"+EnvToken+"); required on non-loopback addresses")
	f.StringArrayVar(&o.AllowedOrigins, "allowed-origin", nil, "extra browser Origin allowed over HTTP, e.g. https://app.example (repeatable)")
	f.StringVar(&o.MaxBody, "max-body", "4MiB", "largest HTTP request body accepted (bytes, or with KiB/MiB); larger ones get 413")
	f.StringVar(&o.TraceID, "trace-id", "", "trace to record the session in (default $ASSAY_TRACE_ID, else a new mcp_mcp_… id)")
	f.StringVar(&o.LogLevel, "log-level", "info", "log verbosity on stderr: debug, info, warn or error")
	f.StringVar(&o.LogFormat, "log-format", "json", "log format on stderr: json or console")
	f.IntVar(&o.MaxMessage, "max-message-bytes", DefaultMaxMessage, "largest stdio line accepted; a longer one is refused with a JSON-RPC error, not buffered")
	f.StringVar(&o.OTLPEndpoint, "otlp-endpoint", "", "also send each receipt as a span to this OTLP/HTTP base URL (or set OTEL_EXPORTER_OTLP_ENDPOINT; /v1/traces is appended)")
	f.StringVar(&o.LogFile, "log-file", "", "append logs to this file instead of stderr (for clients that discard stderr)")
	return c
}

// Run serves until ctx ends, stdin closes (stdio) or the listener fails.
func Run(ctx context.Context, o Options, stdin io.Reader, stdout, stderr io.Writer) error {
	lvl, err := zerolog.ParseLevel(o.LogLevel)
	if err != nil || o.LogLevel == "" {
		return exit.Bad("use one of debug, info, warn, error", "unknown --log-level %q", o.LogLevel)
	}
	var w io.Writer = stderr
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return exit.Bad("pass a writable --log-file path", "cannot open log file: %v", err)
		}
		defer f.Close()
		w = f
	}
	switch o.LogFormat {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, NoColor: true}
	default:
		return exit.Bad("use json or console", "unknown --log-format %q", o.LogFormat)
	}
	zl := zerolog.New(w).Level(lvl).With().Timestamp().Logger()
	// Anything using the standard log package also goes to stderr.
	stdlog.SetFlags(0)
	stdlog.SetOutput(zl)
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.TraceID == "" {
		o.TraceID = lookupEnv(o.Env, "ASSAY_TRACE_ID")
	}
	transport := tools.TransportStdio
	if o.HTTP != "" {
		transport = tools.TransportHTTP
		// Refuse a bad address or a missing token before the server says
		// it is ready.
		_, host, err := ListenAddr(o.HTTP)
		if err != nil {
			return err
		}
		if !tools.IsLoopbackHost(host) && o.Token == "" {
			return exit.Bad("pass --token or set "+EnvToken+", or bind 127.0.0.1", "refusing to serve HTTP on non-loopback address %s without a bearer token", o.HTTP)
		}
	}
	var observer store.Observer
	if eo := (otlpout.Options{Endpoint: o.OTLPEndpoint, Getenv: func(k string) string { return lookupEnv(o.Env, k) }}); eo.Configured() {
		live, err := otlpout.StartLive(ctx, eo, otlpout.Context{})
		if err != nil {
			return err
		}
		defer func() {
			if err := live.Close(); err != nil {
				zl.Warn().Err(err).Msg("OTLP export (the receipts are in the store)")
			}
		}()
		observer = live.Receipt
	}
	srv, err := tools.New(tools.Config{
		Roots: o.Roots, AllowExec: o.AllowExec, NoRecord: o.NoRecord, TraceID: o.TraceID,
		StoreArgs: o.StoreArgs, StoreResults: o.StoreResults,
		Transport: transport, Log: zl, Env: o.Env, Observer: observer,
	})
	if err != nil {
		return exit.Bad("check --root, --trace-id and ASSAY_HOME", "%v", err)
	}
	if o.HTTP == "" {
		s := server.NewStdioServer(srv.MCP)
		s.SetErrorLogger(stdlog.New(zl, "", 0))
		// mcp-go reads only what core/jsonrpc checked (re-encoded); the
		// check answers what it refuses on the same, serialised stdout.
		out := &lockedWriter{w: stdout}
		in := newCheckedInput(stdin, out, o.MaxMessage, zl, func(id []byte, tool string, sent []byte, detail string) {
			if err := srv.RecordRefusal(id, tool, sent, detail); err != nil {
				zl.Error().Err(err).Msg("EVIDENCE LOST: the receipt of a refused call could not be written")
			}
		})
		// EOF waits for the answers (at most maxDrain): see core/mcpdrain.
		d := mcpdrain.New(ctx, in, out, mcpdrain.Options{Max: maxDrain})
		err := s.Listen(ctx, d, d)
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
			return exit.New(exit.BadInput, "", "stdio server: %v", err)
		}
		return nil
	}
	return serveHTTP(ctx, srv, o, zl)
}

// maxDrain bounds how long stdin's EOF waits for outstanding answers.
const maxDrain = 60 * time.Second

// ListenAddr normalises --http: ":8080" and "8080" bind 127.0.0.1:8080.
func ListenAddr(a string) (string, string, error) {
	if _, err := strconv.Atoi(a); err == nil {
		a = ":" + a
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", "", exit.Bad("use host:port, e.g. 127.0.0.1:8080 or :8080", "bad --http address %q: %v", a, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), host, nil
}

func serveHTTP(ctx context.Context, srv *tools.Server, o Options, zl zerolog.Logger) error {
	addr, host, err := ListenAddr(o.HTTP)
	if err != nil {
		return err
	}
	if !tools.IsLoopbackHost(host) && o.Token == "" {
		return exit.Bad("pass --token or set "+EnvToken+", or bind 127.0.0.1", "refusing to serve HTTP on non-loopback address %s without a bearer token", addr)
	}
	var maxBody int64
	if o.MaxBody != "" {
		if maxBody, err = tools.ParseSize(o.MaxBody); err != nil {
			return exit.Bad("e.g. --max-body 4MiB", "bad --max-body: %v", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return exit.Bad("choose another --http address", "cannot listen on %s: %v", addr, err)
	}
	hs := srv.NewHTTPServer(tools.HTTPOptions{Token: o.Token, AllowedOrigins: o.AllowedOrigins, MaxBody: maxBody}, stdlog.New(zl, "", 0))
	url := fmt.Sprintf("http://%s%s", ln.Addr(), tools.EndpointPath)
	zl.Info().Str("url", url).Bool("auth", o.Token != "").Msg("serving streamable HTTP")
	if o.OnListen != nil {
		o.OnListen(url)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		srv.EndHTTPSessions()
		return exit.New(exit.BadInput, "", "http server: %v", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		srv.EndHTTPSessions() // each live session's trace is packed
		return nil
	}
}

// lookupEnv returns the last value of key in env ("" when unset).
func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
