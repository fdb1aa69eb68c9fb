package ops

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify/verifytest"
)

// An absent min coverage is the default; an explicit 0 is 0 (the MCP tool
// used to turn 0 into 0.8); a floor without a contract is bad input.
func TestMinCoverageAbsentVsZero(t *testing.T) {
	t.Parallel()
	zero, half, two := 0.0, 0.5, 2.0
	for _, tc := range []struct {
		name string
		req  VerifyRequest
		want float64
		code int
	}{
		{"absent", VerifyRequest{Path: "p", CoverageContract: "c"}, DefaultMinCoverage, 0},
		{"zero", VerifyRequest{Path: "p", CoverageContract: "c", MinCoverage: &zero}, 0, 0},
		{"half", VerifyRequest{Path: "p", CoverageContract: "c", MinCoverage: &half}, 0.5, 0},
		{"out of range", VerifyRequest{Path: "p", CoverageContract: "c", MinCoverage: &two}, 0, exit.BadInput},
		{"no contract", VerifyRequest{Path: "p", MinCoverage: &zero}, 0, exit.BadInput},
	} {
		o, err := tc.req.Options(Env{})
		if tc.code != 0 {
			if exit.Code(err) != tc.code {
				t.Errorf("%s: error %v, want exit %d", tc.name, err, tc.code)
			}
			continue
		}
		if err != nil || o.MinCoverage != tc.want {
			t.Errorf("%s: min coverage %v (%v), want %v", tc.name, o.MinCoverage, err, tc.want)
		}
	}
}

// The keystore verifies a pack that embeds no public key only for a signer
// the request names (DECISIONS 20): never by default, never another id.
func TestKeystoreOnlyForNamedSigner(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	ci, err := keys.Open(home).Write("ci", []byte(strings.Repeat("c", 32)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(home).Write("other", []byte(strings.Repeat("o", 32))); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pack")
	if err := verifytest.Build(dir, 2, ci); err != nil {
		t.Fatal(err)
	}
	if err := verifytest.Reseal(dir, ci, func(man, _ *canon.Object) { man.Set("signer_pubkey", "") }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		signer, integrity, key, msg string
	}{
		{"", "TAMPERED", "", "no keystore fallback"},
		{"other", "TAMPERED", "", `the pack's signer "ci" is not the named signer "other"`},
		{"ci", "PASS", "keystore", ""},
	} {
		r, err := Verify(VerifyRequest{Path: dir, IntegrityOnly: true, Signer: tc.signer}, Env{Home: home})
		if err != nil {
			t.Fatal(err)
		}
		if r.Integrity != tc.integrity || r.Pack.SignerKey != tc.key {
			t.Errorf("signer %q: integrity %s key %q, want %s %q (%v)", tc.signer, r.Integrity, r.Pack.SignerKey, tc.integrity, tc.key, r.Errors)
		}
		if tc.msg != "" && (len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, tc.msg)) {
			t.Errorf("signer %q: errors %v, want %q", tc.signer, r.Errors, tc.msg)
		}
	}
}

// One set of emit rules: what any emitter may and may not write.
func TestEmitRules(t *testing.T) {
	t.Parallel()
	st := store.Open(t.TempDir())
	const trace = "trace_20260101T000000_0a0b0c0d"
	obj := func(js string) *canon.Object {
		v, err := canon.Decode([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return v.(*canon.Object)
	}
	first, err := Emit(st, EmitRequest{TraceID: trace, Type: "decision_v1", Data: obj(`{"receipt_id":"r_mine","seq":7}`)})
	if err != nil || first.ReceiptID != "r_mine" || first.Seq != 7 {
		t.Fatalf("first: %+v %v", first, err)
	}
	// A new process (a fresh store) continues the trace's seq.
	next, err := Emit(store.Open(st.Home), EmitRequest{TraceID: trace, Type: "decision_v1"})
	if err != nil || next.Seq != 8 {
		t.Fatalf("next: %+v %v", next, err)
	}
	for _, tc := range []struct {
		name string
		req  EmitRequest
		want string
	}{
		{"server type", EmitRequest{Type: "mcp_tool_call"}, "written by assay itself"},
		{"session end", EmitRequest{Type: "session_metadata"}, "written by assay itself"},
		{"unknown type", EmitRequest{Type: "Bad Type"}, "cannot go into a proof pack"},
		{"schema_version", EmitRequest{Type: "decision_v1", Data: obj(`{"schema_version":"9"}`)}, `"schema_version" is reserved`},
		{"parent in data", EmitRequest{Type: "decision_v1", Data: obj(`{"parent_receipt_id":"r_x"}`)}, "is reserved"},
		{"underscore", EmitRequest{Type: "decision_v1", Data: obj(`{"_x":1}`)}, `"_x" is reserved`},
		{"store stamp", EmitRequest{Type: "decision_v1", Data: obj(`{"_stored_at":"x"}`)}, "set by the store"},
		{"duplicate id", EmitRequest{Type: "decision_v1", Data: obj(`{"receipt_id":"r_mine"}`)}, "already in trace"},
		{"bad time", EmitRequest{Type: "decision_v1", Data: obj(`{"timestamp":"yesterday"}`)}, "not a valid time"},
		{"float seq", EmitRequest{Type: "decision_v1", Data: obj(`{"seq":1.5}`)}, "seq must be an integer"},
		{"secret", EmitRequest{Type: "decision_v1", Data: obj(`{"k":"sk-abcdefghijklmnopqrstuvwx"}`)}, "looks like an API key"},
	} {
		tc.req.TraceID = trace
		_, err := Emit(st, tc.req)
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want bad input containing %q", tc.name, err, tc.want)
		}
	}
	rs, _, err := st.Read(trace)
	if err != nil || len(rs) != 2 {
		t.Fatalf("refused emits wrote something: %d receipts, %v", len(rs), err)
	}
}
