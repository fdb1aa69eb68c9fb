// Package pack builds proof packs (pack-format.md §4) and reads their
// manifests. A pack is a directory of five kernel files: the receipt lines,
// the build-time verify report and transcript (all three hash-covered by the
// manifest), the signed manifest, and the raw detached signature.
package pack

import (
	"encoding/json"
	"fmt"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/receipt"
)

// Kernel file names.
const (
	FileReceipts   = "receipt_pack.jsonl"
	FileReport     = "verify_report.json"
	FileTranscript = "verify_transcript.md"
	FileManifest   = "pack_manifest.json"
	FileSignature  = "pack_signature.sig"
	DirUnsigned    = "_unsigned"
)

// KernelFiles are the five names every pack lists in expected_files.
var KernelFiles = []string{FileReceipts, FileReport, FileTranscript, FileManifest, FileSignature}

// Constants written into every attestation and manifest.
const (
	FormatVersion     = "0.1.0"
	ManifestVersion   = "1.0.0"
	HeadHashAlgorithm = "last-receipt-digest-v0"
	SignatureScope    = "JCS(pack_manifest_excluding_signature_and_pack_root_sha256)"
	LegacyScope       = "JCS(pack_manifest_without_signature)"
	SuiteID           = "manual"
	ClaimSetNone      = "none"
	ReportSchema      = "assay.verify_report.v0.1"
	VerifyPolicyID    = "assay.verify_policy.v0.1"
)

// Derived constant hashes.
var (
	SuiteHash    = receipt.SHA256Hex([]byte(SuiteID))
	PolicyHash   = receipt.SHA256Hex([]byte("default-policy-v0"))
	NoClaimsHash = receipt.SHA256Hex([]byte(ClaimSetNone))
	ValidModes   = []string{"shadow", "enforced", "breakglass"}
	CIProviders  = []string{"github_actions", "gitlab_ci", "circleci", "jenkins", "local"}
)

// CIBinding ties a pack to a CI run (closed object, §4.2).
type CIBinding struct {
	Provider    string `json:"provider"`
	CommitSHA   string `json:"commit_sha"`
	Repo        string `json:"repo,omitempty"`
	Ref         string `json:"ref,omitempty"`
	RunID       string `json:"run_id,omitempty"`
	RunAttempt  string `json:"run_attempt,omitempty"`
	WorkflowRef string `json:"workflow_ref,omitempty"`
	Actor       string `json:"actor,omitempty"`
}

// Attestation is the signed statement about the run (§4.2), fields in the
// order the reference writes them.
type Attestation struct {
	PackFormatVersion      string     `json:"pack_format_version"`
	FingerprintVersion     int        `json:"fingerprint_version"`
	PackID                 string     `json:"pack_id"`
	RunID                  string     `json:"run_id"`
	SuiteID                string     `json:"suite_id"`
	SuiteHash              string     `json:"suite_hash"`
	VerifierVersion        string     `json:"verifier_version"`
	CanonVersion           string     `json:"canon_version"`
	CanonImpl              string     `json:"canon_impl"`
	CanonImplVersion       string     `json:"canon_impl_version"`
	PolicyHash             string     `json:"policy_hash"`
	ClaimSetID             string     `json:"claim_set_id"`
	ClaimSetHash           string     `json:"claim_set_hash"`
	ReceiptIntegrity       string     `json:"receipt_integrity"`
	ClaimCheck             string     `json:"claim_check"`
	DiscrepancyFingerprint *string    `json:"discrepancy_fingerprint"`
	AssuranceLevel         string     `json:"assurance_level"`
	ProofTier              string     `json:"proof_tier"`
	Mode                   string     `json:"mode"`
	HeadHash               string     `json:"head_hash"`
	HeadHashAlgorithm      string     `json:"head_hash_algorithm"`
	TimeAuthority          string     `json:"time_authority"`
	NReceipts              int        `json:"n_receipts"`
	TimestampStart         string     `json:"timestamp_start"`
	TimestampEnd           string     `json:"timestamp_end"`
	CIBinding              *CIBinding `json:"ci_binding"`
	ValidUntil             *string    `json:"valid_until"`
	SupersededBy           *string    `json:"superseded_by"`
}

// FileEntry is one hash-covered file.
type FileEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Manifest is pack_manifest.json (§4.4) as we write it.
type Manifest struct {
	PackID               string      `json:"pack_id"`
	PackVersion          string      `json:"pack_version"`
	ManifestVersion      string      `json:"manifest_version"`
	HashAlg              string      `json:"hash_alg"`
	Attestation          Attestation `json:"attestation"`
	AttestationSHA256    string      `json:"attestation_sha256"`
	SuiteHash            string      `json:"suite_hash"`
	ClaimSetID           string      `json:"claim_set_id"`
	ClaimSetHash         string      `json:"claim_set_hash"`
	ReceiptCountExpected int         `json:"receipt_count_expected"`
	Files                []FileEntry `json:"files"`
	ExpectedFiles        []string    `json:"expected_files"`
	SignerID             string      `json:"signer_id"`
	SignerPubkey         string      `json:"signer_pubkey"`
	SignerPubkeySHA256   string      `json:"signer_pubkey_sha256"`
	SignatureAlg         string      `json:"signature_alg"`
	SignatureScope       string      `json:"signature_scope"`
	Signature            string      `json:"signature,omitempty"`
	PackRootSHA256       string      `json:"pack_root_sha256,omitempty"`
}

// SigningBytes returns the Ed25519 message of a manifest: the canonical JSON
// of the manifest object without signature and pack_root_sha256 (§4.5).
func SigningBytes(manifest *canon.Object) ([]byte, error) {
	m := &canon.Object{Members: make([]canon.Member, 0, len(manifest.Members))}
	for _, mem := range manifest.Members {
		if mem.Key != "signature" && mem.Key != "pack_root_sha256" {
			m.Members = append(m.Members, mem)
		}
	}
	return canon.Marshal(m)
}

// AttestationHash is sha256hex of the canonical attestation.
func AttestationHash(att any) (string, error) {
	b, err := canon.Marshal(att)
	if err != nil {
		return "", err
	}
	return receipt.SHA256Hex(b), nil
}

// ReadManifest reads and decodes a pack directory's manifest through the
// pack's root (OpenDir's errors) and returns the object and its bytes; for
// tools and tests that rewrite manifests. Readers use Open.
func ReadManifest(dir string) (*canon.Object, []byte, error) {
	p, err := OpenDir(dir)
	if err != nil {
		return nil, nil, err
	}
	defer p.Close()
	return p.Manifest.Object(), p.ManifestBytes, nil
}

// indentJSON renders v like Python's json.dumps(indent=2): two-space indent,
// ", " and ": " separators inside, no trailing newline.
func indentJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return b, nil
}
