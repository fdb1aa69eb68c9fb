package recorder_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/recorder"
	"github.com/assay-dev/assay/core/recorder/client"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
)

type run struct {
	home  string
	trace string
	st    *store.Store
	sg    *keys.Signer
	rec   *recorder.Recorder
	c     *client.Client
}

func startRun(t *testing.T) *run {
	t.Helper()
	home := t.TempDir()
	sg, _, err := keys.Open(home).ActiveSigner(true)
	if err != nil {
		t.Fatal(err)
	}
	st := store.Open(home)
	trace := store.NewTraceID()
	rec, err := recorder.Start(recorder.Options{Store: st, TraceID: trace, Signer: sg, Listen: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(rec.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &run{home: home, trace: trace, st: st, sg: sg, rec: rec, c: c}
}

func obj(kv ...any) *canon.Object {
	o := &canon.Object{}
	for i := 0; i < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// emitVerdicts sends two guardian verdicts over the socket and appends one
// receipt the reference's way (straight into the trace file, stamped by
// the store), as a reference emitter in the child would.
func (r *run) emitVerdicts(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"web_search", "shell"} {
		if _, err := r.c.Emit(r.trace, "guardian_verdict", obj("verdict", "allow", "tool", tool), store.EmitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ref := store.Open(r.home) // another process's store handle
	if _, err := ref.Emit(r.trace, "model_call", obj("model", "gpt-4o"), store.EmitOptions{}); err != nil {
		t.Fatal(err)
	}
	r.rec.Sync() // the follower's next look, now
	if n := r.rec.Sealed(); n != 3 {
		t.Fatalf("sealed %d receipts, want 3", n)
	}
}

func (r *run) finish(t *testing.T) (*recorder.PackResult, *verify.Result) {
	t.Helper()
	if err := r.rec.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "pack")
	res, probs, err := recorder.BuildPack(r.rec.SealDir(), r.rec.TracePath(), pack.Options{Signer: r.sg, OutDir: out})
	if err != nil {
		t.Fatalf("build: %v (problems %v)", err, probs)
	}
	vr, err := verify.Verify(out, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, vr
}

func rewrite(t *testing.T, path string, f func(lines []string) []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	lines = f(lines)
	out := strings.Join(lines, "\n")
	if len(lines) > 0 {
		out += "\n"
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// The attack of issue 20 and its variants, each done to the store after
// the receipts were recorded: every one is detected, the pack holds the
// receipts as sealed (never the altered line) and does not verify PASS.
func TestAlterationsAreDetected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		attack func(t *testing.T, r *run)
		kind   string
	}{
		{"allow rewritten to deny", func(t *testing.T, r *run) {
			rewrite(t, r.rec.TracePath(), func(l []string) []string {
				l[0] = strings.Replace(l[0], `"allow"`, `"deny"`, 1)
				return l
			})
		}, "changed"},
		{"receipt deleted", func(t *testing.T, r *run) {
			rewrite(t, r.rec.TracePath(), func(l []string) []string { return append(l[:1:1], l[2:]...) })
		}, "removed"},
		{"two receipts reordered", func(t *testing.T, r *run) {
			rewrite(t, r.rec.TracePath(), func(l []string) []string { l[0], l[1] = l[1], l[0]; return l })
		}, "reordered"},
		{"backdated receipt appended", func(t *testing.T, r *run) {
			appendLine(t, r.rec.TracePath(), `{"receipt_id":"r_backdated01","type":"guardian_verdict","timestamp":"2020-01-01T00:00:00+00:00","schema_version":"3.0","seq":0,"verdict":"deny","_trace_id":"`+r.trace+`","_stored_at":"2020-01-01T00:00:00+00:00","_store_seq":0}`)
		}, "backdated"},
		{"file truncated", func(t *testing.T, r *run) {
			rewrite(t, r.rec.TracePath(), func(l []string) []string { return l[:1] })
		}, "truncated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRun(t)
			r.emitVerdicts(t)
			tc.attack(t, r)
			res, vr := r.finish(t)
			if !res.Altered() {
				t.Fatalf("not detected: seal status %s", res.Seal.Status)
			}
			kinds := map[string]bool{}
			for _, a := range res.Seal.Alterations {
				kinds[a.Kind] = true
			}
			if !kinds[tc.kind] {
				t.Errorf("alterations %+v, want one of kind %s", res.Seal.Alterations, tc.kind)
			}
			if vr.Verdict == verify.VerdictPass || vr.ExitCode == 0 {
				t.Fatalf("altered run verified %s (exit %d)", vr.Verdict, vr.ExitCode)
			}
			if vr.Seal == nil || !vr.Seal.Verified || vr.Seal.Status != seal.StatusAltered {
				t.Fatalf("verify reports seal %+v", vr.Seal)
			}
			packed, err := os.ReadFile(filepath.Join(res.Dir, pack.FileReceipts))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(packed, []byte(`"deny"`)) && tc.kind == "changed" {
				t.Errorf("the altered line was packed:\n%s", packed)
			}
			if tc.kind != "backdated" && bytes.Count(packed, []byte(`"allow"`)) != 2 {
				t.Errorf("the sealed receipts are not all in the pack:\n%s", packed)
			}
		})
	}
}

// An untouched run seals every receipt and verifies PASS, proving
// sealed_as_recorded.
func TestIntactRunVerifies(t *testing.T) {
	t.Parallel()
	r := startRun(t)
	r.emitVerdicts(t)
	res, vr := r.finish(t)
	if res.Seal.Status != seal.StatusIntact || res.Seal.Covers != 3 || res.NReceipts != 3 || res.Seal.Unsealed != 0 {
		t.Fatalf("seal %+v, %d receipts", res.Seal, res.NReceipts)
	}
	if vr.ExitCode != 0 || vr.Seal == nil || !vr.Seal.Verified {
		t.Fatalf("verify: %s exit %d seal %+v errors %+v", vr.Verdict, vr.ExitCode, vr.Seal, vr.Errors)
	}
	found := false
	for _, p := range vr.Proves {
		found = found || p == "sealed_as_recorded"
	}
	if !found {
		t.Errorf("proves %v", vr.Proves)
	}
}

// The seal of a pack is checked, not trusted: each way of forging or
// stripping it makes verify-pack say TAMPERED (exit 2).
func TestForgedSealIsTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		forge func(t *testing.T, dir string)
	}{
		{"sealed log edited", func(t *testing.T, dir string) {
			p := filepath.Join(dir, seal.PackLog)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"allow"`), []byte(`"deny"`), 1), 0o644)
		}},
		{"sealed log removed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, seal.PackLog))
		}},
		{"checkpoints rewritten", func(t *testing.T, dir string) {
			p := filepath.Join(dir, seal.PackCheckpoints)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"final":true`), []byte(`"final":false`), 1), 0o644)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRun(t)
			r.emitVerdicts(t)
			res, _ := r.finish(t)
			tc.forge(t, res.Dir)
			vr, err := verify.Verify(res.Dir, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if vr.ExitCode != 2 || vr.Seal == nil || vr.Seal.Verified {
				t.Fatalf("forged seal: verify %s exit %d seal %+v", vr.Verdict, vr.ExitCode, vr.Seal)
			}
		})
	}
}

