// Package seal is the recorder's seal over a run's receipts: every receipt
// the recorder accepts is appended, as the exact store line, to an RFC 6962
// Merkle log of its own (core/merkle), and the log's root is checkpointed
// every second or every N receipts, signed by a key that exists only in the
// recorder's memory for this run. The run key's public half is certified,
// at the start of the run, by the pack signer.
//
// On disk a seal is a directory: cert.json (the certification), log.jsonl
// (the sealed store lines, in the order they were sealed), checkpoints.jsonl
// (the signed checkpoints) and alterations.jsonl (what the recorder saw go
// wrong while the run was live). A pack built from a seal carries its
// Summary in verify_report.json (hash-covered, so signed with the pack) and
// the log and checkpoints under _unsigned/seal/.
//
// This package defines the format, writes and reads seals, compares a store
// file with what was sealed, and checks the seal of a pack. It never prints.
package seal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/assay-dev/assay/core/canon"
)

// Format names and file names of a seal.
const (
	Format           = "assay.seal/v1"
	CertFormat       = "assay.seal.cert/v1"
	CheckpointFormat = "assay.seal.checkpoint/v1"
	Algorithm        = "rfc6962-sha256"

	FileCert        = "cert.json"
	FileLog         = "log.jsonl"
	FileCheckpoints = "checkpoints.jsonl"
	FileAlterations = "alterations.jsonl"

	// PackDir is where a pack keeps the bulky parts of its seal.
	PackDir = "_unsigned/seal"
	// ReportKey is the member of verify_report.json holding the Summary.
	ReportKey = "seal"
)

// Statuses of a seal, as a Summary records them.
const (
	// StatusIntact: the recorder closed the seal and the store matched it.
	StatusIntact = "intact"
	// StatusTruncated: the recorder stopped before the run ended (killed);
	// the seal reaches as far as its last checkpoint.
	StatusTruncated = "truncated"
	// StatusAltered: evidence was changed, removed, reordered or backdated
	// after it was recorded.
	StatusAltered = "altered"
)

// AlteredMessage is what a run says when the store no longer matches its
// seal.
const AlteredMessage = "evidence was altered after it was recorded"

// Cert is the pack signer's certification of a run key, made when the run
// starts (before the agent runs), so a key made up later cannot pass for it.
type Cert struct {
	Format    string `json:"format"`
	RunID     string `json:"run_id"`
	RunKey    string `json:"run_key"` // standard base64 of the raw Ed25519 public key
	SignerID  string `json:"signer_id"`
	SignerKey string `json:"signer_key"` // standard base64 of the pack signer's public key
	IssuedAt  string `json:"issued_at"`
	Signature string `json:"signature"` // by the pack signer, over the canonical JSON without this member
}

// Checkpoint is a signed statement of the seal's Merkle root at a size.
type Checkpoint struct {
	Format      string `json:"format"`
	RunID       string `json:"run_id"`
	TreeSize    uint64 `json:"tree_size"`
	Root        string `json:"root"` // hex
	At          string `json:"at"`
	Alterations int    `json:"alterations"` // alterations recorded so far
	Final       bool   `json:"final"`       // the recorder closed the seal
	Signature   string `json:"signature"`   // by the run key
}

// Alteration is one difference between what was sealed and what the store
// holds (or how a line arrived).
type Alteration struct {
	// Kind is changed, removed, reordered, inserted, truncated, backdated
	// or seal_log_altered.
	Kind   string `json:"kind"`
	Entry  uint64 `json:"entry,omitempty"` // 1-based index of the sealed entry
	Line   uint64 `json:"line,omitempty"`  // 1-based line in the store file
	Detail string `json:"detail"`
	Sealed string `json:"sealed_sha256,omitempty"` // of the sealed line
	Found  string `json:"found_sha256,omitempty"`  // of the line found instead
}

func (a Alteration) String() string {
	s := a.Kind
	if a.Entry > 0 {
		s += fmt.Sprintf(" (sealed receipt %d)", a.Entry)
	} else if a.Line > 0 {
		s += fmt.Sprintf(" (store line %d)", a.Line)
	}
	return s + ": " + a.Detail
}

