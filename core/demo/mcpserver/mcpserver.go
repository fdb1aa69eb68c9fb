// Package mcpserver is a small synthetic MCP server (mcp-go, stdio) behind
// `assay try-mcp` and the MCP proxy's tests. Its demo tools return
// deterministic, made-up data and never touch the network or the clock;
// record_action shows a server's own receipts joining the proxy's trace.
// With Options.Faults it also offers fault-injection tools (echo, fail,
// slow, hang, crash, garbage) so tests can make a real server misbehave.
//
// stdout is the protocol: the server logs to the given logger only.
package mcpserver

import (
	"context"
	"errors"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/mcpdrain"
	"github.com/assay-dev/assay/core/version"
)

// Name is the server name reported in the MCP handshake.
const Name = "assay-demo-mcp-server"

// IntegrationSource marks the receipts record_action writes.
const IntegrationSource = "assay.demo_mcp_server"

// Options configure the server.
type Options struct {
	Faults bool            // also register the fault-injection tools (tests only)
	Exit   func(code int)  // how `crash` ends the process; default os.Exit
	Logger *zerolog.Logger // stderr only; nil = silent
}

// env is what the tool handlers share beyond the options.
type env struct {
	opts Options
	log  zerolog.Logger
	// out is the protocol stream the garbage tool writes its line to.
	out io.Writer
	// life ends when the server is shutting down: it releases hang and slow,
	// which deliberately ignore the request context (stdin EOF cancels it).
	life context.Context
}

// New builds the server. Its garbage tool writes to os.Stdout, which is
// where server.ServeStdio writes too (an *os.File serialises whole Write
// calls); use Serve to run it on other streams.
func New(opts Options) *server.MCPServer {
	return build(opts, os.Stdout, context.Background())
}

// drainGrace is how long EOF waits without any response being written: a
// hang call cannot keep stdin open for ever (Listen itself then keeps the
// process alive while a handler runs).
const drainGrace = 10 * time.Second

// Serve runs the server on newline-delimited JSON-RPC over in/out until in
// reaches EOF or ctx ends; both are a normal end (nil). Every request read
// before EOF is answered first (core/mcpdrain). While a hang call is in
// flight, EOF alone does not end it: only ctx does (or killing the process),
// which is what the proxy's fault tests rely on.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	// The drain is both streams: EOF waits for the answers (see
	// core/mcpdrain), and it serialises whole Write calls. mcp-go's stdio
	// server writes each message with one Write, and garbage writes its
	// line with one Write too, so no line on the stream can be cut by
	// another.
	d := mcpdrain.New(ctx, in, out, mcpdrain.Options{Idle: drainGrace})
	s := build(opts, d, ctx)
	ss := server.NewStdioServer(s)
	ss.SetErrorLogger(stdlog.New(logWriter(opts), "", 0))
	err := ss.Listen(ctx, d, d)
	if ctx.Err() != nil && (err == nil || errors.Is(err, ctx.Err())) {
		return nil
	}
	return err
}

func build(opts Options, out io.Writer, life context.Context) *server.MCPServer {
	if opts.Exit == nil {
		opts.Exit = os.Exit
	}
	zl := zerolog.Nop()
	if opts.Logger != nil {
		zl = opts.Logger.With().Str("svc", Name).Logger()
	}
	e := &env{opts: opts, log: zl, out: out, life: life}
	s := server.NewMCPServer(Name, version.Version,
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithInputSchemaValidation(),
		server.WithLogger(slog.New(zerolog.NewSlogHandler(zl))),
		server.WithInstructions("A synthetic demo server for assay: every result is made-up, deterministic data. "+
			"delete_records never deletes anything; record_action adds a receipt to the trace named by ASSAY_TRACE_ID."),
	)
	s.AddTools(e.demoTools()...)
	if opts.Faults {
		s.AddTools(e.faultTools()...)
	}
	return s
}

// logWriter is where mcp-go's stdio error logger writes: our logger, or
// nowhere when the server is silent.
func logWriter(opts Options) io.Writer {
	if opts.Logger == nil {
		return io.Discard
	}
	return opts.Logger.With().Str("svc", Name).Str("from", "mcp-go stdio").Logger()
}
