package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/assay-dev/assay/core/capture/gateway"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/store"
)

// resolveCard resolves a -c value: a built-in card id or a card JSON file.
func resolveCard(idOrPath string) (*claims.Card, error) { return claims.Load(idOrPath) }

// startGateway starts the recording gateway on a free loopback port,
// writing model_call receipts into traceID. Upstreams come from
// ASSAY_UPSTREAM_* (or base-URL variables the user already set), else the
// vendors' APIs.
func startGateway(ctx context.Context, st *store.Store, traceID string, logger *zerolog.Logger, storeContent bool) (captureGateway, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return gateway.Start(ctx, gateway.Options{Addr: "127.0.0.1:0", Store: st, TraceID: traceID, Logger: logger, StoreContent: storeContent})
}