// FileRef names a file of the pack and pins its bytes.
type FileRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Summary is the seal as a pack records it in verify_report.json.
type Summary struct {
	Format    string `json:"format"`
	Algorithm string `json:"algorithm"`
	Status    string `json:"status"`
	// Covers is how many receipts the seal covers (the last checkpoint's
	// tree size); Unsealed how many receipts of the pack it does not.
	Covers   uint64 `json:"covers"`
	Unsealed int    `json:"unsealed"`
	// Complete is true when the recorder closed the seal itself.
	Complete         bool         `json:"complete"`
	Cert             Cert         `json:"certification"`
	Checkpoint       Checkpoint   `json:"checkpoint"`
	Log              FileRef      `json:"log"`
	Checkpoints      FileRef      `json:"checkpoints"`
	Alterations      []Alteration `json:"alterations"`
	AlterationsTotal int          `json:"alterations_total"`
}

// MaxListed is how many alterations a Summary lists in full.
const MaxListed = 100

// canonical returns the canonical JSON of v with its "signature" member
// removed: the bytes a certification or checkpoint signature covers.
func canonical(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d, err := canon.Decode(raw)
	if err != nil {
		return nil, err
	}
	obj, ok := d.(*canon.Object)
	if !ok {
		return nil, errors.New("not an object")
	}
	out := &canon.Object{}
	for _, m := range obj.Members {
		if m.Key != "signature" {
			out.Members = append(out.Members, m)
		}
	}
	return canon.Marshal(out)
}

// SignCert fills c.Signature with the signer's signature.
func SignCert(c *Cert, priv ed25519.PrivateKey) error {
	c.Signature = ""
	msg, err := canonical(c)
	if err != nil {
		return err
	}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))
	return nil
}

// VerifyCert checks that c certifies a run key for runID and was signed by
// signerPub (the pack's signer).
func VerifyCert(c Cert, runID string, signerPub []byte) error {
	if c.Format != CertFormat {
		return fmt.Errorf("certification format %q, want %s", c.Format, CertFormat)
	}
	if c.RunID != runID {
		return fmt.Errorf("certification is for run %q, not %q", c.RunID, runID)
	}
	if len(signerPub) != ed25519.PublicKeySize {
		return errors.New("no pack signer key to check the certification with")
	}
	if k, err := base64.StdEncoding.DecodeString(c.SignerKey); err != nil || string(k) != string(signerPub) {
		return errors.New("the run key was certified by another signer than the pack's")
	}
	if _, err := c.runKey(); err != nil {
		return err
	}
	return verifySig(c, c.Signature, signerPub, "certification")
}

func (c Cert) runKey() (ed25519.PublicKey, error) {
	k, err := base64.StdEncoding.DecodeString(c.RunKey)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, errors.New("certification holds no valid run key")
	}
	return k, nil
}

// RunKeySHA256 is the fingerprint of the certified run key (sha256 hex).
func (c Cert) RunKeySHA256() string {
	k, err := c.runKey()
	if err != nil {
		return ""
	}
	h := sha256.Sum256(k)
	return hex.EncodeToString(h[:])
}

// SignCheckpoint fills cp.Signature with the run key's signature.
func SignCheckpoint(cp *Checkpoint, runKey ed25519.PrivateKey) error {
	cp.Signature = ""
	msg, err := canonical(cp)
	if err != nil {
		return err
	}
	cp.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(runKey, msg))
	return nil
}

// VerifyCheckpoint checks cp's signature under the certified run key.
func VerifyCheckpoint(cp Checkpoint, c Cert) error {
	if cp.Format != CheckpointFormat {
		return fmt.Errorf("checkpoint format %q, want %s", cp.Format, CheckpointFormat)
	}
	if cp.RunID != c.RunID {
		return fmt.Errorf("checkpoint is for run %q, not %q", cp.RunID, c.RunID)
	}
	k, err := c.runKey()
	if err != nil {
		return err
	}
	return verifySig(cp, cp.Signature, k, "checkpoint")
}

func verifySig(v any, sigB64 string, pub []byte, what string) error {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%s signature is not a base64 Ed25519 signature", what)
	}
	msg, err := canonical(v)
	if err != nil {
		return fmt.Errorf("%s cannot be canonicalized: %w", what, err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("%s signature does not verify", what)
	}
	return nil
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
