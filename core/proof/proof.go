// Package proof makes and checks single-receipt proofs (DECISIONS 9): one
// JSON file holding a receipt line, its RFC 6962 inclusion proof under the
// Merkle root recorded in the pack's verify_report.json, the signed manifest
// and the report itself, so an auditor can be shown one receipt of a million
// and check it offline without the rest of the pack.
//
// The chain of trust: the manifest signature (embedded Ed25519 key) covers
// the manifest, whose `files` entry pins the sha256 of verify_report.json,
// whose `merkle` object pins the root and tree size, under which the audit
// path proves the receipt line's position.
//
// The file is canonical JSON (the project's canonical profile, keys sorted,
// no whitespace) plus one newline, and Check refuses any other encoding, so
// every byte of the file is either checked or part of something checked: a
// single changed byte anywhere makes the proof fail.
package proof

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Format names the layout of a proof file.
const Format = "assay.receipt_proof.v1"

// Top-level and inclusion keys of a proof file; no others are allowed.
var (
	topKeys       = []string{"format", "inclusion", "pack_id", "pack_manifest", "receipt_id", "receipt_line", "verify_report"}
	inclusionKeys = []string{"algorithm", "audit_path", "leaf_index", "root", "tree_size"}
)

// Inclusion is the RFC 6962 inclusion proof of the receipt line.
type Inclusion struct {
	Algorithm string   `json:"algorithm"`
	LeafIndex uint64   `json:"leaf_index"`
	TreeSize  uint64   `json:"tree_size"`
	Root      string   `json:"root"`
	AuditPath []string `json:"audit_path"`
}

// Proof is the content of a proof file.
type Proof struct {
	Format      string
	PackID      string
	ReceiptID   string
	ReceiptLine string
	Inclusion   Inclusion
	// Manifest is the pack's pack_manifest.json, decoded (the signature
	// covers its canonical form, not the file's bytes).
	Manifest *pack.Doc
	// VerifyReport is the pack's verify_report.json byte for byte, as a
	// string, since the manifest pins the sha256 of those exact bytes.
	VerifyReport string
}

// Marshal returns the canonical proof file bytes (with a final newline).
func (p *Proof) Marshal() ([]byte, error) {
	path := make([]any, len(p.Inclusion.AuditPath))
	for i, h := range p.Inclusion.AuditPath {
		path[i] = h
	}
	doc := map[string]any{
		"format":        p.Format,
		"pack_id":       p.PackID,
		"receipt_id":    p.ReceiptID,
		"receipt_line":  p.ReceiptLine,
		"pack_manifest": p.Manifest.Object(),
		"verify_report": p.VerifyReport,
		"inclusion": map[string]any{
			"algorithm":  p.Inclusion.Algorithm,
			"leaf_index": canon.Number(strconv.FormatUint(p.Inclusion.LeafIndex, 10)),
			"tree_size":  canon.Number(strconv.FormatUint(p.Inclusion.TreeSize, 10)),
			"root":       p.Inclusion.Root,
			"audit_path": path,
		},
	}
	b, err := canon.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode proof: %w", err)
	}
	return append(b, '\n'), nil
}

// Step is one check of a proof, in order.
type Step struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Result is the outcome of Check.
type Result struct {
	OK        bool     `json:"ok"`
	ExitCode  int      `json:"exit_code"`
	ReceiptID string   `json:"receipt_id,omitempty"`
	PackID    string   `json:"pack_id,omitempty"`
	SignerID  string   `json:"signer_id,omitempty"`
	Signer    string   `json:"signer_pubkey_sha256,omitempty"`
	LeafIndex uint64   `json:"leaf_index"`
	TreeSize  uint64   `json:"tree_size"`
	Root      string   `json:"merkle_root,omitempty"`
	Steps     []Step   `json:"steps"`
	Errors    []string `json:"errors"`
	// Receipt is the proven receipt line (only when OK).
	Receipt string `json:"receipt_line,omitempty"`
}

