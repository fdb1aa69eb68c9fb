package bundle

import (
	"fmt"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
	"github.com/assay-dev/assay/core/version"
)

// summary renders PACK_SUMMARY.md: what the pack says, in plain words.
func summary(pk *pack.Pack, vr *verify.Result) string {
	p := vr.Pack
	var b strings.Builder
	fmt.Fprintf(&b, "# Proof pack %s\n\n", p.PackID)
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", k, strings.ReplaceAll(v, "|", `\|`))
	}
	row("Run", p.RunID)
	row("Receipts", fmt.Sprint(vr.ReceiptCount))
	row("Time span", p.TimestampStart+" to "+p.TimestampEnd)
	row("Signer", p.SignerID)
	row("Signer fingerprint (sha256 of the public key)", p.Fingerprint)
	row("Mode", p.Mode)
	row("Receipt integrity (signed)", p.ReceiptIntegrity)
	row("Claim check (signed)", p.ClaimCheck)
	row("Claim set hash", p.ClaimSetHash)
	row("Pack root sha256", p.PackRootSHA256)
	if vr.Merkle != nil && vr.Merkle.Recorded {
		row("Merkle root ("+vr.Merkle.Algorithm+")", vr.Merkle.Root)
	}
	row("Verdict at bundle time", vr.Verdict)
	if len(vr.TypeCounts) > 0 {
		b.WriteString("\n## Receipts by type\n\n| type | count |\n|---|---|\n")
		types := make([]string, 0, len(vr.TypeCounts))
		for t := range vr.TypeCounts {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			fmt.Fprintf(&b, "| %s | %d |\n", t, vr.TypeCounts[t])
		}
	}
	if rs := claimRows(pk); len(rs) > 0 {
		b.WriteString("\n## Claims (evaluated when the pack was built)\n\n| claim | result | expected | actual |\n|---|---|---|---|\n")
		for _, r := range rs {
			b.WriteString(r)
		}
	}
	b.WriteString("\n## What this proves\n\n")
	for _, s := range vr.Proves {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n## What this does not prove\n\n")
	for _, s := range vr.DoesNotProve {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	return b.String()
}

func claimRows(pk *pack.Pack) []string {
	raw, err := pk.ReadFile(pack.FileReport, pack.MaxReportBytes)
	if err != nil {
		return nil
	}
	v, err := canon.Decode(raw)
	rep, ok := v.(*canon.Object)
	if err != nil || !ok {
		return nil
	}
	cv, _ := rep.Get("claim_verification")
	cvo, ok := cv.(*canon.Object)
	if !ok {
		return nil
	}
	rv, _ := cvo.Get("results")
	list, _ := rv.([]any)
	var out []string
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, it := range list {
		o, ok := it.(*canon.Object)
		if !ok {
			continue
		}
		res := "FAIL"
		if p, _ := o.Get("passed"); p == true {
			res = "PASS"
		}
		if sev := o.String("severity"); sev != "" && sev != "critical" {
			res += " (" + sev + ")"
		}
		out = append(out, fmt.Sprintf("| %s | %s | %s | %s |\n", esc(o.String("claim_id")), res, esc(o.String("expected")), esc(o.String("actual"))))
	}
	return out
}

// instructions renders VERIFY_INSTRUCTIONS.md: how to check the bundle with
// this tool and with the reference implementation.
func instructions(man *pack.Doc, vr *verify.Result) string {
	id := man.SignerID
	fp := man.SignerPubkeySHA256
	packID := man.PackID
	return fmt.Sprintf(`# How to verify this audit bundle

This bundle holds the signed proof pack %[1]s and four files added when it
was bundled (by assay %[4]s). It was verified when it was bundled (verdict
%[5]s, see VERIFY_RESULT.json), but do not take that on trust: verify it
yourself, offline, with either tool below.

## With assay (Go)

    assay verify-pack audit_bundle_%[1]s.tar.gz      # the bundle directly
    # or
    mkdir pack && tar xzf audit_bundle_%[1]s.tar.gz -C pack
    assay verify-pack pack
    assay verify-signer pack --expected %[2]s --fingerprint %[3]s

## With the reference implementation (Python)

    pip install assay-ai
    mkdir pack && tar xzf audit_bundle_%[1]s.tar.gz -C pack
    cd pack
    assay verify-pack .
    assay verify-signer . --expected %[2]s --fingerprint %[3]s

The reference prints warnings about the four extra files at the pack root
(this file among them); they are not covered by the signature and do not
affect the verdict.

## Exit codes of verify-pack

| code | meaning |
|---|---|
| 0 | evidence intact (and claims met) |
| 1 | evidence intact, but it shows a failure (an honest failure) |
| 2 | evidence tampered: something changed after the pack was signed |
| 3 | bad input (not a pack, unreadable file) |

## Who signed it

The pack is signed with Ed25519 by signer %[2]s, whose public key has the
sha256 fingerprint %[3]s. The key is embedded in the manifest, so a valid
signature alone shows only that the pack is unchanged since someone signed
it. Check the fingerprint against one you obtained independently (for
example the allowlist in the project's assay.lock) to know who signed it.

## Files

| file | what it is | covered by the signature |
|---|---|---|
| receipt_pack.jsonl | the receipts, one canonical JSON object per line | yes (sha256 in the manifest) |
| verify_report.json | the build-time verification report (with the Merkle root) | yes (sha256 in the manifest) |
| verify_transcript.md | a human-readable transcript | yes (sha256 in the manifest) |
| pack_manifest.json | the signed manifest | it is what is signed |
| pack_signature.sig | the raw 64-byte Ed25519 signature | - |
| _unsigned/ | optional extras | no |
| SIGNER_INFO.json | the signer id, public key and fingerprint from the manifest | no (copied from it) |
| PACK_SUMMARY.md | a summary of the pack | no |
| VERIFY_RESULT.json | the verification result at bundle time | no |
| VERIFY_INSTRUCTIONS.md | this file | no |
`, packID, id, fp, version.Version, vr.Verdict)
}

// anchorInstructions tells the auditor how to check the pack's
// transparency-log anchor, when it carries one (_unsigned/anchor.json): the
// log's key is printed here so it can be compared with one obtained from the
// log's operator, and the command pins it.
func anchorInstructions(dir string) string {
	a, err := tlog.ReadAnchor(dir)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(`
## Transparency-log anchor

The pack carries _unsigned/anchor.json: an inclusion proof that the pack
(its signed manifest) is entry %[1]d of the log %[2]s, under a checkpoint
signed by the log's key

    %[3]s

Compare that key with one you obtained from the log's operator, then check
the anchor offline (exit 1 if it is missing, 2 if it does not verify):

    assay verify-pack audit_bundle.tar.gz --require-anchor --log-key '%[3]s'

Add --witness-policy FILE to require a quorum of witness cosignatures, and
run assay log verify --log LOG pack to check that the log only appended since.
The anchor lies outside the signed kernel (the reference verifier ignores
_unsigned/), which is why it is checked by itself.
`, a.LeafIndex, a.LogOrigin, a.LogVKey)
}
