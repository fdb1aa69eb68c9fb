package recorder

import (
	"testing"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/store"
)

// FuzzHandle feeds the recorder what an agent may send to its socket: it
// answers every frame (refusing what is not a receipt it may store) and
// never panics.
func FuzzHandle(f *testing.F) {
	home := f.TempDir()
	sg, _, err := keys.Open(home).ActiveSigner(true)
	if err != nil {
		f.Fatal(err)
	}
	trace := store.NewTraceID()
	r, err := Start(Options{Store: store.Open(home), TraceID: trace, Signer: sg})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	f.Add([]byte(`{"op":"append","trace_id":"` + trace + `","receipt":{"type":"guardian_verdict","verdict":"allow"}}`))
	f.Add([]byte(`{"op":"append","trace_id":"` + trace + `","receipt":{"type":"model_call","_store_seq":1}}`))
	f.Add([]byte(`{"op":"ping"}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		ack := r.handle(frame)
		if !ack.OK && ack.Error == "" {
			t.Fatalf("refusal without a reason: %+v", ack)
		}
	})
}
