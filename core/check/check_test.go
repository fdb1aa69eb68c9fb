package check

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/packs/packstest"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/verify"
)

const ref = "../../testdata/vectors/reference-1.24/"

var now = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

func opts(o Options) Options { o.Now = now; return o }

// The reference's own lock and pack: verify-pack --lock --require-claim-pass
// gives exit 0, as the reference's verify_run_pack.json records.
func TestReferenceLockAndPack(t *testing.T) {
	t.Parallel()
	r, err := Pack(ref+"run_pack", opts(Options{LockPath: ref + "assay.lock", Options: verify.Options{RequireClaimPass: true}}))
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 0 || r.Verdict != "PASS" {
		t.Fatalf("exit %d %+v", r.ExitCode, r.Errors)
	}
	// The same lock against a pack with another claim set: exit 2, naming the field.
	r, err = Pack(ref+"challenge_good", opts(Options{LockPath: ref + "assay.lock"}))
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 2 || len(r.LockErrors) != 1 || r.Errors[0].Field != "claim_set_hash" {
		t.Fatalf("exit %d lock errors %v errors %+v", r.ExitCode, r.LockErrors, r.Errors)
	}
}

func TestBadLockAndContractAreBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	for _, o := range []Options{
		{LockPath: filepath.Join(dir, "missing.lock")},
		{LockPath: bad},
		{CoverageContract: filepath.Join(dir, "missing.json"), MinCoverage: 0.8},
		{CoverageContract: bad, MinCoverage: 0.8},
		{CoverageContract: bad, MinCoverage: 1.5},
	} {
		if _, err := Pack(ref+"run_pack", opts(o)); exit.Code(err) != exit.BadInput {
			t.Errorf("%+v: err %v (code %d), want exit 3", o, err, exit.Code(err))
		}
	}
}

func coveragePack(t *testing.T, ids ...string) string {
	var recs []*receipt.Receipt
	for i, id := range ids {
		r := &receipt.Receipt{}
		r.Set("receipt_id", "r"+id)
		r.Set("type", "model_call")
		r.Set("timestamp", "2026-01-15T11:59:0"+string(rune('0'+i))+"+00:00")
		r.Set("callsite_id", id)
		recs = append(recs, r)
	}
	dir := filepath.Join(t.TempDir(), "p")
	s := &keys.Signer{ID: "t", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
	if _, err := pack.Build(pack.Options{RunID: "run", Receipts: recs, Signer: s, OutDir: dir, Now: now}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCoverageGate(t *testing.T) {
	t.Parallel()
	sites := []coverage.Site{
		{CallsiteID: coverage.CallsiteID("app.py", 3), Path: "app.py", Line: 3, Call: "client.chat.completions.create", Confidence: "high"},
		{CallsiteID: coverage.CallsiteID("app.py", 9), Path: "app.py", Line: 9, Call: "client.messages.create", Confidence: "high"},
	}
	c := coverage.New(".", sites, now)
	b, _ := c.Marshal()
	cpath := filepath.Join(t.TempDir(), "assay.coverage.json")
	os.WriteFile(cpath, b, 0o644)

	full := coveragePack(t, sites[0].CallsiteID, sites[1].CallsiteID, "extra0000000")
	r, err := Pack(full, opts(Options{CoverageContract: cpath, MinCoverage: 1}))
	if err != nil || r.ExitCode != 0 || r.Coverage.CoveredCount != 2 || len(r.Coverage.ExtraIDs) != 1 {
		t.Fatalf("%v %+v %+v", err, r.Errors, r.Coverage)
	}
	half := coveragePack(t, sites[0].CallsiteID)
	r, _ = Pack(half, opts(Options{CoverageContract: cpath, MinCoverage: 0.8}))
	if r.ExitCode != 1 || r.Coverage.CoveragePct != 0.5 || r.Coverage.UncoveredIDs[0] != sites[1].CallsiteID {
		t.Fatalf("exit %d %+v", r.ExitCode, r.Coverage)
	}
	// The failure names the code without receipts, not only its hash.
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, sites[1].CallsiteID+" (app.py:9)") {
		t.Fatalf("coverage error does not locate the uncovered site: %+v", r.Errors)
	}
	r, _ = Pack(half, opts(Options{CoverageContract: cpath, MinCoverage: 0.5}))
	if r.ExitCode != 0 {
		t.Fatalf("0.5 coverage at min 0.5: exit %d", r.ExitCode)
	}
	// A contract whose own hash is wrong is tampering: exit 2.
	c.ContractHash = "0000000000000000000000000000000000000000000000000000000000000000"
	b, _ = c.Marshal()
	os.WriteFile(cpath, b, 0o644)
	r, err = Pack(full, opts(Options{CoverageContract: cpath, MinCoverage: 0.8}))
	if err != nil || r.ExitCode != 2 {
		t.Fatalf("tampered contract: %v exit %d", err, r.ExitCode)
	}
}

// A bundle verifies with one note about the files bundling added, not one
// "unexpected entry" warning per file; a real stray file still warns.
func TestBundleWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "proof_pack_x")
	packstest.Build(t, p, packstest.Generic(3), nil)
	b := filepath.Join(dir, "b.tar.gz")
	if _, err := bundle.Create(p, b); err != nil {
		t.Fatal(err)
	}
	r, err := Pack(b, Options{})
	if err != nil || r.ExitCode != 0 {
		t.Fatalf("%v %+v", err, r)
	}
	n := 0
	for _, w := range r.Warnings {
		if strings.Contains(w, "SIGNER_INFO.json") || strings.Contains(w, "VERIFY_RESULT.json") || strings.Contains(w, "PACK_SUMMARY.md") {
			n++
			if !strings.HasPrefix(w, "Audit bundle: ") {
				t.Errorf("per-file warning kept: %q", w)
			}
		}
	}
	if n != 1 {
		t.Fatalf("want one bundle note, got %d: %q", n, r.Warnings)
	}
	os.WriteFile(filepath.Join(p, "stray.txt"), []byte("x"), 0o644)
	r, err = Pack(p, Options{})
	if err != nil || len(r.Warnings) == 0 || !strings.Contains(strings.Join(r.Warnings, "\n"), "stray.txt") {
		t.Fatalf("stray file not warned: %v %q", err, r.Warnings)
	}
}

