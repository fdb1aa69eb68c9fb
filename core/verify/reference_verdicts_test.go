package verify

// Reference verdicts (issue 13): where the reference rejects, we reject
// with its code and stage; where we promise exactness, we are exact.

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
)

// addMember rewrites receipt line i (0-based) with one more top-level
// member (raw JSON), and reseals the pack.
func addMember(t *testing.T, dir string, i int, member string, edit func(man, att *canon.Object)) {
	t.Helper()
	rewriteLines(t, dir, func(lines []string) []string {
		lines[i] = strings.TrimSuffix(lines[i], "}") + "," + member + "}"
		return lines
	})
	reMerkle(t, dir)
	reseal(t, dir, edit)
}

// A non-ASCII key anywhere in a receipt fails it, also below the members
// the v0 projection strips (the reference checks keys before projecting):
// an attestation claiming PASS is then E_MANIFEST_TAMPER at receipt_integrity
// in validate_receipts; one honestly saying FAIL is exit 1.
func TestNonASCIIKeysAnywhere(t *testing.T) {
	t.Parallel()
	members := []string{
		`"signatures":{"sіg":"x"}`, // Cyrillic і under a stripped key
		`"signature":[{"é":1}]`,
		`"cose_signature":{"a":{"ü":1}}`,
		`"receipt_hash":{"ключ":1}`,
		`"anchor":[[{"ß":null}]]`,
		`"\u0073ignature":{"é":1}`, // an escaped spelling of a stripped key
		`"sіgnatures":[]`,          // the homoglyph key itself
		`"meta":{"deep":[{"é":1}]}`,
	}
	for _, m := range members {
		t.Run(m, func(t *testing.T) {
			dir := buildPack(t, sampleReceipts(), nil)
			addMember(t, dir, 0, m, nil)
			check(t, dir, Options{}, expect{exit: exit.Tampered, code: EManifestTamper, field: "receipt_integrity", stage: StageReceipts})

			// On the last receipt the head hash cannot be recomputed either.
			dir = buildPack(t, sampleReceipts(), nil)
			addMember(t, dir, 2, m, nil)
			check(t, dir, Options{}, expect{exit: exit.Tampered, code: EManifestTamper, field: "head_hash", stage: StageReceipts})

			// Attested honestly as FAIL: intact evidence of a failure.
			dir = buildPack(t, sampleReceipts(), nil)
			addMember(t, dir, 0, m, func(_, att *canon.Object) { att.Set("receipt_integrity", "FAIL") })
			r := check(t, dir, Options{}, expect{exit: exit.HonestFail})
			if r.Integrity != "PASS" {
				t.Fatalf("integrity %s", r.Integrity)
			}
		})
	}
	// ASCII keys under stripped members are fine, as NaN there is.
	dir := buildPack(t, sampleReceipts(), nil)
	addMember(t, dir, 0, `"signatures":{"sig":NaN,"k":[{"a":1}]}`, nil)
	check(t, dir, Options{}, expect{exit: exit.OK})
}

// Attestation timestamps must be real date-times (the reference's schema
// checks the date-time format): a schema failure, stage validate_schema.
func TestAttestationTimestampsMustBeDates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ field, value string }{
		{"timestamp_start", "2026-13-01T00:00:00+00:00"},
		{"timestamp_end", "2026-02-30T00:00:00Z"},
		{"timestamp_start", "2026-00-10T00:00:00Z"},
		{"timestamp_end", "2026-01-15T24:00:00+00:00"},
		{"timestamp_end", "2026-01-15T10:60:00+00:00"},
		{"timestamp_end", "2026-01-15T10:00:60+00:00"},
		{"timestamp_end", "2026-01-15T10:00:00+24:00"},
		{"valid_until", "2027-02-29T00:00:00Z"},
	} {
		dir := buildPack(t, sampleReceipts(), nil)
		reseal(t, dir, func(_, att *canon.Object) { att.Set(tc.field, tc.value) })
		r := check(t, dir, Options{}, expect{exit: exit.Tampered, code: EManifestTamper, field: "pack_manifest.json", stage: StageSchema})
		if len(r.Stages) != 1 || !strings.Contains(r.Errors[0].Message, tc.field) {
			t.Errorf("%s=%s: stages %d, %q", tc.field, tc.value, len(r.Stages), r.Errors[0].Message)
		}
	}
	// Real instants still pass, leap day and fractions included.
	dir := buildPack(t, sampleReceipts(), nil)
	reseal(t, dir, func(_, att *canon.Object) { att.Set("timestamp_start", "2024-02-29T23:59:59.999999-12:00") })
	check(t, dir, Options{}, expect{exit: exit.OK})
}

