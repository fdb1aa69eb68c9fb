package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/otlpin"
)

// collectStart is the --json document `assay collect` prints once it
// listens.
type collectStart struct {
	URL      string   `json:"url"`
	Store    string   `json:"store"`
	TraceID  string   `json:"trace_id,omitempty"`
	Env      []string `json:"env"`
	Protocol string   `json:"protocol"`
	// GRPC is the OTLP/gRPC listen address (HOST:PORT) with --otlp-grpc.
	GRPC string `json:"grpc,omitempty"`
}

func init() {
	commands = append(commands, func() *cobra.Command {
		var addr, grpcAddr, traceID string
		var asJSON, content bool
		var maxBody int64
		c := &cobra.Command{
			Use:   "collect --otlp ADDR [--otlp-grpc ADDR]",
			Short: "Receive OpenTelemetry GenAI spans (OTLP/HTTP, OTLP/gRPC) and store them as receipts",
			Long: `Run an OTLP/HTTP receiver (POST /v1/traces; /v1/logs and /v1/metrics are accepted and dropped; protobuf or
JSON, optionally gzip) that turns OpenTelemetry GenAI spans into receipts
in the trace store: each inference span (gen_ai.operation.name chat,
text_completion or generate_content, or the legacy gen_ai.system and
llm.* names) becomes a model_call receipt, each execute_tool span a
capability_use receipt. Other spans are not receipts.

With --otlp-grpc it also serves OTLP/gRPC (TraceService, LogsService,
MetricsService; gzip accepted) on its own address, into the same store.

Point an OpenTelemetry Collector's otlp_http (or otlp) exporter (or an SDK's
OTEL_EXPORTER_OTLP_ENDPOINT) at it; docs/otel.md has the pipeline snippet.
Each OTel trace becomes the assay trace otel_<trace id> (or all go to
--trace); build a pack with 'assay proof-pack otel_<trace id>'. A span
delivered twice is stored once. Prompts and answers are hashed, never
stored unless --store-content.

The receiver has no authentication: keep it on loopback or behind the
Collector. SIGINT, SIGTERM and SIGHUP stop it after in-flight requests
are written.`,
			Example: `  assay collect --otlp 127.0.0.1:4318
  assay collect --otlp 127.0.0.1:14319 --trace fleet_20261206 --json
  assay collect --otlp 127.0.0.1:4318 --otlp-grpc 127.0.0.1:4317`,
			GroupID: "capture",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
				defer stop()
				if addr == "" {
					return exit.Bad("give the address to listen on, e.g. --otlp 127.0.0.1:4318", "no --otlp address")
				}
				if _, _, err := net.SplitHostPort(addr); err != nil {
					return exit.Bad("write it as HOST:PORT, e.g. --otlp 127.0.0.1:4318", "invalid --otlp address %q", addr)
				}
				if _, _, err := net.SplitHostPort(grpcAddr); grpcAddr != "" && err != nil {
					return exit.Bad("write it as HOST:PORT, e.g. --otlp-grpc 127.0.0.1:4317", "invalid --otlp-grpc address %q", grpcAddr)
				}
				if maxBody <= 0 {
					return exit.Bad("give a positive byte count", "invalid --max-body-bytes %d", maxBody)
				}
				st, err := envOf(cmd).OpenStore()
				if err != nil {
					return err
				}
				if err := storeWritable(st.Home); err != nil {
					return exit.Bad("point ASSAY_HOME at a writable directory", "the receipt store %s cannot be written: %v", st.Home, err)
				}
				sink, err := otlpin.NewSink(st, traceID)
				if err != nil {
					return err
				}
				lg := *logOf(cmd)
				srv, err := otlpin.Start(ctx, addr, otlpin.ServerOptions{
					Sink: sink, MaxBodyBytes: maxBody, Logger: &lg,
					Convert: otlpin.Options{StoreContent: content || capture.StoreContentFromEnv()},
				})
				if err != nil {
					return exit.Bad("choose a free address for --otlp", "cannot listen on %s: %v", addr, err)
				}
				var gsrv *otlpin.GRPCServer
				if grpcAddr != "" {
					// The same handler: one sink, one set of counters.
					if gsrv, err = otlpin.StartGRPC(ctx, grpcAddr, srv.Handler); err != nil {
						_ = srv.Close()
						return exit.Bad("choose a free address for --otlp-grpc", "cannot listen on %s: %v", grpcAddr, err)
					}
				}
				closeAll := func() error {
					var gerr error
					if gsrv != nil {
						gerr = gsrv.Close()
					}
					if err := srv.Close(); err != nil {
						return err
					}
					return gerr
				}
				env := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL(), "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"}
				out := cmd.OutOrStdout()
				if asJSON {
					doc := collectStart{URL: srv.URL(), Store: st.Home, TraceID: traceID, Env: env, Protocol: "http/protobuf"}
					if gsrv != nil {
						doc.GRPC = gsrv.Addr()
					}
					if err := writeJSON(out, doc); err != nil {
						_ = closeAll()
						return err
					}
				} else {
					for _, kv := range env {
						fmt.Fprintf(out, "export %s\n", kv)
					}
				}
				errw := cmd.ErrOrStderr()
				fmt.Fprintf(errw, "assay collect: OTLP/HTTP on %s (/v1/traces, /v1/logs), store %s\n", srv.URL(), st.Home)
				var gdone <-chan struct{}
				if gsrv != nil {
					gdone = gsrv.Done()
					fmt.Fprintf(errw, "assay collect: OTLP/gRPC on %s\n", gsrv.Addr())
				}
				fmt.Fprintln(errw, "assay collect: press Ctrl-C to stop")
				select {
				case <-ctx.Done():
				case <-srv.Done():
				case <-gdone:
				}
				cerr := closeAll()
				s := srv.Stats()
				fmt.Fprintf(errw, "assay collect: %d requests (%d refused), %d spans, %d receipts written, %d duplicates dropped, %d store failures\n",
					s.Requests, s.Rejected, s.Spans, s.Receipts, s.Duplicates, s.StoreFails)
				traces := sink.Written()
				names := make([]string, 0, len(traces))
				for t := range traces {
					names = append(names, t)
				}
				sort.Strings(names)
				for _, t := range names {
					fmt.Fprintf(errw, "assay collect: trace %s: %d receipts; next: assay proof-pack %s\n", t, traces[t], t)
				}
				if cerr != nil {
					return exit.New(exit.HonestFail, "", "the receiver stopped: %v", cerr)
				}
				if s.StoreFails > 0 {
					return exit.New(exit.HonestFail, "check the store directory's permissions and free space", "%d requests could not be written to the store (the exporters were told to retry)", s.StoreFails)
				}
				return nil
			},
		}
		f := c.Flags()
		f.StringVar(&addr, "otlp", "", "OTLP/HTTP listen address HOST:PORT (port 0 picks a free one)")
		f.StringVar(&grpcAddr, "otlp-grpc", "", "also serve OTLP/gRPC on HOST:PORT (port 0 picks a free one)")
		f.StringVar(&traceID, "trace", "", "record every span into this one trace (default: one trace per OTel trace, otel_<trace id>)")
		f.BoolVar(&asJSON, "json", false, "print the URL and environment as one JSON document")
		f.BoolVar(&content, "store-content", false, "also store the messages spans carry (default: hashes only; or ASSAY_STORE_CONTENT=1)")
		f.Int64Var(&maxBody, "max-body-bytes", otlpin.DefaultMaxBodyBytes, "largest request body accepted, after decompression (413 above)")
		return c
	})
}
