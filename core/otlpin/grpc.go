package otlpin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // exporters may compress with gzip
	"google.golang.org/grpc/status"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// The OTLP/gRPC receiver serves the same Handler (one sink, one set of
// counters) as OTLP/HTTP, through the Collector's pdata gRPC services.
// A store failure is UNAVAILABLE, which OTLP exporters retry; the answer
// goes out only once the request's receipts are durable.

type grpcTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	h *Handler
}

func (g *grpcTraces) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	g.h.stats.requests.Add(1)
	if err := g.h.record(req.Traces()); err != nil {
		return ptraceotlp.NewExportResponse(), status.Error(codes.Unavailable, "the receipt store failed; retry later")
	}
	return ptraceotlp.NewExportResponse(), nil
}

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	h *Handler
}

// Export accepts and counts log records (content carried in log events
// is not read yet, as over HTTP).
func (g *grpcLogs) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	g.h.stats.requests.Add(1)
	g.h.stats.logs.Add(int64(req.Logs().LogRecordCount()))
	return plogotlp.NewExportResponse(), nil
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	h *Handler
}

// Export accepts and drops metrics, as over HTTP.
func (g *grpcMetrics) Export(context.Context, pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	g.h.stats.requests.Add(1)
	return pmetricotlp.NewExportResponse(), nil
}

// GRPCServer is a running OTLP/gRPC receiver.
type GRPCServer struct {
	ln   net.Listener
	srv  *grpc.Server
	done chan struct{}
	once sync.Once
	err  error
}

// StartGRPC listens on addr (host:port; port 0 picks a free one) and
// serves OTLP/gRPC (TraceService, LogsService, MetricsService) into h
// until Close or ctx ends. Messages are capped at the handler's
// MaxBodyBytes (RESOURCE_EXHAUSTED above).
func StartGRPC(ctx context.Context, addr string, h *Handler) (*GRPCServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(int(h.o.MaxBodyBytes)), grpc.ConnectionTimeout(10*time.Second))
	ptraceotlp.RegisterGRPCServer(srv, &grpcTraces{h: h})
	plogotlp.RegisterGRPCServer(srv, &grpcLogs{h: h})
	pmetricotlp.RegisterGRPCServer(srv, &grpcMetrics{h: h})
	s := &GRPCServer{ln: ln, srv: srv, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.err = err
		}
	}()
	closeWhenDone(ctx, s.done, s.Close)
	return s, nil
}

// Addr is the listening address (host:port), for an exporter's endpoint.
func (s *GRPCServer) Addr() string { return s.ln.Addr().String() }

// Close stops accepting and waits for in-flight calls (their receipts
// are written before it returns), at most 30 s before cutting them off.
func (s *GRPCServer) Close() error {
	s.once.Do(func() {
		stopped := make(chan struct{})
		go func() { s.srv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(30 * time.Second):
			s.srv.Stop()
		}
		<-s.done
	})
	return s.err
}

// Done is closed when the server has stopped.
func (s *GRPCServer) Done() <-chan struct{} { return s.done }
