// Package lock reads, writes and validates assay.lock (pack-format.md §7,
// DECISIONS 6 and 15): the card set, pack format and signer policy a CI
// pipeline freezes, and the comparison of a pack's manifest with it.
//
// Files are shaped like the reference's (json.dumps(indent=2) + "\n") and
// carry version fields that the reference 1.24 line accepts, so the
// reference's `lock check` passes on them. Our own Validate does not compare
// the running version with assay_version_min/max: those name the reference's
// release line, not ours.
package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/assay-dev/assay/core/suggest"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/pyjson"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/version"
	"github.com/assay-dev/assay/internal/lazyre"
)

// Fixed values of the lock format.
const (
	LockVersion          = "1.0"
	ReceiptSchemaVersion = "3.0"
	// ReferenceVersionMin and ReferenceVersionMax bracket the reference
	// releases that read pack format 0.1.0 and this lock format; a lock
	// naming them passes the reference's own version gate.
	ReferenceVersionMin = "1.24.0"
	ReferenceVersionMax = "2.0.0"
	// DefaultPath is where lock commands read and write by default.
	DefaultPath = "assay.lock"
)

// ExitContract is the reference's fixed exit_contract object.
var ExitContract = map[string]string{
	"0": "integrity_pass AND claims_pass",
	"1": "integrity_pass AND claims_fail",
	"2": "integrity_fail",
}

// Signer policy modes.
const (
	ModeAny       = "any"
	ModeAllowlist = "allowlist"
)

// CardRef is one entry of run_cards.
type CardRef struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ClaimSetHash string `json:"claim_set_hash"`
}

// SignerPolicy says which signers a locked pack may have.
type SignerPolicy struct {
	Mode                string   `json:"mode"`
	AllowedFingerprints []string `json:"allowed_fingerprints"`
}

// Lock is an assay.lock document, fields in the reference's order.
type Lock struct {
	LockVersion           string            `json:"lock_version"`
	AssayVersionMin       string            `json:"assay_version_min"`
	AssayVersionMax       string            `json:"assay_version_max,omitempty"`
	PackFormatVersion     string            `json:"pack_format_version"`
	ReceiptSchemaVersion  string            `json:"receipt_schema_version,omitempty"`
	RunCards              []CardRef         `json:"run_cards"`
	RunCardsCompositeHash string            `json:"run_cards_composite_hash"`
	ClaimSetHash          string            `json:"claim_set_hash"`
	ExitContract          map[string]string `json:"exit_contract"`
	SignerPolicy          SignerPolicy      `json:"signer_policy"`
	LockedAt              string            `json:"locked_at,omitempty"`
	LockedByAssayVersion  string            `json:"locked_by_assay_version,omitempty"`

	// present records which top-level fields the file had (for Validate).
	present map[string]bool
}

// required are the fields the reference's lock check insists on.
var required = []string{"lock_version", "assay_version_min", "pack_format_version", "run_cards", "run_cards_composite_hash", "claim_set_hash", "exit_contract", "signer_policy"}

var hex64 = lazyre.New(`^[0-9a-f]{64}$`)

// IsFingerprint reports whether s is a 64-hex lowercase fingerprint.
func IsFingerprint(s string) bool { return hex64().MatchString(s) }

