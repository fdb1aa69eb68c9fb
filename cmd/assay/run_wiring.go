package main

import (
	"context"

	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/store"
)

// resolveCard resolves a -c value: a built-in card id or a card JSON file.
func resolveCard(idOrPath string) (*claims.Card, error) { return claims.Load(idOrPath) }

// startGateway starts the recording gateway on a free loopback port,
// writing model_call receipts into traceID.
func startGateway(ctx context.Context, st *store.Store, traceID string) (captureGateway, error) {
	return nil, exit.Bad("", "the recording gateway is not available in this build")
}