func (r *Result) step(name string, err error) bool {
	s := Step{Name: name, OK: err == nil}
	if err != nil {
		s.Detail = err.Error()
		r.Errors = append(r.Errors, name+": "+err.Error())
	}
	r.Steps = append(r.Steps, s)
	return err == nil
}

var hex64 = lazyre.New(`^[0-9a-f]{64}$`)

// Check verifies a proof file's bytes offline. A file that is not a JSON
// object in the proof format is bad input (exit 3); a proof file whose
// content does not check out is tampered (exit 2). Every check runs even
// after a failure, so the result names everything that is wrong.
func Check(data []byte) *Result {
	res := &Result{Steps: []Step{}, Errors: []string{}}
	bad := func(format string, args ...any) *Result {
		res.ExitCode = exit.BadInput
		res.Errors = append(res.Errors, fmt.Sprintf(format, args...))
		return res
	}
	v, err := canon.Decode(data)
	if err != nil {
		return bad("not a receipt proof: not valid JSON (%v)", err)
	}
	doc, ok := v.(*canon.Object)
	if !ok {
		return bad("not a receipt proof: not a JSON object")
	}
	if f := doc.String("format"); f != Format {
		return bad("not a receipt proof: format is %q, want %q", f, Format)
	}
	res.ExitCode = exit.Tampered

	// 1. Encoding: exactly the canonical bytes, exactly the known fields.
	p, perr := parse(doc)
	canonical, cerr := canon.Marshal(doc)
	if cerr == nil && !bytes.Equal(append(canonical, '\n'), data) {
		cerr = fmt.Errorf("file is not in canonical form (it was edited)")
	}
	if perr != nil {
		cerr = perr
	}
	if !res.step("encoding", cerr) || p == nil {
		return res
	}
	res.ReceiptID, res.PackID = p.ReceiptID, p.PackID
	res.LeafIndex, res.TreeSize, res.Root = p.Inclusion.LeafIndex, p.Inclusion.TreeSize, p.Inclusion.Root
	res.SignerID = p.Manifest.SignerID
	res.Signer = p.Manifest.SignerPubkeySHA256

	// 2. The manifest signature, with the key embedded in the manifest.
	res.step("manifest_signature", checkSignature(p.Manifest))
	// 3. D12: attestation hash and pack root agree with the signed attestation.
	res.step("attestation_hash", checkD12(p.Manifest))
	// 4. The proof names the manifest's pack.
	res.step("pack_id", func() error {
		mid := p.Manifest.PackID
		if mid != p.PackID {
			return fmt.Errorf("proof says pack %q, manifest says %q", p.PackID, mid)
		}
		if aid := p.Manifest.Attestation.PackID; aid != mid {
			return fmt.Errorf("attestation pack_id %q differs from manifest pack_id %q", aid, mid)
		}
		return nil
	}())
	// 5. The report is the one the manifest pins.
	res.step("report_hash", checkReportHash(p.Manifest, []byte(p.VerifyReport)))
	// 6. The proof uses the report's Merkle root and tree size.
	res.step("merkle_root", checkReportMerkle(p, p.Manifest))
	// 7. The line is the receipt the proof names.
	res.step("receipt", checkLine(p))
	// 8. The audit path proves the line at leaf_index under the root.
	if res.step("inclusion", checkInclusion(p)) && len(res.Errors) == 0 {
		res.OK, res.ExitCode = true, exit.OK
		res.Receipt = p.ReceiptLine
	}
	return res
}