// Receipt timestamps are read as Python 3.11's datetime.fromisoformat reads
// them (after Z → +00:00); these verdicts were taken from Python 3.11.7.
func TestReceiptTimestampsAsPython(t *testing.T) {
	t.Parallel()
	for s, py := range map[string]bool{
		"2026-W03-4T10:00:00+00:00": true,
		"2026W034T10:00:00Z":        true,
		"2026-W03":                  true,
		"2020-W53-5T00:00:00+00:00": true,
		"2026-W53-1T00:00:00+00:00": true, // 2026 has 53 ISO weeks
		"2026-W54-1":                false,
		"2026-W00-1":                false,
		"2026-W01-8":                false,
		"2026-W01-0":                false,
		"9999-W52-7T10:00:00+00:00": false, // year 10000
		"9999-W52-6T10:00:00+00:00": false,
		"0001-W01-1":                true,
		"2026-13-01T00:00:00+00:00": false,
		"2026-02-29T00:00:00+00:00": false,
		"2024-02-29T00:00:00+00:00": true,
		"2026-01-15T24:00:00+00:00": false,
		"2026-01-15T10:00:00+24:00": false,
		"2026-01-15T10:00:00+23:59": true,
	} {
		if got := validTimestamp([]byte(s)); got != py {
			t.Errorf("%q: accepted %v, Python %v", s, got, py)
		}
	}
	// In a pack: a receipt whose week date Python refuses fails integrity.
	dir := buildPack(t, sampleReceipts(), nil)
	rewriteLines(t, dir, func(lines []string) []string {
		lines[0] = strings.Replace(lines[0], "2026-01-15T11:59:00+00:00", "9999-W52-7T10:00:00+00:00", 1)
		return lines
	})
	reMerkle(t, dir)
	reseal(t, dir, nil)
	check(t, dir, Options{}, expect{exit: exit.Tampered, code: EManifestTamper, field: "receipt_integrity", stage: StageReceipts})
}

// receipt_count_expected and n_receipts are compared as numbers: 3.0 and
// 3e0 are 3 (the schema calls them integers, and Python compares 3 == 3.0).
func TestCountsCompareAsNumbers(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"3.0", "3e0", "30e-1"} {
		dir := buildPack(t, sampleReceipts(), nil)
		reseal(t, dir, func(man, att *canon.Object) {
			man.Set("receipt_count_expected", canon.Number(n))
			att.Set("n_receipts", canon.Number(n))
		})
		check(t, dir, Options{}, expect{exit: exit.OK})
	}
	dir := buildPack(t, sampleReceipts(), nil)
	reseal(t, dir, func(man, att *canon.Object) {
		man.Set("receipt_count_expected", canon.Number("3.5"))
		att.Set("n_receipts", canon.Number("3.5"))
	})
	check(t, dir, Options{}, expect{exit: exit.Tampered, code: EManifestTamper, stage: StageSchema})
}

// The attestation's n_receipts and pack_id must agree with the manifest.
func TestAttestationAgreesWithManifest(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, sampleReceipts(), nil)
	reseal(t, dir, func(_, att *canon.Object) { att.Set("n_receipts", 2) })
	check(t, dir, Options{}, expect{exit: exit.Tampered, code: EManifestTamper, field: "n_receipts", stage: StageAttestation})

	dir = buildPack(t, sampleReceipts(), nil)
	reseal(t, dir, func(_, att *canon.Object) { att.Set("pack_id", "pack_other") })
	check(t, dir, Options{}, expect{exit: exit.Tampered, code: EManifestTamper, field: "pack_id", stage: StageAttestation})

	// Both honest: the golden reference vectors keep passing elsewhere;
	// here the builder's own pack does.
	check(t, buildPack(t, sampleReceipts(), nil), Options{}, expect{exit: exit.OK})
}

// Base64 fields have one encoding: a line break, whitespace, characters
// outside the alphabet or non-zero padding bits fail the signature stage.
func TestBase64Strict(t *testing.T) {
	t.Parallel()
	enc := []byte(base64.StdEncoding.EncodeToString(testSigner.Public()))
	// The last character before "=" carries 2 padding bits: set one.
	bits := append([]byte{}, enc...)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	bits[len(bits)-2] = alphabet[strings.IndexByte(alphabet, bits[len(bits)-2])^1]
	for name, val := range map[string]string{
		"line break":   string(enc[:20]) + "\n" + string(enc[20:]),
		"CRLF":         string(enc[:20]) + "\r\n" + string(enc[20:]),
		"space":        string(enc[:20]) + " " + string(enc[20:]),
		"outside":      string(enc[:20]) + "*" + string(enc[20:]),
		"padding bits": string(bits),
		"no padding":   strings.TrimRight(string(enc), "="),
	} {
		dir := buildPack(t, sampleReceipts(), nil)
		reseal(t, dir, func(man, _ *canon.Object) { man.Set("signer_pubkey", val) })
		t.Run(name, func(t *testing.T) {
			check(t, dir, Options{}, expect{exit: exit.Tampered, code: EPackSigInvalid, field: "signer_pubkey", stage: StageSignature})
		})
	}
}
