package pack

import (
	"errors"
	"math/big"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
)

// NoNumber is what a typed integer field holds when the manifest has no
// integer there (absent, not a number, not whole, or out of range). Every
// count a pack states is >= 0, so it never collides with a real value.
const NoNumber = -1

// Doc is a manifest as read from outside: the typed fields, and the exact
// JSON object they were read from. The object is kept because the
// signature and the attestation hash cover its canonical bytes (members we
// have no field for included), and the verifier checks its schema. The
// typed fields are read leniently: a member of the wrong type reads as the
// zero value (NoNumber for integers), and only a verified pack's fields are
// known to be what its signer wrote.
type Doc struct {
	Manifest
	obj    *canon.Object
	hasAtt bool
}

// ParseManifest decodes the bytes of pack_manifest.json. A manifest that is
// not a JSON object is tampering (exit 2).
func ParseManifest(raw []byte) (*Doc, error) {
	v, err := canon.Decode(raw)
	if err != nil {
		return nil, exit.New(exit.Tampered, "", "%s is not valid JSON: %v", FileManifest, err)
	}
	obj, ok := v.(*canon.Object)
	if !ok {
		return nil, exit.New(exit.Tampered, "", "%s is not a JSON object", FileManifest)
	}
	return DocOf(obj), nil
}

// DocOf reads the typed fields of a decoded manifest object (one embedded
// in a receipt proof, say).
func DocOf(obj *canon.Object) *Doc {
	d := &Doc{obj: obj}
	m := &d.Manifest
	m.PackID = str(obj, "pack_id")
	m.PackVersion = str(obj, "pack_version")
	m.ManifestVersion = str(obj, "manifest_version")
	m.HashAlg = str(obj, "hash_alg")
	if a, ok := member(obj, "attestation").(*canon.Object); ok {
		m.Attestation = attestationOf(a)
		d.hasAtt = true
	}
	m.AttestationSHA256 = str(obj, "attestation_sha256")
	m.SuiteHash = str(obj, "suite_hash")
	m.ClaimSetID = str(obj, "claim_set_id")
	m.ClaimSetHash = str(obj, "claim_set_hash")
	m.ReceiptCountExpected = integer(member(obj, "receipt_count_expected"))
	if list, ok := member(obj, "files").([]any); ok {
		m.Files = make([]FileEntry, 0, len(list))
		for _, e := range list {
			fe := FileEntry{Bytes: NoNumber}
			if o, ok := e.(*canon.Object); ok {
				fe = FileEntry{Path: str(o, "path"), SHA256: str(o, "sha256"), Bytes: int64(integer(member(o, "bytes")))}
			}
			m.Files = append(m.Files, fe)
		}
	}
	if list, ok := member(obj, "expected_files").([]any); ok {
		m.ExpectedFiles = make([]string, 0, len(list))
		for _, e := range list {
			s, _ := e.(string)
			m.ExpectedFiles = append(m.ExpectedFiles, s)
		}
	}
	m.SignerID = str(obj, "signer_id")
	m.SignerPubkey = str(obj, "signer_pubkey")
	m.SignerPubkeySHA256 = str(obj, "signer_pubkey_sha256")
	m.SignatureAlg = str(obj, "signature_alg")
	m.SignatureScope = str(obj, "signature_scope")
	m.Signature = str(obj, "signature")
	m.PackRootSHA256 = str(obj, "pack_root_sha256")
	return d
}

func attestationOf(o *canon.Object) Attestation {
	a := Attestation{
		PackFormatVersion:      str(o, "pack_format_version"),
		FingerprintVersion:     integer(member(o, "fingerprint_version")),
		PackID:                 str(o, "pack_id"),
		RunID:                  str(o, "run_id"),
		SuiteID:                str(o, "suite_id"),
		SuiteHash:              str(o, "suite_hash"),
		VerifierVersion:        str(o, "verifier_version"),
		CanonVersion:           str(o, "canon_version"),
		CanonImpl:              str(o, "canon_impl"),
		CanonImplVersion:       str(o, "canon_impl_version"),
		PolicyHash:             str(o, "policy_hash"),
		ClaimSetID:             str(o, "claim_set_id"),
		ClaimSetHash:           str(o, "claim_set_hash"),
		ReceiptIntegrity:       str(o, "receipt_integrity"),
		ClaimCheck:             str(o, "claim_check"),
		DiscrepancyFingerprint: optStr(o, "discrepancy_fingerprint"),
		AssuranceLevel:         str(o, "assurance_level"),
		ProofTier:              str(o, "proof_tier"),
		Mode:                   str(o, "mode"),
		HeadHash:               str(o, "head_hash"),
		HeadHashAlgorithm:      str(o, "head_hash_algorithm"),
		TimeAuthority:          str(o, "time_authority"),
		NReceipts:              integer(member(o, "n_receipts")),
		TimestampStart:         str(o, "timestamp_start"),
		TimestampEnd:           str(o, "timestamp_end"),
		ValidUntil:             optStr(o, "valid_until"),
		SupersededBy:           optStr(o, "superseded_by"),
	}
	if ci, ok := member(o, "ci_binding").(*canon.Object); ok {
		a.CIBinding = &CIBinding{
			Provider: str(ci, "provider"), CommitSHA: str(ci, "commit_sha"), Repo: str(ci, "repo"), Ref: str(ci, "ref"),
			RunID: str(ci, "run_id"), RunAttempt: str(ci, "run_attempt"), WorkflowRef: str(ci, "workflow_ref"), Actor: str(ci, "actor"),
		}
	}
	return a
}

func member(o *canon.Object, k string) any {
	v, _ := o.Get(k)
	return v
}

func str(o *canon.Object, k string) string { return o.String(k) }

func optStr(o *canon.Object, k string) *string {
	if s, ok := member(o, k).(string); ok {
		return &s
	}
	return nil
}

// integer reads a JSON number that is a whole value (3, 3.0 and 3e0 alike,
// as the reference's Python compares them) within int range; else NoNumber.
func integer(v any) int {
	n, ok := v.(canon.Number)
	if !ok {
		return NoNumber
	}
	f, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
	if err != nil || !f.IsInt() {
		return NoNumber
	}
	i, acc := f.Int64()
	if acc != big.Exact || i < 0 || int64(int(i)) != i {
		return NoNumber
	}
	return int(i)
}

// Object is the manifest object exactly as decoded, for the schema check
// and for canonical forms; readers use the typed fields.
func (d *Doc) Object() *canon.Object { return d.obj }

// HasAttestation reports whether the manifest's attestation is a JSON
// object (its typed fields are zero otherwise).
func (d *Doc) HasAttestation() bool { return d.hasAtt }

// SigningBytes is the Ed25519 message of this manifest (§4.5).
func (d *Doc) SigningBytes() ([]byte, error) { return SigningBytes(d.obj) }

// errNoAttestation: the manifest's attestation is missing or not an object.
var errNoAttestation = errors.New("manifest has no attestation object")

// AttestationHash is sha256hex of the canonical attestation object as the
// manifest holds it (every member, as signed).
func (d *Doc) AttestationHash() (string, error) {
	a, ok := member(d.obj, "attestation").(*canon.Object)
	if !ok {
		return "", errNoAttestation
	}
	return AttestationHash(a)
}
