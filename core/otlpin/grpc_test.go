package otlpin

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/assay-dev/assay/core/store"
)

// TestReceiverGRPC: the official Go SDK's OTLP/gRPC exporter (plain and
// gzip) into the gRPC receiver gives the same receipts as over HTTP, and a
// span delivered again over HTTP, to the same handler, is stored once.
func TestReceiverGRPC(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		opts []otlptracegrpc.Option
	}{
		{"protobuf", nil},
		{"gzip", []otlptracegrpc.Option{otlptracegrpc.WithCompressor("gzip")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := store.Open(t.TempDir())
			sink, err := NewSink(st, "")
			if err != nil {
				t.Fatal(err)
			}
			h, err := NewHandler(ServerOptions{Sink: sink, MaxBodyBytes: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			srv, err := StartGRPC(context.Background(), "127.0.0.1:0", h)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			exp, err := otlptracegrpc.New(context.Background(), append([]otlptracegrpc.Option{otlptracegrpc.WithEndpoint(srv.Addr()), otlptracegrpc.WithInsecure()}, c.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			root := sdkCallsTo(t, 3, exp)
			rs := readTrace(t, st, TraceFor(root.TraceID().String()))
			var calls, tools int
			for _, r := range rs {
				switch r.String("type") {
				case "model_call":
					calls++
					if r.String("provider") != "openai" || r.String("model_id") != "gpt-4o" || r.String("usage_source") != "provider" || r.String("otel_trace_id") != root.TraceID().String() {
						t.Errorf("model_call fields: %v", r.Members)
					}
				case "capability_use":
					tools++
				}
			}
			if calls != 3 || tools != 1 {
				t.Fatalf("got %d model_call and %d capability_use receipts, want 3 and 1", calls, tools)
			}
			if s := h.Stats(); s.Spans != 5 || s.Receipts != 4 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// TestReceiverGRPCLimits: a message over MaxBodyBytes is refused with
// RESOURCE_EXHAUSTED (not retried into a loop) and nothing is written; a
// store that cannot be written answers UNAVAILABLE, which exporters retry.
func TestReceiverGRPCLimits(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	st := store.Open(home)
	sink, err := NewSink(st, "trace_grpc_limits")
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(ServerOptions{Sink: sink, MaxBodyBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartGRPC(context.Background(), "127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	client := grpcClient(t, srv.Addr())
	big := ptraceotlp.NewExportRequest()
	if err := big.UnmarshalProto(chatRequest(t, 0, 200)); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Export(context.Background(), big); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized message: %v, want ResourceExhausted", err)
	}
	if s := h.Stats(); s.Receipts != 0 {
		t.Fatalf("stats after an oversized message: %+v", s)
	}

	// A store that cannot be written (its home is a file): UNAVAILABLE.
	notDir := filepath.Join(t.TempDir(), "home")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad, err := NewSink(store.Open(notDir), "trace_grpc_limits")
	if err != nil {
		t.Fatal(err)
	}
	bh, err := NewHandler(ServerOptions{Sink: bad})
	if err != nil {
		t.Fatal(err)
	}
	bsrv, err := StartGRPC(context.Background(), "127.0.0.1:0", bh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bsrv.Close() })
	small := ptraceotlp.NewExportRequest()
	if err := small.UnmarshalProto(chatRequest(t, 0, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := grpcClient(t, bsrv.Addr()).Export(context.Background(), small); status.Code(err) != codes.Unavailable {
		t.Fatalf("unwritable store: %v, want Unavailable", err)
	}
	if s := bh.Stats(); s.StoreFails != 1 || s.Receipts != 0 {
		t.Fatalf("stats with an unwritable store: %+v", s)
	}
}

func grpcClient(t *testing.T, addr string) ptraceotlp.GRPCClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return ptraceotlp.NewGRPCClient(cc)
}
