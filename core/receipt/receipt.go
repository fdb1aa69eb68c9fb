// Package receipt knows what a receipt is: the v0 projection, the pack line
// form, the type allowlist, ids, timestamps and content-hash recipes.
package receipt

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Receipt is one receipt: a JSON object with members kept in order.
type Receipt = canon.Object

// v0Stripped are the top-level keys the v0 projection removes before a
// receipt is written into a pack (pack-format.md §2.3).
var v0Stripped = []string{"signatures", "signature", "cose_signature", "receipt_hash", "anchor"}

// ProjectV0 returns r without the v0-stripped top-level keys. Nested keys are
// kept; r itself is not modified.
func ProjectV0(r *Receipt) *Receipt { return strip(r, v0Stripped) }

// v2Stripped are the top-level keys the receipt-core-v2 projection removes
// (pack-format.md §2.3): signatures and signer fields live outside what the
// v2 envelope attests.
var v2Stripped = []string{"verification_bundle", "signatures", "trust_anchors", "signature", "signer_id", "signer_pubkey_sha256", "cose_signature", "receipt_hash", "anchor"}

// ProjectV2 returns r without the receipt-core-v2 stripped keys.
func ProjectV2(r *Receipt) *Receipt { return strip(r, v2Stripped) }

// BundleDigestV2 is the ReceiptV2 bundle_digest: "sha256:" + hex of the
// canonical v2 projection.
func BundleDigestV2(r *Receipt) (string, error) {
	b, err := hashOpts.Marshal(ProjectV2(r))
	if err != nil {
		return "", err
	}
	return "sha256:" + SHA256Hex(b), nil
}

func strip(r *Receipt, keys []string) *Receipt {
	out := &Receipt{Members: make([]canon.Member, 0, len(r.Members))}
	for _, m := range r.Members {
		drop := false
		for _, k := range keys {
			if m.Key == k {
				drop = true
				break
			}
		}
		if !drop {
			out.Members = append(out.Members, m)
		}
	}
	return out
}

// lineOpts is the canonical form of a pack line: ASCII keys only, and
// U+2028/U+2029/U+0085 escaped so that Unicode-line-splitting verifiers see
// one receipt per line (DECISIONS 7).
var lineOpts = canon.Options{ASCIIKeys: true, EscapeLineSeparators: true}

// hashOpts is the canonical form used for head_hash (raw separators, as the
// reference hashes the projected receipt).
var hashOpts = canon.Options{ASCIIKeys: true}

// Line returns the pack line for r (v0 projection, canonical, no newline).
func Line(r *Receipt) ([]byte, error) {
	return lineOpts.Marshal(ProjectV0(r))
}

// Digest returns sha256hex of the canonical v0 projection of r: the
// last-receipt-digest-v0 head hash when r is the last receipt.
func Digest(r *Receipt) (string, error) {
	b, err := hashOpts.Marshal(ProjectV0(r))
	if err != nil {
		return "", err
	}
	return SHA256Hex(b), nil
}

// EmptyHeadHash is the head hash of a pack with no receipts: sha256("empty").
var EmptyHeadHash = SHA256Hex([]byte("empty"))

// SHA256Hex returns the lowercase hex SHA-256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// AllowedTypes is the verifier's proof-pack type allowlist (§1.4).
var AllowedTypes = []string{
	"ai_workflow", "capability_use", "challenge", "decision_v1",
	"governance_posture_snapshot", "grace_check", "guardian_check",
	"guardian_verdict", "mcp_tool_call", "model_call", "refusal",
	"revocation", "session_metadata", "supersession",
}

var allowed = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range AllowedTypes {
		m[t] = true
	}
	return m
}()

var namespaced = lazyre.New(`^[a-z0-9_]+(\.[a-z0-9_]+)+(/[a-z0-9_]+)?$`)

// TypeAllowed reports whether a pack may carry receipts of type t: a listed
// type, or a namespaced one (a.b[.c][/d]) outside the refused loom namespace.
func TypeAllowed(t string) bool {
	if allowed[t] {
		return true
	}
	if strings.HasPrefix(t, "loom.") {
		return false
	}
	return namespaced().MatchString(t)
}

// AllowedForms describes the allowlist for error messages.
func AllowedForms() string {
	s := append([]string(nil), AllowedTypes...)
	sort.Strings(s)
	return strings.Join(s, ", ") + ", or a namespaced type like acme.tool_call"
}

// NewID returns prefix + n random lowercase hex characters (r_ + 12 for
// emitted receipts, mcr_ + 16 for model calls, mtc_ + 16 for MCP tool calls).
func NewID(prefix string, n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)[:n]
}

// Timestamp formats t as the reference does: Python's isoformat on an aware
// UTC datetime, e.g. 2026-01-15T11:59:00.123456+00:00 (DECISIONS 4).
func Timestamp(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05") + "+00:00"
	}
	return t.Format("2006-01-02T15:04:05.000000") + "+00:00"
}

// Now returns the current time as a receipt timestamp.
func Now() string { return Timestamp(time.Now()) }

// ContentHashAlg names the recipe of ContentHash (DECISIONS 17).
const ContentHashAlg = "sha256-jcs-v1"

// ContentHash returns the full hex SHA-256 of the canonical JSON of v.
func ContentHash(v any) (string, error) {
	b, err := canon.Marshal(v)
	if err != nil {
		return "", err
	}
	return SHA256Hex(b), nil
}

// CanonicalLine is a helper for tests and tools: the pack line for r,
// with the trailing newline.
func CanonicalLine(r *Receipt) ([]byte, error) {
	b, err := Line(r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Equal reports whether two receipts have the same canonical form.
func Equal(a, b *Receipt) bool {
	x, err1 := canon.Marshal(a)
	y, err2 := canon.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
