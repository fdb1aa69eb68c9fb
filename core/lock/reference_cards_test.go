package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/assay-dev/assay/core/claims"
)

// coverageContractHash is the reference card's full claim_set_hash
// (pack-format.md §6.2).
const coverageContractHash = "ecc0e258022ee817c4238435980d785cecc75fb1746d9b83f119be42bbef222f"

// A lock naming coverage_contract is what the reference writes and what its
// lock check accepts: the card's name and hash, the composite over that one
// hash, the flat claim set hash equal to the card's, byte for byte in the
// reference's file form; and it is not flagged as ours-only.
func TestCoverageContractLockIsReference(t *testing.T) {
	t.Parallel()
	l, err := New([]string{"coverage_contract"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if issues := Validate(l); len(issues) != 0 {
		t.Fatalf("issues %v", issues)
	}
	if nr := l.NonReference(); len(nr) != 0 {
		t.Fatalf("coverage_contract still flagged as not the reference's: %v", nr)
	}
	sum := sha256.Sum256([]byte(`["` + coverageContractHash + `"]`))
	composite := hex.EncodeToString(sum[:])
	l.LockedAt, l.LockedByAssayVersion = "2026-11-25T20:44:58.033862+00:00", "1.24.0"
	got, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{
  "lock_version": "1.0",
  "assay_version_min": "1.24.0",
  "assay_version_max": "2.0.0",
  "pack_format_version": "0.1.0",
  "receipt_schema_version": "3.0",
  "run_cards": [
    {
      "id": "coverage_contract",
      "name": "Coverage Contract",
      "claim_set_hash": "%s"
    }
  ],
  "run_cards_composite_hash": "%s",
  "claim_set_hash": "%s",
  "exit_contract": {
    "0": "integrity_pass AND claims_pass",
    "1": "integrity_pass AND claims_fail",
    "2": "integrity_fail"
  },
  "signer_policy": {
    "mode": "any",
    "allowed_fingerprints": []
  },
  "locked_at": "2026-11-25T20:44:58.033862+00:00",
  "locked_by_assay_version": "1.24.0"
}
`, coverageContractHash, composite, coverageContractHash)
	if string(got) != want {
		t.Fatalf("lock bytes:\n%s\nwant\n%s", got, want)
	}
	// Every reference card, together: still no card flagged.
	all, err := New(claims.ReferenceIDs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nr := all.NonReference(); len(nr) != 0 || len(Validate(all)) != 0 {
		t.Fatalf("non-reference %v issues %v", nr, Validate(all))
	}
}
