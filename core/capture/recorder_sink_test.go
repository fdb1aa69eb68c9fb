package capture_test

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/capture"
	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/recorder"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

// Under a recorder the Go middleware sends each model_call receipt to it:
// the receipt is stored and sealed before the SDK call returns.
func TestMiddlewareThroughRecorder(t *testing.T) {
	t.Parallel()
	m, err := mockllm.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	home := t.TempDir()
	sg, _, err := keys.Open(home).ActiveSigner(true)
	if err != nil {
		t.Fatal(err)
	}
	trace := store.NewTraceID()
	rec, err := recorder.Start(recorder.Options{Store: store.Open(home), TraceID: trace, Signer: sg, Listen: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := capture.NewTransport(capture.Options{Recorder: rec.Addr(), TraceID: trace})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}`))
	req.Header.Set("Authorization", "Bearer test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := tr.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := rec.Sealed(); n != 1 {
		t.Fatalf("sealed %d receipts when the call returned, want 1", n)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "pack")
	res, _, err := recorder.BuildPack(rec.SealDir(), rec.TracePath(), pack.Options{Signer: sg, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	vr, err := verify.Verify(out, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Seal.Status != seal.StatusIntact || vr.ExitCode != 0 || vr.TypeCounts["model_call"] != 1 || vr.Seal == nil || vr.Seal.Covers != 1 {
		t.Fatalf("seal %+v verify %s %+v", res.Seal, vr.Verdict, vr.Seal)
	}
}
