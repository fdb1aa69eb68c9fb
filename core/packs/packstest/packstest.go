// Package packstest builds real proof packs (with core/pack.Build and a
// fixed test key) for the tests of the packages that read packs: diff,
// bundle, proof and the CLI. Nothing is mocked: the packs are the ones
// users get.
package packstest

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// Signer is a deterministic test signer (seed 0x07 × 32).
func Signer() *keys.Signer {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = 7
	}
	return &keys.Signer{ID: "packstest", Private: ed25519.NewKeyFromSeed(seed)}
}

// Epoch is the base timestamp of generated receipts.
var Epoch = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// R makes a receipt from a JSON-able map (keys kept in canonical order).
func R(fields map[string]any) *receipt.Receipt {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	v, err := canon.Decode(b)
	if err != nil {
		panic(err)
	}
	return v.(*receipt.Receipt)
}

// Call describes one model_call receipt.
type Call struct {
	ID        string
	Model     string
	In, Out   int
	LatencyMs int
	Err       string
	Parent    string
}

// ModelCall makes a model_call receipt with sequence number seq.
func ModelCall(seq int, c Call) *receipt.Receipt {
	id := c.ID
	if id == "" {
		id = fmt.Sprintf("mcr_%016x", seq)
	}
	m := map[string]any{
		"receipt_id": id, "type": "model_call", "seq": seq,
		"timestamp":    receipt.Timestamp(Epoch.Add(time.Duration(seq) * time.Second)),
		"model_id":     c.Model,
		"provider":     "openai",
		"input_tokens": c.In, "output_tokens": c.Out, "total_tokens": c.In + c.Out,
		"latency_ms": c.LatencyMs, "finish_reason": "stop", "error": nil,
	}
	if c.Err != "" {
		m["error"] = c.Err
		m["finish_reason"] = "error"
	}
	if c.Parent != "" {
		m["parent_receipt_id"] = c.Parent
	}
	return R(m)
}

// Generic makes n receipts of type session_metadata, seq from 0.
func Generic(n int) []*receipt.Receipt {
	out := make([]*receipt.Receipt, n)
	for i := range out {
		out[i] = R(map[string]any{
			"receipt_id": fmt.Sprintf("r_%012x", i), "type": "session_metadata", "seq": i,
			"timestamp": receipt.Timestamp(Epoch.Add(time.Duration(i) * time.Millisecond)),
			"n":         i,
		})
	}
	return out
}

// Build writes a pack of recs (with optional claims) to out, which must not
// exist, and returns the build result.
func Build(t testing.TB, out string, recs []*receipt.Receipt, cl []claims.Claim) *pack.Result {
	t.Helper()
	return build(t, out, recs, cl, false)
}

// BuildDeterministic is Build with a content-derived pack id, so the same
// receipts give a byte-identical pack in every process (fuzz workers).
func BuildDeterministic(t testing.TB, out string, recs []*receipt.Receipt, cl []claims.Claim) *pack.Result {
	t.Helper()
	return build(t, out, recs, cl, true)
}

func build(t testing.TB, out string, recs []*receipt.Receipt, cl []claims.Claim, det bool) *pack.Result {
	t.Helper()
	res, err := pack.Build(pack.Options{
		RunID: "trace_20260115T120000_packtest", Receipts: recs, Signer: Signer(), OutDir: out,
		Claims: cl, Now: Epoch.Add(time.Hour), Deterministic: det,
	})
	if err != nil {
		t.Fatalf("build pack %s: %v", out, err)
	}
	return res
}

// Copy copies the pack directory src to dst (for tampering with a copy).
func Copy(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FlipByte flips one byte of a pack file (at offset off; -1 for the middle).
func FlipByte(t testing.TB, path string, off int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off = len(data) / 2
	}
	data[off] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