// New builds a lock for built-in cards (in the given order) and, when
// fingerprints are given, an allowlist signer policy.
func New(cardIDs []string, fingerprints []string) (*Lock, error) {
	if len(cardIDs) == 0 {
		return nil, exit.Bad("name built-in cards with --cards, e.g. --cards receipt_completeness,no_breakglass", "no cards to lock")
	}
	l := &Lock{
		LockVersion:          LockVersion,
		AssayVersionMin:      ReferenceVersionMin,
		AssayVersionMax:      ReferenceVersionMax,
		PackFormatVersion:    version.PackFormat,
		ReceiptSchemaVersion: ReceiptSchemaVersion,
		ExitContract:         map[string]string{},
		SignerPolicy:         SignerPolicy{Mode: ModeAny, AllowedFingerprints: []string{}},
		LockedAt:             receipt.Now(),
		LockedByAssayVersion: version.Version,
	}
	for k, v := range ExitContract {
		l.ExitContract[k] = v
	}
	var cards []*claims.Card
	for _, id := range cardIDs {
		c, ok := claims.Builtin(id)
		if !ok {
			return nil, exit.Bad(suggest.Hint(id, claims.BuiltinIDs())+"a lock names built-in cards only: "+strings.Join(claims.BuiltinIDs(), ", "), "unknown built-in card %q", id)
		}
		h, err := claims.SetHash(c.Claims)
		if err != nil {
			return nil, err
		}
		l.RunCards = append(l.RunCards, CardRef{ID: c.CardID, Name: c.Name, ClaimSetHash: h})
		cards = append(cards, c)
	}
	var err error
	if l.RunCardsCompositeHash, err = compositeHash(l.RunCards); err != nil {
		return nil, err
	}
	if l.ClaimSetHash, err = claims.SetHash(claims.Flatten(cards)); err != nil {
		return nil, err
	}
	for _, fp := range fingerprints {
		if err := l.Allow(fp); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Allow adds a fingerprint to the allowlist (once) and switches the policy
// to allowlist mode.
func (l *Lock) Allow(fp string) error {
	fp = strings.ToLower(strings.TrimSpace(fp))
	if !IsFingerprint(fp) {
		return exit.Bad("a signer fingerprint is the 64-hex sha256 of its public key ('assay key info' shows it)", "invalid signer fingerprint %q", fp)
	}
	l.SignerPolicy.Mode = ModeAllowlist
	for _, f := range l.SignerPolicy.AllowedFingerprints {
		if f == fp {
			return nil
		}
	}
	l.SignerPolicy.AllowedFingerprints = append(l.SignerPolicy.AllowedFingerprints, fp)
	return nil
}

// Disallow removes a fingerprint from the allowlist and reports whether it
// was there. The mode stays allowlist: an emptied allowlist fails Validate, as
// revoking the last pinned key should.
func (l *Lock) Disallow(fp string) bool {
	fp = strings.ToLower(fp)
	out := l.SignerPolicy.AllowedFingerprints[:0]
	found := false
	for _, f := range l.SignerPolicy.AllowedFingerprints {
		if f == fp {
			found = true
			continue
		}
		out = append(out, f)
	}
	l.SignerPolicy.AllowedFingerprints = out
	return found
}

func compositeHash(refs []CardRef) (string, error) {
	hs := make([]string, len(refs))
	for i, r := range refs {
		hs[i] = r.ClaimSetHash
	}
	b, err := canon.Marshal(hs)
	if err != nil {
		return "", err
	}
	return receipt.SHA256Hex(b), nil
}

// Load reads a lock file. A missing, unreadable or invalid file is bad
// input (exit 3); content problems are for Validate.
func Load(path string) (*Lock, error) { return LoadWith(path, os.ReadFile) }

// LoadWith is Load reading the file with read (a reader confined to a
// root, for paths that come from outside).
func LoadWith(path string, read func(string) ([]byte, error)) (*Lock, error) {
	data, err := read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, exit.Bad("write one with 'assay lock write --cards ...'", "lock file not found: %s", path)
	}
	if err != nil {
		return nil, exit.Bad("check the path and its permissions", "cannot read lock file %s: %v", path, unwrapPath(err))
	}
	l, err := Parse(data)
	if err != nil {
		return nil, exit.Bad("regenerate it with 'assay lock write --cards ...'", "invalid lock file %s: %v", path, err)
	}
	return l, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse decodes lock bytes.
func Parse(data []byte) (*Lock, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonProblem(err)
	}
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, jsonProblem(err)
	}
	l.present = map[string]bool{}
	for k, v := range raw {
		if string(bytes.TrimSpace(v)) != "null" {
			l.present[k] = true
		}
	}
	return &l, nil
}

func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q must be %s, not a JSON %s", te.Field, kindName(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, err)
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

func kindName(k string) string {
	switch k {
	case "slice":
		return "a list"
	case "map", "struct":
		return "an object"
	}
	return "a " + k
}