func parse(doc *canon.Object) (*Proof, error) {
	if err := exactKeys(doc, topKeys, "proof"); err != nil {
		return nil, err
	}
	p := &Proof{Format: doc.String("format")}
	// The proof's own string members (its pack_id is the proof's claim,
	// held against the embedded manifest's in Check).
	for _, f := range []struct {
		key string
		dst *string
	}{{"pack_id", &p.PackID}, {"receipt_id", &p.ReceiptID}, {"receipt_line", &p.ReceiptLine}, {"verify_report", &p.VerifyReport}} {
		v, _ := doc.Get(f.key)
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s is not a string", f.key)
		}
		*f.dst = s
	}
	var err error
	mv, _ := doc.Get("pack_manifest")
	mo, ok := mv.(*canon.Object)
	if !ok {
		return nil, fmt.Errorf("pack_manifest is not an object")
	}
	p.Manifest = pack.DocOf(mo)
	iv, _ := doc.Get("inclusion")
	inc, ok := iv.(*canon.Object)
	if !ok {
		return nil, fmt.Errorf("inclusion is not an object")
	}
	if err := exactKeys(inc, inclusionKeys, "inclusion"); err != nil {
		return nil, err
	}
	p.Inclusion.Algorithm = inc.String("algorithm")
	if p.Inclusion.Algorithm != merkle.Algorithm {
		return nil, fmt.Errorf("inclusion.algorithm is %q, want %q", p.Inclusion.Algorithm, merkle.Algorithm)
	}
	if p.Inclusion.LeafIndex, err = uintField(inc, "leaf_index"); err != nil {
		return nil, err
	}
	if p.Inclusion.TreeSize, err = uintField(inc, "tree_size"); err != nil {
		return nil, err
	}
	p.Inclusion.Root = inc.String("root")
	if !hex64().MatchString(p.Inclusion.Root) {
		return nil, fmt.Errorf("inclusion.root is not 64 lowercase hex characters")
	}
	ap, _ := inc.Get("audit_path")
	list, ok := ap.([]any)
	if !ok {
		return nil, fmt.Errorf("inclusion.audit_path is not a list")
	}
	for i, h := range list {
		s, ok := h.(string)
		if !ok || !hex64().MatchString(s) {
			return nil, fmt.Errorf("inclusion.audit_path[%d] is not 64 lowercase hex characters", i)
		}
		p.Inclusion.AuditPath = append(p.Inclusion.AuditPath, s)
	}
	return p, nil
}

func exactKeys(o *canon.Object, want []string, what string) error {
	if len(o.Members) != len(want) {
		return fmt.Errorf("%s has %d fields, want exactly %v", what, len(o.Members), want)
	}
	for _, k := range want {
		if _, ok := o.Get(k); !ok {
			return fmt.Errorf("%s lacks field %q", what, k)
		}
	}
	return nil
}

func uintField(o *canon.Object, k string) (uint64, error) {
	v, _ := o.Get(k)
	n, ok := v.(canon.Number)
	if !ok || !n.IsInt() {
		return 0, fmt.Errorf("inclusion.%s is not an integer", k)
	}
	u, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("inclusion.%s is not a non-negative integer", k)
	}
	return u, nil
}

// strictB64 decodes standard padded base64 and refuses non-canonical
// encodings (non-zero padding bits, line breaks), so no two texts decode to
// one key; verify-pack decodes with the same function.
func strictB64(s string) ([]byte, error) { return keys.DecodeB64(s) }

