package pack

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/receipt"
)

const vectors = "../../testdata/vectors/pack/"

func zeroSigner(id string) *keys.Signer {
	return &keys.Signer{ID: id, Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
}

func goldenInputs(t *testing.T) (runID string, recs []*receipt.Receipt, now time.Time) {
	raw, err := os.ReadFile(vectors + "expected_outputs.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Inputs struct {
			TS       string            `json:"deterministic_ts"`
			RunID    string            `json:"run_id"`
			Receipts []json.RawMessage `json:"receipts"`
		} `json:"generation_inputs"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Inputs.Receipts {
		v, err := canon.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, v.(*receipt.Receipt))
	}
	now, err = time.Parse(time.RFC3339, f.Inputs.TS)
	if err != nil {
		t.Fatal(err)
	}
	// Build in reverse order to show the builder sorts.
	recs[0], recs[1] = recs[1], recs[0]
	return f.Inputs.RunID, recs, now
}

func TestGoldenMinimalFromInputs(t *testing.T) {
	t.Parallel()
	runID, recs, now := goldenInputs(t)
	out := filepath.Join(t.TempDir(), "pack")
	res, err := Build(Options{
		RunID: runID, Receipts: recs, Signer: zeroSigner("conformance-test-signer"), OutDir: out,
		Now: now, Deterministic: true, VerifierVersion: "1.14.0",
	})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(vectors + "golden_minimal/receipt_pack.jsonl")
	got, _ := os.ReadFile(filepath.Join(out, FileReceipts))
	if !bytes.Equal(got, want) {
		t.Fatalf("receipt_pack.jsonl differs:\n got %q\nwant %q", got, want)
	}
	for name, w := range map[string]string{
		"head_hash":   "8070489bebfc93df39263ef96c5791a1ed5650072ce4b66ed86384ad0c5cff84",
		"pack_root":   "f543e680ad5a20cbe8c96e0aa4234b4dcee31a872363470a2bdc5d1fe26c677d",
		"pack_id":     "pack_deterministic_ddef95aa",
		"fingerprint": "139e3940e64b5491722088d9a0d741628fc826e09475d341a780acde3c4b8070",
	} {
		g := map[string]string{"head_hash": res.HeadHash, "pack_root": res.PackRootSHA256, "pack_id": res.PackID, "fingerprint": res.Fingerprint}[name]
		if g != w {
			t.Errorf("%s = %s, want %s", name, g, w)
		}
	}
	if res.Manifest.SignerPubkey != "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=" {
		t.Errorf("pubkey %s", res.Manifest.SignerPubkey)
	}
}

func TestGoldenSignatureReproduced(t *testing.T) {
	t.Parallel()
	obj, _, err := ReadManifest(vectors + "golden_minimal")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := SigningBytes(obj)
	if err != nil {
		t.Fatal(err)
	}
	sig := zeroSigner("x").Sign(msg)
	if got := base64.StdEncoding.EncodeToString(sig); got != obj.String("signature") {
		t.Fatalf("signature %s, want %s", got, obj.String("signature"))
	}
	raw, _ := os.ReadFile(vectors + "golden_minimal/pack_signature.sig")
	if !bytes.Equal(raw, sig) {
		t.Fatal("detached signature differs")
	}
}

func TestBuildRefusals(t *testing.T) {
	t.Parallel()
	mk := func(kv ...any) *receipt.Receipt {
		r := &receipt.Receipt{}
		for i := 0; i < len(kv); i += 2 {
			r.Set(kv[i].(string), kv[i+1])
		}
		return r
	}
	ok := mk("receipt_id", "r1", "type", "model_call", "timestamp", "2026-01-15T11:59:00+00:00")
	dir := t.TempDir()
	cases := map[string]Options{
		"bad type":      {RunID: "t", Receipts: []*receipt.Receipt{mk("receipt_id", "r", "type", "policy_impact", "timestamp", "2026-01-15T11:59:00+00:00")}},
		"loom":          {RunID: "t", Receipts: []*receipt.Receipt{mk("receipt_id", "r", "type", "loom.x", "timestamp", "2026-01-15T11:59:00+00:00")}},
		"foreign trace": {RunID: "t", Receipts: []*receipt.Receipt{mk("receipt_id", "r", "type", "model_call", "_trace_id", "other")}},
		"conflict":      {RunID: "t", Receipts: []*receipt.Receipt{mk("receipt_id", "r", "type", "model_call", "_trace_id", "t", "run_id", "u")}},
		"non-ascii key": {RunID: "t", Receipts: []*receipt.Receipt{mk("receipt_id", "r", "type", "model_call", "sіgnature", 1)}},
		"bad mode":      {RunID: "t", Receipts: []*receipt.Receipt{ok}, Mode: "yolo"},
		"exists":        {RunID: "t", Receipts: []*receipt.Receipt{ok}, OutDir: dir},
	}
	for name, o := range cases {
		if o.OutDir == "" {
			o.OutDir = filepath.Join(dir, "p_"+name)
		}
		o.Signer = zeroSigner("s")
		if _, err := Build(o); err == nil {
			t.Errorf("%s: built", name)
		} else if name != "exists" && fileExists(o.OutDir) {
			t.Errorf("%s: left %s behind", name, o.OutDir)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("staging left behind: %v", ents)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
