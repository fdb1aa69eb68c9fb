package main

import (
	"context"
	"fmt"
	"io"

	"github.com/assay-dev/assay/core/otlpout"
	"github.com/assay-dev/assay/core/store"
)

// otlpEndpointUsage is the help of every --otlp-endpoint flag.
const otlpEndpointUsage = "also send each receipt as a span to this OTLP/HTTP base URL (or set OTEL_EXPORTER_OTLP_ENDPOINT; /v1/traces is appended)"

// startLiveExport hooks a live OTLP exporter to st when --otlp-endpoint or
// the OTEL_EXPORTER_OTLP_* variables ask for one; the returned stop
// flushes it. The store stays the evidence: an export failure is reported
// on errw, never fatal.
func startLiveExport(ctx context.Context, getenv func(string) string, st *store.Store, endpoint string, errw io.Writer, who string) (func(), error) {
	o := otlpout.Options{Endpoint: endpoint, Getenv: getenv}
	if !o.Configured() {
		return func() {}, nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	live, err := otlpout.StartLive(ctx, o, otlpout.Context{})
	if err != nil {
		return nil, err
	}
	st.Observe(live.Receipt)
	fmt.Fprintf(errw, "%s: exporting receipts as OTLP spans\n", who)
	return func() {
		st.Observe(nil)
		if err := live.Close(); err != nil {
			fmt.Fprintf(errw, "%s: WARNING: OTLP export: %v (the receipts are in the store)\n", who, err)
		}
	}, nil
}

// exportPackOTLP sends a freshly built pack to the OTLP endpoint, if one
// is configured; failures are warnings (the pack is the evidence).
func exportPackOTLP(ctx context.Context, getenv func(string) string, endpoint, dir string, logf func(string, ...any)) {
	o := otlpout.Options{Endpoint: endpoint, Getenv: getenv}
	if !o.Configured() {
		return
	}
	src, err := otlpout.ReadPack(dir)
	if err == nil {
		defer src.Close()
		var res otlpout.Result
		res, err = otlpout.Export(ctx, o, src.Context, src.Each)
		if err == nil {
			logf("exported %d receipts as OTLP spans (OTel trace %v)", res.Spans, res.OTelTraceIDs)
			if res.Rejected > 0 || res.RejectedMessage != "" {
				logf("WARNING: the OTLP endpoint rejected %d of the spans (partial success): %s", res.Rejected, res.RejectedMessage)
			}
			return
		}
	}
	logf("WARNING: OTLP export of the pack failed: %v (the pack is complete; retry with 'assay export otlp %s')", err, dir)
}
