package verify

import (
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

var testSigner = &keys.Signer{ID: "test", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}

func rc(kv ...any) *receipt.Receipt {
	r := &receipt.Receipt{}
	for i := 0; i < len(kv); i += 2 {
		r.Set(kv[i].(string), kv[i+1])
	}
	return r
}

func sampleReceipts() []*receipt.Receipt {
	return []*receipt.Receipt{
		rc("receipt_id", "r1", "type", "model_call", "timestamp", "2026-01-15T11:59:00+00:00", "seq", 0, "model_id", "gpt-4o", "callsite_id", "aaaaaaaaaaaa"),
		rc("receipt_id", "r2", "type", "guardian_verdict", "timestamp", "2026-01-15T11:59:01+00:00", "seq", 1, "verdict", "allow"),
		rc("receipt_id", "r3", "type", "model_call", "timestamp", "2026-01-15T11:59:02+00:00", "seq", 2, "model_id", "gpt-4o", "note", "line\u2028sep"),
	}
}

func buildPack(t testing.TB, recs []*receipt.Receipt, cl []claims.Claim) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pack")
	if _, err := pack.Build(pack.Options{RunID: "run-1", Receipts: recs, Signer: testSigner, OutDir: dir, Claims: cl, Now: fixtureNow}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// reseal plays an attacker who holds a signing key: after files change, it
// rewrites file hashes, lets edit adjust the manifest, recomputes the
// attestation hash and pack root, and re-signs. Only the deeper checks can
// then catch the change.
func reseal(t testing.TB, dir string, edit func(man, att *canon.Object)) {
	t.Helper()
	man, _, err := pack.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := man.Get("files")
	for _, f := range files.([]any) {
		fe := f.(*canon.Object)
		raw, err := os.ReadFile(filepath.Join(dir, fe.String("path")))
		if err == nil {
			fe.Set("sha256", receipt.SHA256Hex(raw))
			fe.Set("bytes", len(raw))
		}
	}
	a, _ := man.Get("attestation")
	att := a.(*canon.Object)
	if edit != nil {
		edit(man, att)
	}
	h, err := pack.AttestationHash(att)
	if err != nil {
		t.Fatal(err)
	}
	man.Set("attestation_sha256", h)
	if _, ok := man.Get("pack_root_sha256"); ok && man.String("pack_root_sha256") != strings.Repeat("0", 64) {
		man.Set("pack_root_sha256", h)
	}
	msg, err := pack.SigningBytes(man)
	if err != nil {
		t.Fatal(err)
	}
	sig := testSigner.Sign(msg)
	man.Set("signature", base64.StdEncoding.EncodeToString(sig))
	writeManifest(t, dir, man)
	if err := os.WriteFile(filepath.Join(dir, pack.FileSignature), sig, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeManifest(t testing.TB, dir string, man *canon.Object) {
	b, err := canon.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pack.FileManifest), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rewriteLines(t testing.TB, dir string, f func(lines []string) []string) {
	p := filepath.Join(dir, pack.FileReceipts)
	raw, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	lines = f(lines)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func headOf(t testing.TB, line string) string {
	v, err := canon.Decode([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	h, err := receipt.Digest(v.(*receipt.Receipt))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// reMerkle rewrites the report's Merkle root for the current lines.
func reMerkle(t testing.TB, dir string) {
	raw, _ := os.ReadFile(filepath.Join(dir, pack.FileReceipts))
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	var bs [][]byte
	for _, l := range lines {
		bs = append(bs, []byte(l))
	}
	p := filepath.Join(dir, pack.FileReport)
	rep, _ := os.ReadFile(p)
	v, _ := canon.Decode(rep)
	o := v.(*canon.Object)
	m, _ := o.Get("merkle")
	mo := m.(*canon.Object)
	mo.Set("root", hexOf(merkleRoot(bs)))
	mo.Set("tree_size", len(bs))
	out, _ := canon.Marshal(o)
	os.WriteFile(p, out, 0o644)
}

type expect struct {
	exit  int
	code  string
	field string
	stage string
}

func check(t *testing.T, dir string, o Options, want expect) *Result {
	t.Helper()
	if o.Now.IsZero() {
		o.Now = fixtureNow
	}
	r, err := Verify(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != want.exit {
		t.Fatalf("exit %d want %d; errors %+v", r.ExitCode, want.exit, r.Errors)
	}
	if want.code == "" {
		if len(r.Errors) != 0 {
			t.Fatalf("unexpected errors %+v", r.Errors)
		}
		return r
	}
	for _, e := range r.Errors {
		if e.Code == want.code && (want.field == "" || e.Field == want.field) && (want.stage == "" || e.Stage == want.stage) {
			return r
		}
	}
	t.Fatalf("no %s field=%s stage=%s in %+v", want.code, want.field, want.stage, r.Errors)
	return r
}

func TestBuiltPackVerifies(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, sampleReceipts(), nil)
	r := check(t, dir, Options{}, expect{exit: 0})
	if r.Merkle == nil || !r.Merkle.Recorded || !r.Merkle.Match || r.ReceiptCount != 3 {
		t.Fatalf("merkle %+v count %d", r.Merkle, r.ReceiptCount)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, pack.FileReceipts))
	if strings.Contains(string(raw), "\u2028") || !strings.Contains(string(raw), `\u2028`) {
		t.Fatal("U+2028 must be escaped in pack lines (DECISIONS 7)")
	}
	if len(r.CallsiteIDs) != 1 || r.CallsiteIDs[0] != "aaaaaaaaaaaa" {
		t.Fatalf("callsites %v", r.CallsiteIDs)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		opt    Options
		want   expect
	}{
		{"path escape relative", func(t *testing.T, dir string) {
			reseal(t, dir, func(man, _ *canon.Object) {
				f, _ := man.Get("files")
				f.([]any)[1].(*canon.Object).Set("path", "../../../etc/passwd")
			})
		}, Options{}, expect{2, EPathEscape, "../../../etc/passwd", StagePaths}},
		{"path escape absolute", func(t *testing.T, dir string) {
			reseal(t, dir, func(man, _ *canon.Object) {
				f, _ := man.Get("files")
				f.([]any)[1].(*canon.Object).Set("path", "/etc/hostname")
			})
		}, Options{}, expect{2, EPathEscape, "/etc/hostname", StagePaths}},
		{"path escape symlink", func(t *testing.T, dir string) {
			outside := filepath.Join(filepath.Dir(dir), "outside.json")
			raw, _ := os.ReadFile(filepath.Join(dir, pack.FileReport))
			os.WriteFile(outside, raw, 0o644)
			os.Remove(filepath.Join(dir, pack.FileReport))
			if err := os.Symlink(outside, filepath.Join(dir, pack.FileReport)); err != nil {
				t.Fatal(err)
			}
		}, Options{}, expect{2, EPathEscape, pack.FileReport, StagePaths}},
		{"d12 break", func(t *testing.T, dir string) {
			reseal(t, dir, func(man, _ *canon.Object) { man.Set("pack_root_sha256", strings.Repeat("0", 64)) })
		}, Options{}, expect{2, EManifestTamper, "pack_root_sha256", StageD12}},
		{"duplicate ids", func(t *testing.T, dir string) {
			var last string
			rewriteLines(t, dir, func(l []string) []string {
				l[1] = strings.Replace(l[1], `"r2"`, `"r1"`, 1)
				last = l[2]
				return l
			})
			reMerkle(t, dir)
			reseal(t, dir, func(_, att *canon.Object) { att.Set("head_hash", headOf(t, last)) })
		}, Options{}, expect{2, EManifestTamper, "receipt_integrity", StageReceipts}},
		{"count mismatch", func(t *testing.T, dir string) {
			reseal(t, dir, func(man, _ *canon.Object) { man.Set("receipt_count_expected", 4) })
		}, Options{}, expect{2, EOmission, "", StageReceipts}},
		{"dropped receipt", func(t *testing.T, dir string) {
			var last string
			rewriteLines(t, dir, func(l []string) []string { last = l[1]; return l[:2] })
			reMerkle(t, dir)
			reseal(t, dir, func(_, att *canon.Object) { att.Set("head_hash", headOf(t, last)) })
		}, Options{}, expect{2, EOmission, "", StageReceipts}},
		{"head hash mismatch", func(t *testing.T, dir string) {
			reseal(t, dir, func(_, att *canon.Object) { att.Set("head_hash", strings.Repeat("a", 64)) })
		}, Options{}, expect{2, EManifestTamper, "head_hash", StageReceipts}},
		{"merkle mismatch", func(t *testing.T, dir string) {
			p := filepath.Join(dir, pack.FileReport)
			raw, _ := os.ReadFile(p)
			v, _ := canon.Decode(raw)
			m, _ := v.(*canon.Object).Get("merkle")
			m.(*canon.Object).Set("root", strings.Repeat("b", 64))
			out, _ := canon.Marshal(v)
			os.WriteFile(p, out, 0o644)
			reseal(t, dir, nil)
		}, Options{}, expect{2, EManifestTamper, "merkle.root", StageReceipts}},
		{"bad base64 signature", func(t *testing.T, dir string) {
			man, _, _ := pack.ReadManifest(dir)
			man.Set("signature", "abc") // bad padding; characters outside the alphabet alone are discarded, as Python does
			writeManifest(t, dir, man)
		}, Options{}, expect{2, EPackSigInvalid, "signature", StageSignature}},
		{"signature by another key", func(t *testing.T, dir string) {
			man, _, _ := pack.ReadManifest(dir)
			other := ed25519.NewKeyFromSeed(append(make([]byte, 31), 1))
			man.Set("signer_pubkey", base64.StdEncoding.EncodeToString(other.Public().(ed25519.PublicKey)))
			writeManifest(t, dir, man)
		}, Options{}, expect{2, EPackSigInvalid, "signer_pubkey_sha256", StageSignature}},
		{"attestation edited", func(t *testing.T, dir string) {
			man, _, _ := pack.ReadManifest(dir)
			a, _ := man.Get("attestation")
			a.(*canon.Object).Set("claim_check", "PASS")
			writeManifest(t, dir, man)
		}, Options{}, expect{2, EManifestTamper, "attestation_sha256", StageAttestation}},
		{"unknown receipt type", func(t *testing.T, dir string) {
			var last string
			rewriteLines(t, dir, func(l []string) []string {
				l[2] = strings.Replace(l[2], `"type":"model_call"`, `"type":"policy_impact"`, 1)
				last = l[2]
				return l
			})
			reMerkle(t, dir)
			reseal(t, dir, func(_, att *canon.Object) { att.Set("head_hash", headOf(t, last)) })
		}, Options{}, expect{2, ESchemaUnknown, "type", StageTypes}},
		{"future timestamp", func(t *testing.T, dir string) {
			reseal(t, dir, func(_, att *canon.Object) {
				att.Set("timestamp_end", fixtureNow.Add(48*time.Hour).Format(time.RFC3339))
			})
		}, Options{}, expect{2, ETimestampInvalid, "timestamp_end", StageFreshness}},
		{"invalid JSON line", func(t *testing.T, dir string) {
			rewriteLines(t, dir, func(l []string) []string { l[1] = "{not json"; return l })
			reseal(t, dir, nil)
		}, Options{}, expect{2, EManifestTamper, pack.FileReceipts, StageReceipts}},
		{"missing signature file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, pack.FileSignature))
		}, Options{}, expect{2, EPackSigInvalid, pack.FileSignature, StageSignature}},
		{"receipts not hash-covered", func(t *testing.T, dir string) {
			reseal(t, dir, func(man, _ *canon.Object) {
				f, _ := man.Get("files")
				fs := f.([]any)
				extra := &canon.Object{}
				extra.Set("path", "extra.txt")
				extra.Set("sha256", receipt.SHA256Hex([]byte("x")))
				extra.Set("bytes", 1)
				os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644)
				man.Set("files", []any{extra, fs[1], fs[2]})
			})
		}, Options{}, expect{2, EManifestTamper, "files", StageFileHashes}},
		{"stale", nil, Options{MaxAgeHours: 1, Now: time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)}, expect{1, EPackStale, "timestamp_end", StageFreshness}},
		{"ci binding required", nil, Options{RequireCIBinding: true}, expect{1, ECIMissing, "ci_binding", StageCIBinding}},
		{"claim pass required without claims", nil, Options{RequireClaimPass: true}, expect{1, EClaimGate, "claim_check", StageClaims}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := buildPack(t, sampleReceipts(), nil)
			if tc.mutate != nil {
				tc.mutate(t, dir)
			}
			check(t, dir, tc.opt, tc.want)
		})
	}
}

func TestSchemaViolationsStopAtStageZero(t *testing.T) {
	t.Parallel()
	edits := map[string]func(man, att *canon.Object){
		"missing pack_id":    func(m, _ *canon.Object) { m.Delete("pack_id") },
		"extra field":        func(m, _ *canon.Object) { m.Set("signer_identity", "x") },
		"hash_alg sha512":    func(m, _ *canon.Object) { m.Set("hash_alg", "sha512") },
		"signature_alg rsa":  func(m, _ *canon.Object) { m.Set("signature_alg", "rsa") },
		"bytes as string":    func(m, _ *canon.Object) { f, _ := m.Get("files"); f.([]any)[0].(*canon.Object).Set("bytes", "12") },
		"no proof_tier":      func(_, a *canon.Object) { a.Delete("proof_tier") },
		"proof_tier bogus":   func(_, a *canon.Object) { a.Set("proof_tier", "super-signed") },
		"timestamp not 3339": func(_, a *canon.Object) { a.Set("timestamp_end", "2026-01-15 11:59:00") },
		"ci_binding open": func(_, a *canon.Object) {
			a.Set("ci_binding", &canon.Object{Members: []canon.Member{{Key: "provider", Value: "local"}}})
		},
	}
	for name, e := range edits {
		t.Run(name, func(t *testing.T) {
			dir := buildPack(t, sampleReceipts(), nil)
			man, _, _ := pack.ReadManifest(dir)
			a, _ := man.Get("attestation")
			e(man, a.(*canon.Object))
			writeManifest(t, dir, man)
			r := check(t, dir, Options{}, expect{2, EManifestTamper, pack.FileManifest, StageSchema})
			if len(r.Stages) != 1 || r.ReceiptCount != 0 || r.HeadHash != nil {
				t.Fatalf("stages %d count %d head %v", len(r.Stages), r.ReceiptCount, r.HeadHash)
			}
		})
	}
	dir := buildPack(t, sampleReceipts(), nil)
	os.WriteFile(filepath.Join(dir, pack.FileManifest), []byte("{not json"), 0o644)
	check(t, dir, Options{}, expect{2, EManifestTamper, pack.FileManifest, StageSchema})
}

func TestHonestFailures(t *testing.T) {
	t.Parallel()
	t.Run("receipt integrity FAIL recorded honestly", func(t *testing.T) {
		recs := sampleReceipts()
		recs[1].Delete("timestamp")
		dir := buildPack(t, recs, nil)
		r := check(t, dir, Options{}, expect{exit: 1})
		if r.Verdict != VerdictHonestFail || r.Integrity != "PASS" {
			t.Fatalf("verdict %s integrity %s", r.Verdict, r.Integrity)
		}
	})
	failing := []claims.Claim{{ClaimID: "guard", Check: "no_receipt_type", Params: map[string]any{"receipt_type": "guardian_verdict"}, Severity: claims.Critical}}
	t.Run("claim FAIL is exit 1", func(t *testing.T) {
		dir := buildPack(t, sampleReceipts(), failing)
		check(t, dir, Options{}, expect{1, EClaimFailed, "claim_check", StageClaims})
		check(t, dir, Options{IntegrityOnly: true}, expect{exit: 0})
	})
	t.Run("claim PASS", func(t *testing.T) {
		ok := []claims.Claim{{ClaimID: "mc", Check: "receipt_type_present", Params: map[string]any{"receipt_type": "model_call"}, Severity: claims.Critical}}
		dir := buildPack(t, sampleReceipts(), ok)
		check(t, dir, Options{RequireClaimPass: true}, expect{exit: 0})
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	file := filepath.Join(tmp, "f")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, p := range []string{filepath.Join(tmp, "missing"), file, tmp} {
		if _, err := Verify(p, Options{}); err == nil {
			t.Errorf("%s: no bad-input error", p)
		}
	}
	if _, err := Verify(tmp, Options{ExpectedCommitSHA: "abc"}); err == nil {
		t.Error("short commit sha accepted")
	}
}

// A receipt file that is a symlink out of the pack is reported and never
// read: here it points at a FIFO, which would block any reader.
func TestReceiptSymlinkOutIsNotRead(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, sampleReceipts(), nil)
	fifo := filepath.Join(t.TempDir(), "outside")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, pack.FileReceipts)
	os.Remove(p)
	if err := os.Symlink(fifo, p); err != nil {
		t.Fatal(err)
	}
	done := make(chan *Result, 1)
	go func() { r, _ := Verify(dir, Options{Now: fixtureNow}); done <- r }()
	select {
	case r := <-done:
		found := false
		for _, e := range r.Errors {
			if e.Code == EPathEscape && e.Field == pack.FileReceipts {
				found = true
			}
		}
		if !found || r.ExitCode != 2 {
			t.Fatalf("exit %d errors %+v", r.ExitCode, r.Errors)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("verify read the receipt file through a symlink out of the pack")
	}
}