// Model calls the gateway recorded name no call site; the coverage gate
// says they came through the gateway (read from the pack's receipts), so a
// user seeing 0% knows why and what to do.
func TestCoverageGateExplainsGatewayReceipts(t *testing.T) {
	t.Parallel()
	sites := []coverage.Site{{CallsiteID: coverage.CallsiteID("app.py", 3), Path: "app.py", Line: 3, Call: "client.chat.completions.create", Confidence: "high"}}
	b, _ := coverage.New(".", sites, now).Marshal()
	cpath := filepath.Join(t.TempDir(), "assay.coverage.json")
	if err := os.WriteFile(cpath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var recs []*receipt.Receipt
	for i := range 2 {
		r := &receipt.Receipt{}
		r.Set("receipt_id", "gw"+string(rune('0'+i)))
		r.Set("type", "model_call")
		r.Set("timestamp", "2026-01-15T11:59:0"+string(rune('0'+i))+"+00:00")
		r.Set("integration_source", "assay.gateway")
		recs = append(recs, r)
	}
	dir := filepath.Join(t.TempDir(), "p")
	s := &keys.Signer{ID: "t", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
	if _, err := pack.Build(pack.Options{RunID: "run", Receipts: recs, Signer: s, OutDir: dir, Now: now}); err != nil {
		t.Fatal(err)
	}
	r, err := Pack(dir, opts(Options{CoverageContract: cpath, MinCoverage: 0.8}))
	if err != nil || r.ExitCode != 1 {
		t.Fatalf("%v %+v", err, r)
	}
	u := r.Coverage.Unattributed
	if u == nil || u.ModelCalls != 2 || u.Gateway != 2 || !strings.Contains(r.Coverage.Note, "2 model call receipt(s) came through the gateway") {
		t.Fatalf("gateway receipts not explained: %+v %q", u, r.Coverage.Note)
	}
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "came through the gateway") || !strings.Contains(r.Errors[0].Message, "(app.py:3)") {
		t.Fatalf("coverage error: %+v", r.Errors)
	}
}