// Validate reports the problems of the lock file itself (pack-format.md
// §7.2, without the version gate): missing fields, lock_version, signer
// policy, exit contract, unknown cards, per-card hash drift, and the
// composite and flat hashes. An empty result means the lock is valid. It is
// what the `assay lock check` command runs; in the code "check" is kept for
// a claim's checks.
func Validate(l *Lock) []string {
	var issues []string
	add := func(format string, args ...any) { issues = append(issues, fmt.Sprintf(format, args...)) }
	for _, f := range required {
		if l.present != nil && !l.present[f] {
			add("missing required field %q", f)
		}
	}
	if l.LockVersion != LockVersion {
		add("lock_version is %q, must be %q", l.LockVersion, LockVersion)
	}
	switch l.SignerPolicy.Mode {
	case ModeAny:
	case ModeAllowlist:
		if len(l.SignerPolicy.AllowedFingerprints) == 0 {
			add("signer_policy: allowlist mode with an empty allowed_fingerprints list")
		}
		for _, fp := range l.SignerPolicy.AllowedFingerprints {
			if !IsFingerprint(fp) {
				add("signer_policy: %q is not a 64-hex fingerprint", fp)
			}
		}
	default:
		add("signer_policy.mode is %q, must be %q or %q", l.SignerPolicy.Mode, ModeAny, ModeAllowlist)
	}
	for _, k := range []string{"0", "1", "2"} {
		if _, ok := l.ExitContract[k]; !ok {
			add("exit_contract has no key %q", k)
		}
	}
	var cards []*claims.Card
	known := true
	for i, r := range l.RunCards {
		c, ok := claims.Builtin(r.ID)
		if !ok {
			add("run_cards[%d]: %q is not a built-in card", i, r.ID)
			known = false
			continue
		}
		cards = append(cards, c)
		if h, _ := claims.SetHash(c.Claims); h != r.ClaimSetHash {
			add("run_cards[%d] (%s): claim_set_hash drift: lock has %s, the card hashes to %s", i, r.ID, short(r.ClaimSetHash), short(h))
		}
	}
	if len(l.RunCards) == 0 {
		add("run_cards is empty")
	}
	if h, _ := compositeHash(l.RunCards); h != l.RunCardsCompositeHash {
		add("run_cards_composite_hash drift: lock has %s, its run_cards hash to %s", short(l.RunCardsCompositeHash), short(h))
	}
	if known {
		if h, _ := claims.SetHash(claims.Flatten(cards)); h != l.ClaimSetHash {
			add("claim_set_hash drift: lock has %s, its run_cards hash to %s", short(l.ClaimSetHash), short(h))
		}
	}
	return issues
}

// Manifest holds the pack fields a lock is compared with, as plain strings
// (attestation.pack_format_version, claim_set_hash, signer_pubkey_sha256).
type Manifest struct {
	PackFormatVersion  string
	ClaimSetHash       string
	SignerPubkeySHA256 string
}

// Mismatch is one difference between a pack and the lock.
type Mismatch struct {
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Got      string `json:"got"`
}

// String is "lock mismatch: <field>: expected X, got Y".
func (m Mismatch) String() string {
	return "lock mismatch: " + m.Field + ": expected " + m.Expected + ", got " + m.Got
}

// Compare lists how a pack differs from the lock (pack-format.md §7.3):
// format version, claim set and, in allowlist mode, the signer. Hashes are
// shortened to 16 hex in the texts.
func Compare(l *Lock, m Manifest) []Mismatch {
	var out []Mismatch
	if m.PackFormatVersion != l.PackFormatVersion {
		out = append(out, Mismatch{"pack_format_version", l.PackFormatVersion, m.PackFormatVersion})
	}
	if m.ClaimSetHash != l.ClaimSetHash {
		out = append(out, Mismatch{"claim_set_hash", short(l.ClaimSetHash), short(m.ClaimSetHash)})
	}
	if l.SignerPolicy.Mode == ModeAllowlist {
		fps := l.SignerPolicy.AllowedFingerprints
		switch {
		case len(fps) == 0:
			out = append(out, Mismatch{"signer_pubkey_sha256", "an allowlisted signer (the allowlist is empty)", short(m.SignerPubkeySHA256)})
		case !contains(fps, strings.ToLower(m.SignerPubkeySHA256)):
			shorts := make([]string, len(fps))
			for i, f := range fps {
				shorts[i] = short(f)
			}
			sort.Strings(shorts)
			exp := shorts[0]
			if len(shorts) > 1 {
				exp = "one of " + strings.Join(shorts, ", ")
			}
			out = append(out, Mismatch{"signer_pubkey_sha256", exp, short(m.SignerPubkeySHA256)})
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if strings.ToLower(e) == s {
			return true
		}
	}
	return false
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// Marshal is the file form: Python json.dumps(indent=2) + "\n" (", "/": "
// separators, non-ASCII escaped).
func (l *Lock) Marshal() ([]byte, error) {
	b, err := pyjson.Indent(l)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Write stores the lock at path atomically.
func (l *Lock) Write(path string) error {
	b, err := l.Marshal()
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(path, b, 0o644); err != nil {
		return exit.Bad("check the directory exists and is writable", "cannot write lock file %s: %v", path, unwrapPath(err))
	}
	return nil
}
