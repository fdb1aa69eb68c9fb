package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/otlpout"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/remote"
	"github.com/assay-dev/assay/core/store"
)

// exportResult is the --json document of `assay export otlp`.
type exportResult struct {
	Command      string   `json:"command"`
	Status       string   `json:"status"`
	Source       string   `json:"source"`
	TraceID      string   `json:"trace_id"`
	PackID       string   `json:"pack_id,omitempty"`
	Spans        int      `json:"spans"`
	Skipped      int      `json:"skipped"`
	OTelTraceIDs []string `json:"otel_trace_ids"`
	// RejectedSpans is the endpoint's OTLP partial success: spans it said
	// it refused although the request was accepted.
	RejectedSpans int64 `json:"rejected_spans,omitempty"`
}

func init() {
	commands = append(commands, func() *cobra.Command {
		parent := &cobra.Command{
			Use:     "export",
			Short:   "Send receipts to other systems (OpenTelemetry)",
			GroupID: "capture",
			Args:    cobra.NoArgs,
		}
		var endpoint, service string
		var asJSON, otlpJSON bool
		c := &cobra.Command{
			Use:   "otlp PACK|URL|TRACE",
			Short: "Send a pack's (or a trace's) receipts to an OTLP endpoint, one span each",
			Long: `Send every receipt of a pack directory (verified first: a pack that does not
verify is refused with exit 2) or of a stored trace to an OpenTelemetry
backend over OTLP/HTTP, one span per receipt: GenAI semantic-convention
attributes (semconv v1.41.0: gen_ai.operation.name, gen_ai.provider.name,
gen_ai.request.model, usage only when the provider reported it, finish
reasons, error status) plus assay.receipt_id, assay.trace_id,
assay.pack_id, assay.pack_root_sha256 and the content hashes, so a
dashboard leads to the signed receipt. Prompts and answers are never sent.

Span ids are derived from the receipt ids and the trace id from the run,
so exporting twice gives the same spans. The endpoint is --otlp-endpoint (a
base URL; /v1/traces is appended) or the standard OTEL_EXPORTER_OTLP_*
variables (endpoint, headers, protocol http/protobuf or http/json,
compression, certificates).

A pack published to object storage (s3://, gs://, azblob://, file://; see
docs/object-storage.md) is exported from its URL: streamed into a private
temporary directory, verified there the same way, and removed afterwards.`,
			Example: `  assay export otlp ./proof_pack_trace_20261206T100000_1a2b3c4d --otlp-endpoint http://127.0.0.1:4318
  assay export otlp s3://BUCKET/packs/run-1/ --otlp-endpoint http://127.0.0.1:4318
  OTEL_EXPORTER_OTLP_ENDPOINT=https://otlp.example.com OTEL_EXPORTER_OTLP_HEADERS=x-api-key=... assay export otlp otel_5b8efff798038103d269b633813fc60c`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				o := otlpout.Options{Endpoint: endpoint, Service: service, JSON: otlpJSON, Getenv: envOf(cmd).Getenv}
				if !o.Configured() {
					return exit.Bad("pass --otlp-endpoint URL or set OTEL_EXPORTER_OTLP_ENDPOINT", "no OTLP endpoint to export to")
				}
				if err := o.Check(); err != nil {
					return err
				}
				arg := args[0]
				var src otlpout.Source
				var err error
				kind := "pack"
				if blob.IsURL(arg) {
					if lower := strings.ToLower(strings.SplitN(arg, "?", 2)[0]); strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") {
						return exit.Bad("export the pack's prefix (s3://BUCKET/PREFIX/) instead", "%s is an audit bundle; export takes a pack", blob.Scrub(arg, nil))
					}
					src, err = remote.ExportSource(cmd.Context(), arg, blob.Options{Getenv: envOf(cmd).Getenv})
				} else if st, serr := os.Stat(arg); serr == nil && (st.IsDir() || pack.IsBundle(arg)) {
					if !st.IsDir() {
						return exit.Bad("extract the bundle first, or export the pack directory", "%s is an audit bundle; export takes a pack directory", arg)
					}
					src, err = otlpout.FromPack(arg)
				} else {
					kind = "trace"
					if store.ValidTraceID(arg) != nil {
						return exit.Bad("give a pack directory or a trace id", "%s is neither a pack directory nor a trace id", arg)
					}
					var s *store.Store
					if s, err = envOf(cmd).OpenStore(); err == nil {
						src, err = otlpout.FromTrace(s, arg)
					}
				}
				if err != nil {
					return err
				}
				defer src.Close()
				res, err := otlpout.Export(cmd.Context(), o, src.Context, src.Each)
				if err != nil {
					var xe *exit.Error
					if errors.As(err, &xe) {
						return err
					}
					return exit.New(exit.HonestFail, "check the endpoint is up and accepts OTLP/HTTP", "%d spans sent before the export failed: %v", res.Spans, err)
				}
				doc := exportResult{Command: "export otlp", Status: "ok", Source: kind, TraceID: src.Context.TraceID, PackID: src.Context.PackID,
					Spans: res.Spans, Skipped: res.Skipped, OTelTraceIDs: res.OTelTraceIDs, RejectedSpans: res.Rejected}
				if doc.OTelTraceIDs == nil {
					doc.OTelTraceIDs = []string{}
				}
				if res.Rejected > 0 || res.RejectedMessage != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "assay export: WARNING: the OTLP endpoint rejected %d of the spans (partial success): %s\n", res.Rejected, res.RejectedMessage)
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), doc)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "exported %d spans from %s %s (OTel trace %v)\n", res.Spans, kind, arg, res.OTelTraceIDs)
				if res.Skipped > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "assay export: %d receipts had no receipt_id or timestamp and were not exported\n", res.Skipped)
				}
				return nil
			},
		}
		f := c.Flags()
		f.StringVar(&endpoint, "otlp-endpoint", "", "OTLP/HTTP base URL (default $OTEL_EXPORTER_OTLP_ENDPOINT; /v1/traces is appended)")
		f.StringVar(&service, "service", "assay", "service.name of the exported spans")
		f.BoolVar(&otlpJSON, "otlp-json", false, "send OTLP/JSON instead of protobuf (or OTEL_EXPORTER_OTLP_PROTOCOL=http/json)")
		f.BoolVar(&asJSON, "json", false, "print the result as one JSON document")
		parent.AddCommand(c)
		return parent
	})
}
