package verify

import (
	"encoding/hex"

	"github.com/assay-dev/assay/core/merkle"
)

func merkleRoot(lines [][]byte) []byte { return merkle.Root(lines) }
func hexOf(b []byte) string            { return hex.EncodeToString(b) }
