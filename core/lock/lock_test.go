package lock

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
)

const refDir = "../../testdata/vectors/reference-1.24"

var refCards = []string{"receipt_completeness", "no_breakglass", "timestamp_ordering", "schema_consistency"}

// Our writer reproduces the reference's lock byte for byte (given its
// timestamp and version stamp), and the reference's lock passes our check.
func TestReferenceLock(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join(refDir, "assay.lock"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Load(filepath.Join(refDir, "assay.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if issues := Validate(ref); len(issues) != 0 {
		t.Fatalf("reference lock has issues: %v", issues)
	}
	l, err := New(refCards, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.LockedAt, l.LockedByAssayVersion = ref.LockedAt, ref.LockedByAssayVersion
	got, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("lock bytes differ:\n%s\nwant\n%s", got, want)
	}
	if ms := Compare(ref, runPackManifest(t)); len(ms) != 0 {
		t.Fatalf("reference run_pack mismatches its lock: %v", ms)
	}
}

func runPackManifest(t *testing.T) Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, "run_pack", "pack_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ClaimSetHash string `json:"claim_set_hash"`
		Fp           string `json:"signer_pubkey_sha256"`
		Att          struct {
			V string `json:"pack_format_version"`
		} `json:"attestation"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return Manifest{PackFormatVersion: m.Att.V, ClaimSetHash: m.ClaimSetHash, SignerPubkeySHA256: m.Fp}
}

func TestFromPack(t *testing.T) {
	t.Parallel()
	l, err := FromPack(filepath.Join(refDir, "run_pack"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.CardIDs(), refCards) {
		t.Errorf("cards %v", l.CardIDs())
	}
	if issues := Validate(l); len(issues) != 0 {
		t.Errorf("issues %v", issues)
	}
	// Round trip through the file form.
	p := filepath.Join(t.TempDir(), "assay.lock")
	if err := l.Write(p); err != nil {
		t.Fatal(err)
	}
	l2, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if issues := Validate(l2); len(issues) != 0 {
		t.Errorf("issues after round trip %v", issues)
	}
	if ms := Compare(l2, runPackManifest(t)); len(ms) != 0 {
		t.Errorf("mismatches %v", ms)
	}
	// A pack without claims cannot be locked: exit 3.
	_, err = FromPack(filepath.Join(refDir, "mcp_pack"))
	if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "declares no claims") {
		t.Errorf("no-claims pack: %v", err)
	}
	// Nor can one built with custom cards (the challenge pack's).
	_, err = FromPack(filepath.Join(refDir, "challenge_good"))
	if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "not built-in cards") {
		t.Errorf("custom-card pack: %v", err)
	}
	_, err = FromPack(t.TempDir())
	if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "no pack_manifest.json") {
		t.Errorf("not a pack: %v", err)
	}
}

func TestCheckIssues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(l *Lock)
		want   string
	}{
		{"version", func(l *Lock) { l.LockVersion = "2.0" }, `lock_version is "2.0"`},
		{"mode", func(l *Lock) { l.SignerPolicy.Mode = "some" }, `signer_policy.mode is "some"`},
		{"empty allowlist", func(l *Lock) { l.SignerPolicy.Mode = ModeAllowlist }, "empty allowed_fingerprints"},
		{"bad fp", func(l *Lock) { l.SignerPolicy = SignerPolicy{ModeAllowlist, []string{"abc"}} }, `"abc" is not a 64-hex`},
		{"exit contract", func(l *Lock) { delete(l.ExitContract, "1") }, `exit_contract has no key "1"`},
		{"unknown card", func(l *Lock) { l.RunCards[0].ID = "nope" }, `run_cards[0]: "nope" is not a built-in card`},
		{"card drift", func(l *Lock) { l.RunCards[1].ClaimSetHash = strings.Repeat("0", 64) }, "run_cards[1] (no_breakglass): claim_set_hash drift"},
		{"composite", func(l *Lock) { l.RunCardsCompositeHash = strings.Repeat("1", 64) }, "run_cards_composite_hash drift"},
		{"flat", func(l *Lock) { l.ClaimSetHash = strings.Repeat("2", 64) }, "claim_set_hash drift: lock has 2222222222222222"},
		{"no cards", func(l *Lock) { l.RunCards = nil }, "run_cards is empty"},
	}
	for _, tc := range tests {
		l, _ := New(refCards, nil)
		tc.mutate(l)
		issues := Validate(l)
		if !strings.Contains(strings.Join(issues, "\n"), tc.want) {
			t.Errorf("%s: issues %v, want %q", tc.name, issues, tc.want)
		}
	}
	l, _ := Parse([]byte(`{"lock_version":"1.0"}`))
	if issues := strings.Join(Validate(l), "\n"); !strings.Contains(issues, `missing required field "claim_set_hash"`) || !strings.Contains(issues, `missing required field "signer_policy"`) {
		t.Errorf("missing fields: %s", issues)
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	fpA, fpB := strings.Repeat("a", 64), strings.Repeat("b", 64)
	l, err := New(refCards, []string{fpA})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New([]string{"receipt_completeness"}, nil)
	good := Manifest{PackFormatVersion: "0.1.0", ClaimSetHash: l.ClaimSetHash, SignerPubkeySHA256: fpA}
	tests := []struct {
		name string
		m    func(m Manifest) Manifest
		want []string
	}{
		{"match", func(m Manifest) Manifest { return m }, nil},
		{"cards", func(m Manifest) Manifest { m.ClaimSetHash = other.ClaimSetHash; return m },
			[]string{"lock mismatch: claim_set_hash: expected " + l.ClaimSetHash[:16] + ", got " + other.ClaimSetHash[:16]}},
		{"format", func(m Manifest) Manifest { m.PackFormatVersion = "0.2.0"; return m },
			[]string{"lock mismatch: pack_format_version: expected 0.1.0, got 0.2.0"}},
		{"signer", func(m Manifest) Manifest { m.SignerPubkeySHA256 = fpB; return m },
			[]string{"lock mismatch: signer_pubkey_sha256: expected aaaaaaaaaaaaaaaa, got bbbbbbbbbbbbbbbb"}},
	}
	for _, tc := range tests {
		var got []string
		for _, m := range Compare(l, tc.m(good)) {
			got = append(got, m.String())
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Mode any ignores the signer; an emptied allowlist refuses every signer.
	l.SignerPolicy = SignerPolicy{ModeAny, []string{}}
	if ms := Compare(l, Manifest{"0.1.0", l.ClaimSetHash, fpB}); len(ms) != 0 {
		t.Errorf("mode any: %v", ms)
	}
	_ = l.Allow(fpB)
	_ = l.Allow(fpA)
	if ms := Compare(l, Manifest{"0.1.0", l.ClaimSetHash, strings.Repeat("c", 64)}); len(ms) != 1 || !strings.Contains(ms[0].String(), "expected one of aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb") {
		t.Errorf("two allowed: %v", ms)
	}
	l.Disallow(fpA)
	l.Disallow(fpB)
	if ms := Compare(l, Manifest{"0.1.0", l.ClaimSetHash, fpA}); len(ms) != 1 {
		t.Errorf("empty allowlist accepted a signer: %v", ms)
	}
}

func TestNewAndLoadErrors(t *testing.T) {
	t.Parallel()
	if _, err := New([]string{"nope"}, nil); exit.Code(err) != exit.BadInput {
		t.Errorf("unknown card: %v", err)
	}
	if _, err := New(nil, nil); exit.Code(err) != exit.BadInput {
		t.Errorf("no cards: %v", err)
	}
	if _, err := New(refCards, []string{"xyz"}); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "invalid signer fingerprint") {
		t.Errorf("bad fp: %v", err)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"bad.lock": `{"lock_version":`, "type.lock": `{"run_cards":"x"}`, "array.lock": `[]`} {
		p := filepath.Join(dir, name)
		_ = os.WriteFile(p, []byte(body), 0o644)
		_, err := Load(p)
		if exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "invalid lock file "+p) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "none.lock")); exit.Code(err) != exit.BadInput || !strings.Contains(err.Error(), "lock file not found") {
		t.Errorf("missing: %v", err)
	}
}
