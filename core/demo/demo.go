// Package demo builds the synthetic packs behind `assay try`,
// `demo-challenge` and `demo-incident`: fixed receipts, an ephemeral
// signing key that never touches the user's keystore, real builds and real
// verifications, and a computed byte difference for the tampered copy.
package demo

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/verify"
)

// EphemeralSigner is a fresh in-memory key for demos.
func EphemeralSigner(id string) *keys.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return &keys.Signer{ID: id, Private: priv}
}

func rec(kv ...any) *receipt.Receipt {
	r := &receipt.Receipt{}
	for i := 0; i < len(kv); i += 2 {
		r.Set(kv[i].(string), kv[i+1])
	}
	return r
}

func modelCall(id string, seq int, ts, model string, in, out, latency int) *receipt.Receipt {
	return rec("receipt_id", id, "type", "model_call", "timestamp", ts, "schema_version", "3.0", "seq", seq,
		"provider", "openai", "model_id", model, "input_tokens", in, "output_tokens", out, "total_tokens", in+out,
		"latency_ms", latency, "finish_reason", "stop", "error", nil)
}

func guardian(id string, seq int, ts, action, reason string) *receipt.Receipt {
	return rec("receipt_id", id, "type", "guardian_verdict", "timestamp", ts, "schema_version", "3.0", "seq", seq,
		"verdict", "allow", "action", action, "reason", reason)
}

// ChallengeReceipts are the three receipts of the challenge run.
func ChallengeReceipts() []*receipt.Receipt {
	return []*receipt.Receipt{
		modelCall("r_chal_001", 0, "2026-02-10T12:00:00Z", "gpt-4", 1800, 700, 1100),
		guardian("r_chal_002", 1, "2026-02-10T12:00:01Z", "generate_summary", "Content is within policy bounds"),
		modelCall("r_chal_003", 2, "2026-02-10T12:00:02Z", "gpt-4", 1300, 600, 950),
	}
}

var demoClaims = []claims.Claim{
	{ClaimID: "has_model_calls", Description: "At least one model call was recorded", Check: "receipt_type_present", Params: map[string]any{"receipt_type": "model_call"}, Severity: claims.Critical},
	{ClaimID: "guardian_enforced", Description: "A guardian verdict was recorded", Check: "receipt_type_present", Params: map[string]any{"receipt_type": "guardian_verdict"}, Severity: claims.Critical},
}

// ByteDiff is one changed byte between two files.
type ByteDiff struct {
	File   string `json:"file"`
	Offset int    `json:"offset"`
	Old    string `json:"old"`
	New    string `json:"new"`
	// Context shows the bytes around the change in the tampered file.
	Context string `json:"context"`
}

// Challenge is the outcome of BuildChallenge.
type Challenge struct {
	Dir      string         `json:"output_dir"`
	Good     *verify.Result `json:"good_result"`
	Tampered *verify.Result `json:"tampered_result"`
	Diffs    []ByteDiff     `json:"byte_differences"`
}

// BuildChallenge builds <out>/good, copies it to <out>/tampered with the
// first "gpt-4" changed to "gpt-5", writes SHA256SUMS.txt and CHALLENGE.md,
// verifies both, and computes the byte difference.
func BuildChallenge(out string) (*Challenge, error) {
	if err := newOutDir(out); err != nil {
		return nil, err
	}
	good := filepath.Join(out, "good")
	if _, err := pack.Build(pack.Options{RunID: "challenge-run", Receipts: ChallengeReceipts(), Signer: EphemeralSigner("challenge"), OutDir: good, Claims: demoClaims}); err != nil {
		return nil, err
	}
	tampered := filepath.Join(out, "tampered")
	if err := os.CopyFS(tampered, os.DirFS(good)); err != nil {
		return nil, err
	}
	p := filepath.Join(tampered, pack.FileReceipts)
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	changed := bytes.Replace(raw, []byte(`"gpt-4"`), []byte(`"gpt-5"`), 1)
	if err := os.WriteFile(p, changed, 0o644); err != nil {
		return nil, err
	}
	c := &Challenge{Dir: out, Diffs: Diff(pack.FileReceipts, raw, changed)}
	if err := writeSums(out, good, tampered); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "CHALLENGE.md"), []byte(challengeMD), 0o644); err != nil {
		return nil, err
	}
	if c.Good, err = verify.Verify(good, verify.Options{}); err != nil {
		return nil, err
	}
	if c.Tampered, err = verify.Verify(tampered, verify.Options{}); err != nil {
		return nil, err
	}
	return c, nil
}

// Diff returns every differing byte of two equally long files (and the
// length change when they differ in size).
func Diff(name string, a, b []byte) []ByteDiff {
	var out []ByteDiff
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			lo, hi := max(0, i-12), min(len(b), i+12)
			out = append(out, ByteDiff{File: name, Offset: i, Old: fmt.Sprintf("%q (0x%02x)", a[i], a[i]), New: fmt.Sprintf("%q (0x%02x)", b[i], b[i]), Context: string(b[lo:hi])})
		}
	}
	if len(a) != len(b) {
		out = append(out, ByteDiff{File: name, Offset: n, Old: fmt.Sprintf("%d bytes", len(a)), New: fmt.Sprintf("%d bytes", len(b))})
	}
	return out
}

func writeSums(out string, dirs ...string) error {
	var b bytes.Buffer
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(d, e.Name()))
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(out, filepath.Join(d, e.Name()))
			fmt.Fprintf(&b, "%s  %s\n", receipt.SHA256Hex(raw), rel)
		}
	}
	return os.WriteFile(filepath.Join(out, "SHA256SUMS.txt"), b.Bytes(), 0o644)
}