// A seal certified by another key than the pack's signer does not hold,
// and a checkpoint not signed by the certified run key does not either.
func TestSealSignatures(t *testing.T) {
	t.Parallel()
	r := startRun(t)
	r.emitVerdicts(t)
	if err := r.rec.Close(); err != nil {
		t.Fatal(err)
	}
	other, _, err := keys.Open(t.TempDir()).ActiveSigner(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Open(r.rec.SealDir(), other.Public()); err == nil {
		t.Fatal("a seal certified by another signer was accepted")
	}
	out := filepath.Join(t.TempDir(), "pack")
	if _, _, err := recorder.BuildPack(r.rec.SealDir(), r.rec.TracePath(), pack.Options{Signer: other, OutDir: out}); err == nil {
		t.Fatal("packed a seal with a signer that did not certify it")
	}
	s, err := seal.Open(r.rec.SealDir(), r.sg.Public())
	if err != nil {
		t.Fatal(err)
	}
	cp := s.Last
	cp.TreeSize++
	if err := seal.VerifyCheckpoint(cp, s.Cert); err == nil {
		t.Fatal("an edited checkpoint verified")
	}
	if err := seal.VerifyCheckpoint(s.Last, s.Cert); err != nil || !s.Complete() || s.Last.TreeSize != 3 {
		t.Fatalf("last checkpoint %+v: %v", s.Last, err)
	}
}
