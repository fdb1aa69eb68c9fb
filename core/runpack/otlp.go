package runpack

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/otlpin"
	"github.com/assay-dev/assay/core/store"
)

// startOTLP starts the OTLP receiver of `assay run --otlp` on a free
// loopback port, writing every receipt into traceID, and returns the
// variables that point the child's OpenTelemetry SDK at it. The per-signal
// variables are set too: they beat the generic ones, and an inherited
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT would send the spans elsewhere.
func startOTLP(ctx context.Context, st *store.Store, traceID string, logger *zerolog.Logger, storeContent, askContent bool) (*otlpin.Server, map[string]string, error) {
	sink, err := otlpin.NewSink(st, traceID)
	if err != nil {
		return nil, nil, err
	}
	srv, err := otlpin.Start(ctx, "127.0.0.1:0", otlpin.ServerOptions{Sink: sink, Logger: logger, Convert: otlpin.Options{StoreContent: storeContent}})
	if err != nil {
		return nil, nil, exit.Wrap(exit.BadInput, err, "check that a loopback port can be opened")
	}
	u := srv.URL()
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":        u,
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": u + "/v1/traces",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT":   u + "/v1/logs",
		"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL":   "http/protobuf",
		"OTEL_TRACES_EXPORTER":               "otlp",
	}
	if askContent {
		// Ruling 3: only on request does the child capture content; even
		// then only hashes are kept unless --store-content.
		env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
		env["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
	}
	return srv, env, nil
}