const challengeMD = `# The assay challenge

Two proof packs are here. One is exactly as it was signed; in the other, one
byte of one receipt was changed after signing. Find out which, offline:

    assay verify-pack good        # exit 0: intact
    assay verify-pack tampered    # exit 2: tampered
    assay explain tampered

The same packs verify under the reference implementation
(` + "`pip install assay-ai && assay verify-pack good`" + `).
SHA256SUMS.txt lists the hash of every file as shipped.
`

// Incident is the outcome of BuildIncident.
type Incident struct {
	Dir  string         `json:"output_dir"`
	Act1 *verify.Result `json:"act1"`
	Act2 *verify.Result `json:"act2"`
}

// BuildIncident builds act1 (a guarded run: claims PASS) and act2 (the
// model swapped, the guardian removed: claims FAIL) under out and verifies
// both for real: exit 0, then exit 1.
func BuildIncident(out string) (*Incident, error) {
	if err := newOutDir(out); err != nil {
		return nil, err
	}
	signer := EphemeralSigner("demo")
	cl := append(append([]claims.Claim{}, demoClaims...), claims.Claim{ClaimID: "no_breakglass", Description: "No breakglass override", Check: "no_receipt_type", Params: map[string]any{"receipt_type": "breakglass"}, Severity: claims.Critical})
	act1 := []*receipt.Receipt{
		modelCall("r_inc_001", 0, "2026-02-10T09:00:01Z", "gpt-4", 1500, 600, 1200),
		guardian("r_inc_002", 1, "2026-02-10T09:00:02Z", "generate_response", "Content meets safety policy"),
		modelCall("r_inc_003", 2, "2026-02-10T09:00:03Z", "gpt-4", 1100, 400, 900),
	}
	act2 := []*receipt.Receipt{
		modelCall("r_inc_101", 0, "2026-02-10T09:00:01Z", "gpt-3.5-turbo", 1500, 600, 400),
		modelCall("r_inc_102", 1, "2026-02-10T09:00:02Z", "gpt-3.5-turbo", 1100, 400, 350),
	}
	inc := &Incident{Dir: out}
	for i, a := range []struct {
		run  string
		recs []*receipt.Receipt
		res  **verify.Result
	}{{"incident-act1-correct", act1, &inc.Act1}, {"incident-act2-violated", act2, &inc.Act2}} {
		dir := filepath.Join(out, fmt.Sprintf("act%d", i+1))
		if _, err := pack.Build(pack.Options{RunID: a.run, Receipts: a.recs, Signer: signer, OutDir: dir, Claims: cl}); err != nil {
			return nil, err
		}
		r, err := verify.Verify(dir, verify.Options{})
		if err != nil {
			return nil, err
		}
		*a.res = r
	}
	return inc, nil
}

// TryStep is one step of `assay try`.
type TryStep struct {
	Step     string         `json:"step"`
	Detail   string         `json:"detail"`
	Result   *verify.Result `json:"result,omitempty"`
	ExitCode int            `json:"exit_code"`
}

// newOutDir creates the demo's -o directory, which must not exist yet.
func newOutDir(out string) error {
	if out == "" {
		return exit.Bad("give a directory name with -o", "-o must not be empty")
	}
	if _, err := os.Stat(out); err == nil {
		return exit.Bad("choose a new -o directory or remove the old one", "output directory already exists: %s", out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return exit.Bad("check the -o path", "cannot create %s: %v", out, fsutil.Reason(err))
	}
	return nil
}

// Try builds a pack from synthetic receipts in a temp dir, verifies it,
// flips one byte, verifies again, and removes everything it made.
func Try() ([]TryStep, error) {
	tmp, err := os.MkdirTemp("", "assay-try-*")
	if err != nil {
		return nil, exit.Bad("set TMPDIR to a writable directory", "cannot create a temp directory in %s: %v", os.TempDir(), fsutil.Reason(err))
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "proof_pack")
	res, err := pack.Build(pack.Options{RunID: "try-run", Receipts: ChallengeReceipts(), Signer: EphemeralSigner("try"), OutDir: dir, Claims: demoClaims})
	if err != nil {
		return nil, err
	}
	steps := []TryStep{{Step: "build", Detail: fmt.Sprintf("built pack %s: %d receipts (2 model calls, 1 guardian verdict), 2 claims, signed by an ephemeral Ed25519 key %s…", res.PackID, res.NReceipts, res.Fingerprint[:16])}}
	r1, err := verify.Verify(dir, verify.Options{})
	if err != nil {
		return nil, err
	}
	steps = append(steps, TryStep{Step: "verify", Detail: "verified the untouched pack", Result: r1, ExitCode: r1.ExitCode})
	p := filepath.Join(dir, pack.FileReceipts)
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	changed := bytes.Replace(raw, []byte(`"gpt-4"`), []byte(`"gpt-5"`), 1)
	if err := os.WriteFile(p, changed, 0o644); err != nil {
		return nil, err
	}
	d := Diff(pack.FileReceipts, raw, changed)
	steps = append(steps, TryStep{Step: "tamper", Detail: fmt.Sprintf("changed 1 byte of %s at offset %d: %s -> %s", d[0].File, d[0].Offset, d[0].Old, d[0].New)})
	r2, err := verify.Verify(dir, verify.Options{})
	if err != nil {
		return nil, err
	}
	steps = append(steps, TryStep{Step: "verify", Detail: "verified the tampered pack", Result: r2, ExitCode: r2.ExitCode})
	return steps, nil
}
