// Package signer answers "who signed this pack, and do we trust them?"
// (DECISIONS 14): it verifies the pack's Ed25519 signature and recomputes the
// signer fingerprint from the embedded public key before comparing it with
// an expected signer id, a fingerprint prefix or an allowlist. (The
// reference's verify-signer only read manifest fields.)
package signer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify"
)

// MinFingerprintPrefix is the shortest --fingerprint prefix accepted: 16 hex
// characters (64 bits), so a prefix cannot match by accident.
const MinFingerprintPrefix = 16

// Options are the expectations to compare the signer with; empty ones are
// not checked.
type Options struct {
	ExpectedID        string
	FingerprintPrefix string
	// Allowed are full fingerprints (from LoadAllowlist); AllowedFrom names
	// where they came from, for the texts.
	Allowed     []string
	AllowedFrom string
	// Keystore, when set, reports whether the signer's key is local, and
	// verifies packs whose signer_pubkey is empty (as verify-pack does).
	Keystore *keys.Store
}

// Comparison is one expectation and its outcome.
type Comparison struct {
	Check    string `json:"check"`
	Passed   bool   `json:"passed"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
}

// Report is the outcome; ExitCode is 0 ok, 2 a signer mismatch, a bad
// signature or a signed manifest whose files no longer match.
type Report struct {
	Command        string `json:"command"`
	Path           string `json:"path"`
	SignerID       string `json:"signer_id"`
	SignerPubkey   string `json:"signer_pubkey"`
	SignatureAlg   string `json:"signature_alg"`
	SignatureValid bool   `json:"signature_valid"`
	// Fingerprint is recomputed from the public key that verified the
	// signature; ManifestFingerprint is what the manifest claims.
	Fingerprint         string `json:"fingerprint"`
	ManifestFingerprint string `json:"signer_pubkey_sha256"`
	// KeySource is where the verifying key came from: "embedded" or
	// "keystore" (a pack with no signer_pubkey; it proves no signer).
	KeySource string `json:"key_source"`
	// Integrity is verify-pack's integrity verdict for the whole pack
	// (PASS or TAMPERED); a signer check says nothing about the receipts.
	Integrity             string       `json:"integrity_verdict"`
	KeyInLocalKeystore    bool         `json:"key_in_local_keystore"`
	LocalFingerprintMatch *bool        `json:"local_fingerprint_match" jsonschema:"nullable"`
	Comparisons           []Comparison `json:"comparisons"`
	Problems              []string     `json:"problems"`
	Passed                bool         `json:"passed"`
	ExitCode              int          `json:"exit_code"`
}

// Validate checks the option values (exit 3).
func (o Options) Validate() error {
	if o.FingerprintPrefix != "" {
		p := strings.ToLower(o.FingerprintPrefix)
		if len(p) < MinFingerprintPrefix || len(p) > 64 || strings.Trim(p, "0123456789abcdef") != "" {
			return exit.Bad("give at least 16 hex characters of the fingerprint ('assay key info' shows it)", "--fingerprint must be 16 to 64 hex characters, got %q", o.FingerprintPrefix)
		}
	}
	if o.ExpectedID != "" {
		if err := keys.ValidID(o.ExpectedID); err != nil {
			return err
		}
	}
	return nil
}

// Check verifies the signature of the pack in dir (or in an audit bundle
// .tar.gz) and compares its signer with the options. The error is non-nil
// only for bad input (exit 3).
func Check(dir string, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	path := dir
	// A pack directory or an audit bundle (DECISIONS 16), opened once.
	vo := verify.Options{IntegrityOnly: true, Keystore: o.Keystore}
	var vr *verify.Result
	p, err := pack.Open(path)
	if err != nil {
		vr, err = verify.Unopened(path, err, vo)
	} else {
		vr, err = verify.VerifyPack(p, vo)
		p.Close() // everything below comes from the result
	}
	if err != nil {
		return nil, err
	}
	rep := &Report{Command: "verify-signer", Path: path, Integrity: vr.Integrity, Comparisons: []Comparison{}, Problems: []string{}}
	// Everything comes from the verifier's one read of the manifest
	// (through the pack's root), never from a second read.
	rep.SignerID = vr.Pack.SignerID
	rep.SignerPubkey = vr.Pack.SignerPubkey
	rep.SignatureAlg = vr.Pack.SignatureAlg
	rep.ManifestFingerprint = vr.Pack.ClaimedFingerprint
	rep.KeySource = vr.Pack.SignerKey
	for _, st := range vr.Stages {
		if st.Stage == verify.StageSignature && st.Status == "ok" {
			rep.SignatureValid = true
		}
	}
	if !rep.SignatureValid || vr.Pack.Fingerprint == "" {
		rep.SignatureValid = false
		for _, e := range vr.Errors {
			if e.Stage == verify.StageSignature || e.Stage == verify.StageSchema {
				rep.Problems = append(rep.Problems, e.Message)
			}
		}
		if len(rep.Problems) == 0 {
			rep.Problems = append(rep.Problems, "the signature could not be verified")
		}
		rep.ExitCode = exit.Tampered
		return rep, nil
	}
	// The fingerprint of the key that verified the signature, recomputed
	// by the verifier from the key itself.
	rep.Fingerprint = vr.Pack.Fingerprint
	if o.Keystore != nil && keys.ValidID(rep.SignerID) == nil {
		if local, err := o.Keystore.LoadPublic(rep.SignerID); err == nil {
			rep.KeyInLocalKeystore = true
			m := keys.Fingerprint(local) == rep.Fingerprint
			rep.LocalFingerprintMatch = &m
		}
	}
	rep.compare(o)
	rep.Passed = true
	for _, c := range rep.Comparisons {
		rep.Passed = rep.Passed && c.Passed
	}
	if !rep.Passed {
		// A signer other than the one expected is the lock's signer
		// mismatch: exit 2 (DECISIONS 20), never 0 with a warning.
		rep.ExitCode = exit.Tampered
	}
	// A valid signature over a manifest whose files no longer match vouches
	// for nothing that is in the pack: that is tampering, not a signer match.
	if vr.Integrity != "PASS" {
		for _, e := range vr.Errors {
			rep.Problems = append(rep.Problems, e.Message)
		}
		if vr.ErrorsOmitted > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("… and %d more errors", vr.ErrorsOmitted))
		}
		rep.Problems = append(rep.Problems, "the manifest signature verifies, but the pack's contents do not match what was signed; run 'assay verify-pack "+path+"'")
		rep.Passed = false
		rep.ExitCode = exit.Tampered
	}
	return rep, nil
}

// compare checks each expectation. Fingerprint and allowlist expectations
// are met only by a key embedded in the pack: a pack that embeds none was
// verified with whatever the local keystore holds under its signer_id,
// which proves nothing about who signed it.
func (rep *Report) compare(o Options) {
	proven := rep.Fingerprint
	actual := rep.Fingerprint
	if rep.KeySource != "embedded" {
		proven, actual = "", "no embedded signer key (verified with the local keystore)"
	}
	if o.ExpectedID != "" {
		rep.Comparisons = append(rep.Comparisons, Comparison{"expected", rep.SignerID == o.ExpectedID, o.ExpectedID, rep.SignerID})
	}
	if o.FingerprintPrefix != "" {
		p := strings.ToLower(o.FingerprintPrefix)
		rep.Comparisons = append(rep.Comparisons, Comparison{"fingerprint", proven != "" && strings.HasPrefix(proven, p), p, actual})
	}
	if o.AllowedFrom != "" {
		ok := false
		for _, f := range o.Allowed {
			ok = ok || (proven != "" && f == proven)
		}
		exp := fmt.Sprintf("one of %d fingerprints in %s", len(o.Allowed), o.AllowedFrom)
		rep.Comparisons = append(rep.Comparisons, Comparison{"allowed-signers", ok, exp, actual})
	}
}

// LoadAllowlist reads an allowed-signers file: one 64-hex fingerprint per
// line (anything after it on the line is a label; '#' starts a comment), or
// an assay.lock whose signer_policy is an allowlist.
func LoadAllowlist(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, exit.Bad("give a file of fingerprints, one per line, or an assay.lock", "allowed-signers file not found: %s", path)
	}
	if err != nil {
		return nil, exit.Bad("check the path and its permissions", "cannot read allowed-signers file %s: %v", path, fsutil.Reason(err))
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		l, err := lock.Load(path)
		if err != nil {
			return nil, err
		}
		if l.SignerPolicy.Mode != lock.ModeAllowlist || len(l.SignerPolicy.AllowedFingerprints) == 0 {
			return nil, exit.Bad("pin signers with 'assay lock write --signer FP' or 'assay key rotate --lock'", "lock file %s has no signer allowlist (signer_policy mode %q)", path, l.SignerPolicy.Mode)
		}
		out := make([]string, len(l.SignerPolicy.AllowedFingerprints))
		for i, f := range l.SignerPolicy.AllowedFingerprints {
			out[i] = strings.ToLower(f)
		}
		return out, nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		fp := strings.ToLower(f[0])
		if !lock.IsFingerprint(fp) {
			return nil, exit.Bad("each line holds a 64-hex fingerprint ('assay key info' shows it)", "%s:%d: %q is not a 64-hex fingerprint", path, n, f[0])
		}
		out = append(out, fp)
	}
	if len(out) == 0 {
		return nil, exit.Bad("list at least one 64-hex fingerprint", "allowed-signers file %s lists no fingerprints", path)
	}
	return out, nil
}
