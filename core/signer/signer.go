// Package signer answers "who signed this pack, and do we trust them?"
// (DECISIONS 14): it verifies the pack's Ed25519 signature and recomputes the
// signer fingerprint from the embedded public key before comparing it with
// an expected signer id, a fingerprint prefix or an allowlist. (The
// reference's verify-signer only read manifest fields.)
package signer

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/canon"
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

// Report is the outcome; ExitCode is 0 ok, 1 mismatch, 2 bad signature (or
// a signed manifest whose files no longer match).
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
	if bundle.IsBundle(path) {
		// An audit bundle (DECISIONS 16): check the pack inside it.
		d, cleanup, err := bundle.ExtractTemp(path)
		defer cleanup()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	vr, err := verify.Verify(dir, verify.Options{IntegrityOnly: true, Keystore: o.Keystore})
	if err != nil {
		return nil, err
	}
	rep := &Report{Command: "verify-signer", Path: path, Integrity: vr.Integrity, Comparisons: []Comparison{}, Problems: []string{}}
	man, _, merr := pack.ReadManifest(dir)
	if man != nil {
		rep.SignerID = man.String("signer_id")
		rep.SignerPubkey = man.String("signer_pubkey")
		rep.SignatureAlg = man.String("signature_alg")
		rep.ManifestFingerprint = man.String("signer_pubkey_sha256")
	}
	for _, st := range vr.Stages {
		if st.Stage == verify.StageSignature && st.Status == "ok" {
			rep.SignatureValid = true
		}
	}
	if !rep.SignatureValid {
		for _, e := range vr.Errors {
			if e.Stage == verify.StageSignature || e.Stage == verify.StageSchema {
				rep.Problems = append(rep.Problems, e.Message)
			}
		}
		// The verifier's schema error and ReadManifest's error describe the
		// same unreadable manifest; say it once.
		if merr != nil && !slices.Contains(rep.Problems, merr.Error()) {
			rep.Problems = append(rep.Problems, merr.Error())
		}
		if len(rep.Problems) == 0 {
			rep.Problems = append(rep.Problems, "the signature could not be verified")
		}
		rep.ExitCode = exit.Tampered
		return rep, nil
	}
	pub, err := signingKey(man, o.Keystore)
	if err != nil {
		rep.SignatureValid = false
		rep.Problems = append(rep.Problems, err.Error())
		rep.ExitCode = exit.Tampered
		return rep, nil
	}
	rep.Fingerprint = keys.Fingerprint(pub)
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
		rep.ExitCode = exit.HonestFail
	}
	// A valid signature over a manifest whose files no longer match vouches
	// for nothing that is in the pack: that is tampering, not a signer match.
	if vr.Integrity != "PASS" {
		for _, e := range vr.Errors {
			rep.Problems = append(rep.Problems, e.Message)
		}
		rep.Problems = append(rep.Problems, "the manifest signature verifies, but the pack's contents do not match what was signed; run 'assay verify-pack "+path+"'")
		rep.Passed = false
		rep.ExitCode = exit.Tampered
	}
	return rep, nil
}

func (rep *Report) compare(o Options) {
	if o.ExpectedID != "" {
		rep.Comparisons = append(rep.Comparisons, Comparison{"expected", rep.SignerID == o.ExpectedID, o.ExpectedID, rep.SignerID})
	}
	if o.FingerprintPrefix != "" {
		p := strings.ToLower(o.FingerprintPrefix)
		rep.Comparisons = append(rep.Comparisons, Comparison{"fingerprint", strings.HasPrefix(rep.Fingerprint, p), p, rep.Fingerprint})
	}
	if o.AllowedFrom != "" {
		ok := false
		for _, f := range o.Allowed {
			ok = ok || f == rep.Fingerprint
		}
		exp := fmt.Sprintf("one of %d fingerprints in %s", len(o.Allowed), o.AllowedFrom)
		rep.Comparisons = append(rep.Comparisons, Comparison{"allowed-signers", ok, exp, rep.Fingerprint})
	}
}

// signingKey is the key the verifier used: the embedded signer_pubkey, or
// the keystore's when the manifest carries none.
func signingKey(man *canon.Object, ks *keys.Store) ([]byte, error) {
	if pk := man.String("signer_pubkey"); pk != "" {
		b, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
			if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=' {
				return r
			}
			return -1
		}, pk))
		if err != nil {
			return nil, errors.New("signer_pubkey is not valid base64")
		}
		return b, nil
	}
	if ks == nil {
		return nil, errors.New("the manifest has no signer_pubkey")
	}
	return ks.LoadPublic(man.String("signer_id"))
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
