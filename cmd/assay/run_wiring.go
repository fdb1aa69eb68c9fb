package main

import (
	"context"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/recorder"
	"github.com/assay-dev/assay/core/store"
)

// resolveCard resolves a -c value: a built-in card id or a card JSON file.
func resolveCard(idOrPath string) (*claims.Card, error) { return claims.Load(idOrPath) }

// startGateway starts the recording gateway on a free loopback port,
// writing model_call receipts into traceID. Upstreams come from
// ASSAY_UPSTREAM_* (or base-URL variables the user already set), else the
// vendors' APIs.
func startGateway(ctx context.Context, st *store.Store, sink capture.Sink, traceID string, logger *zerolog.Logger, storeContent bool) (captureGateway, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return gateway.Start(ctx, gateway.Options{Addr: "127.0.0.1:0", Store: st, Sink: sink, TraceID: traceID, Logger: logger, StoreContent: storeContent})
}

// lateSink sends receipts to the run's recorder once it is bound (the
// gateway starts before the signer, and so the recorder, exists; no
// receipt can arrive before the child starts). Unbound, it appends to
// the store.
type lateSink struct {
	st  *store.Store
	rec atomic.Pointer[recorder.Recorder]
}

func (l *lateSink) Emit(traceID, typ string, data *canon.Object, opt store.EmitOptions) (*receipt.Receipt, error) {
	if r := l.rec.Load(); r != nil {
		return r.Emit(traceID, typ, data, opt)
	}
	return l.st.Emit(traceID, typ, data, opt)
}
