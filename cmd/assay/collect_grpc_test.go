package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/otlpin"
)

// TestCollectGRPC: the official Go SDK's OTLP/gRPC exporter sends GenAI
// spans to `assay collect --otlp-grpc`; proof-pack of the OTel trace gives
// a verifying pack with one receipt per call, as over HTTP.
func TestCollectGRPC(t *testing.T) {
	t.Parallel()
	m, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	home, dir := t.TempDir(), t.TempDir()
	env := otlpEnv(home)
	doc, stop := startCollectDoc(t, env, "--otlp-grpc", "127.0.0.1:0")
	if doc.GRPC == "" {
		t.Fatalf("collect --json has no grpc address: %+v", doc)
	}
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(doc.GRPC), otlptracegrpc.WithInsecure(), otlptracegrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatal(err)
	}
	root := sendGoSpansTo(t, m.URL(), exp)
	errs := stop()
	trace := otlpin.TraceFor(root.String())
	if !strings.Contains(errs, "trace "+trace+": "+fmt.Sprint(len(otelPrompts))+" receipts") || !strings.Contains(errs, "OTLP/gRPC on "+doc.GRPC) {
		t.Fatalf("collect stderr: %s", errs)
	}
	out := filepath.Join(dir, "pack")
	if b, err := cliCmd(env, "proof-pack", trace, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("proof-pack: %v\n%s", err, b)
	}
	checkOTelCalls(t, otlpPackReceipts(t, out), "go-collect-app", true)
	verifyPackCLI(t, env, out)
}