func checkSignature(m *pack.Doc) error {
	if alg := m.SignatureAlg; alg != "ed25519" {
		return fmt.Errorf("signature_alg is %q, want ed25519", alg)
	}
	pub, err := strictB64(m.SignerPubkey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("signer_pubkey is not a base64 Ed25519 public key")
	}
	fp := sha256.Sum256(pub)
	if got := m.SignerPubkeySHA256; got != hex.EncodeToString(fp[:]) {
		return fmt.Errorf("signer_pubkey_sha256 does not match the embedded public key")
	}
	sig, err := strictB64(m.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("signature is not a base64 Ed25519 signature")
	}
	msg, err := m.SigningBytes()
	if err != nil {
		return fmt.Errorf("manifest cannot be canonicalized: %v", err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("manifest signature does not verify with the embedded key")
	}
	return nil
}

func checkD12(m *pack.Doc) error {
	if !m.HasAttestation() {
		return fmt.Errorf("manifest has no attestation object")
	}
	h, err := m.AttestationHash()
	if err != nil {
		return fmt.Errorf("attestation cannot be canonicalized: %v", err)
	}
	if m.AttestationSHA256 != h {
		return fmt.Errorf("attestation_sha256 does not match the attestation")
	}
	if m.PackRootSHA256 != h {
		return fmt.Errorf("pack_root_sha256 differs from attestation_sha256")
	}
	return nil
}

func checkReportHash(m *pack.Doc, report []byte) error {
	for _, fo := range m.Files {
		if fo.Path != pack.FileReport {
			continue
		}
		sum := sha256.Sum256(report)
		if fo.SHA256 != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("verify_report sha256 differs from the manifest's files entry")
		}
		if fo.Bytes != int64(len(report)) {
			return fmt.Errorf("verify_report size differs from the manifest's files entry")
		}
		return nil
	}
	return fmt.Errorf("manifest has no files entry for %s", pack.FileReport)
}

func checkReportMerkle(p *Proof, m *pack.Doc) error {
	v, err := canon.Decode([]byte(p.VerifyReport))
	rep, ok := v.(*canon.Object)
	if err != nil || !ok {
		return fmt.Errorf("verify_report is not a JSON object")
	}
	mv, _ := rep.Get("merkle")
	mo, ok := mv.(*canon.Object)
	if !ok {
		return fmt.Errorf("verify_report has no merkle object (pack built without a Merkle root)")
	}
	if alg := mo.String("algorithm"); alg != merkle.Algorithm {
		return fmt.Errorf("report merkle.algorithm is %q, want %q", alg, merkle.Algorithm)
	}
	if mo.String("root") != p.Inclusion.Root {
		return fmt.Errorf("proof root differs from the report's merkle.root")
	}
	ts, _ := mo.Get("tree_size")
	if ts != canon.Number(strconv.FormatUint(p.Inclusion.TreeSize, 10)) {
		return fmt.Errorf("proof tree_size %d differs from the report's merkle.tree_size", p.Inclusion.TreeSize)
	}
	if n := m.ReceiptCountExpected; n < 0 || uint64(n) != p.Inclusion.TreeSize {
		return fmt.Errorf("tree_size %d differs from the manifest's receipt_count_expected", p.Inclusion.TreeSize)
	}
	return nil
}

func checkLine(p *Proof) error {
	if bytes.ContainsAny([]byte(p.ReceiptLine), "\n") {
		return fmt.Errorf("receipt_line contains a newline")
	}
	v, err := canon.Decode([]byte(p.ReceiptLine))
	r, ok := v.(*canon.Object)
	if err != nil || !ok {
		return fmt.Errorf("receipt_line is not a JSON object")
	}
	if id := r.String("receipt_id"); id != p.ReceiptID {
		return fmt.Errorf("receipt_line has receipt_id %q, proof names %q", id, p.ReceiptID)
	}
	return nil
}

func checkInclusion(p *Proof) error {
	if p.Inclusion.LeafIndex >= p.Inclusion.TreeSize {
		return fmt.Errorf("leaf_index %d is outside a tree of size %d", p.Inclusion.LeafIndex, p.Inclusion.TreeSize)
	}
	root, _ := hex.DecodeString(p.Inclusion.Root)
	path := make([][]byte, len(p.Inclusion.AuditPath))
	for i, h := range p.Inclusion.AuditPath {
		path[i], _ = hex.DecodeString(h)
	}
	leaf := merkle.LeafHash([]byte(p.ReceiptLine))
	if err := merkle.VerifyInclusion(p.Inclusion.LeafIndex, p.Inclusion.TreeSize, leaf, path, root); err != nil {
		return fmt.Errorf("the receipt line is not at leaf %d under the root: %v", p.Inclusion.LeafIndex, err)
	}
	return nil
}
