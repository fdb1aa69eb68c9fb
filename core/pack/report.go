package pack

import (
	"fmt"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/receipt"
)

// Scope vocabularies of verify reports (§4.8).
var (
	DoesNotProveAlways = []string{"output_correctness", "output_safety", "business_policy_fitness", "legal_compliance", "instrumentation_completeness", "signer_authority_beyond_configured_trust"}
)

// MerkleInfo is the object DECISIONS 9 adds to verify_report.json.
type MerkleInfo struct {
	Algorithm string `json:"algorithm"`
	TreeSize  uint64 `json:"tree_size"`
	Root      string `json:"root"`
}

type reportInput struct {
	att        Attestation
	attHash    string
	builtAt    string
	jsonlHash  string
	claims     *claims.Verification
	merkleRoot string
	treeSize   uint64
	extra      []ReportMember
}

type kv struct {
	k string
	v any
}

// orderedMap marshals its members in order (the reference's field order).
type orderedMap []kv

func (o orderedMap) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := canon.Marshal(m.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := jsonOf(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// buildReport renders the build-time verify_report.json (§4.8).
func buildReport(in reportInput) orderedMap {
	att := in.att
	integrity := "PASS"
	if att.ReceiptIntegrity != "PASS" {
		integrity = "TAMPERED"
	}
	claimVerdict := "NOT_EVALUATED"
	switch att.ClaimCheck {
	case "PASS":
		claimVerdict = "PASS"
	case "FAIL":
		claimVerdict = "HONEST_FAIL"
	}
	required := []string{"integrity"}
	optional := []string{"replay", "trust"}
	unevaluated := []string{"replay", "trust"}
	if in.claims != nil {
		required = append(required, "claim")
	} else {
		optional = append([]string{"claim"}, optional...)
		unevaluated = append([]string{"claim"}, unevaluated...)
	}
	overall, blocking, reason := "PASS", any(nil), "required_channels_passed; optional_channels_not_evaluated="+strings.Join(unevaluated, ",")
	switch {
	case integrity == "TAMPERED":
		overall, blocking, reason = "TAMPERED", "integrity", "integrity_verdict=TAMPERED"
	case claimVerdict == "HONEST_FAIL":
		overall, blocking, reason = "HONEST_FAIL", "claim", "claim_verdict=HONEST_FAIL"
	}
	idInput := map[string]any{
		"pack_root_sha256": in.attHash, "verified_at": in.builtAt, "integrity_verdict": integrity,
		"claim_verdict": claimVerdict, "replay_verdict": "NOT_RUN", "trust_verdict": "NOT_EVALUATED",
		"verifier_version": att.VerifierVersion,
	}
	idBytes, _ := canon.Marshal(idInput)
	reportID := "vr_" + receipt.SHA256Hex(idBytes)[:20]

	proves := []string{}
	doesNot := append([]string{}, DoesNotProveAlways...)
	if integrity == "PASS" {
		proves = append(proves, "pack_integrity", "receipt_sequence_integrity", "signature_validity")
		if in.claims != nil {
			proves = append(proves, "claim_set_evaluated")
			if in.claims.Passed {
				proves = append(proves, "claim_set_satisfied")
			}
		}
	} else {
		proves = append(proves, "tamper_evidence_detected")
		doesNot = append([]string{"pack_integrity", "receipt_sequence_integrity", "signature_validity"}, doesNot...)
	}
	ran := []string{"integrity"}
	notEvaluated := []string{"trust"}
	if in.claims != nil {
		ran = append(ran, "claim")
	} else {
		notEvaluated = append([]string{"claim"}, notEvaluated...)
	}
	scope := orderedMap{
		{"schema", "assay.verify.scope.v1"},
		{"channels", orderedMap{{"ran", ran}, {"not_run", []string{"replay"}}, {"not_evaluated", notEvaluated}}},
		{"extensions", map[string]any{}},
		{"proves", proves},
		{"does_not_prove", doesNot},
	}
	if integrity == "TAMPERED" {
		scope = append(scope, kv{"note", "Receipt integrity failed at build time; nothing beyond tamper evidence is proven."})
	}
	summary := orderedMap{
		{"integrity", map[bool]string{true: "All receipts are present, well-formed and hash-bound to the signed manifest.", false: "Receipt integrity checks failed at build time."}[integrity == "PASS"]},
		{"claim", claimSummary(in.claims)},
		{"replay", "Replay was not run."},
		{"trust", "Signer trust was not evaluated at build time."},
	}
	checks := []any{
		orderedMap{{"name", "receipt_pack_integrity"}, {"verdict", integrity}},
		orderedMap{{"name", "claim_check"}, {"verdict", claimVerdict}},
		orderedMap{{"name", "replay"}, {"verdict", "NOT_RUN"}},
		orderedMap{{"name", "trust"}, {"verdict", "NOT_EVALUATED"}},
	}
	rep := orderedMap{
		{"schema_version", ReportSchema},
		{"report_id", reportID},
		{"pack_id", att.PackID},
		{"run_id", att.RunID},
		{"pack_root_sha256", in.attHash},
		{"pack_manifest_sha256", nil},
		{"integrity_verdict", integrity},
		{"claim_verdict", claimVerdict},
		{"replay_verdict", "NOT_RUN"},
		{"trust_verdict", "NOT_EVALUATED"},
		{"evaluation_profile", strings.Join(required, "_") + "_required"},
		{"required_channels", required},
		{"optional_channels", optional},
		{"unevaluated_channels", unevaluated},
		{"overall_verdict", overall},
		{"overall_reason", reason},
		{"blocking_channel", blocking},
		{"verified_at", in.builtAt},
		{"verifier", orderedMap{{"name", "assay"}, {"version", att.VerifierVersion}, {"policy_id", VerifyPolicyID}}},
		{"expectations", orderedMap{{"policy_id", VerifyPolicyID}, {"policy_sha256", att.PolicyHash}, {"claim_set_id", att.ClaimSetID}, {"claim_set_hash", att.ClaimSetHash}}},
		{"verification_inputs_sha256", in.attHash},
		{"verifier_config_sha256", nil},
		{"provenance", map[string]any{}},
		{"evidence_refs", []any{
			orderedMap{{"kind", "pack_manifest"}, {"path", FileManifest}, {"sha256", nil}},
			orderedMap{{"kind", "receipt_pack"}, {"path", FileReceipts}, {"sha256", in.jsonlHash}},
		}},
		{"checks", checks},
		{"summary", summary},
		{"scope", scope},
		{"errors", []any{}},
		{"warnings", []any{}},
		{"passed", integrity == "PASS"},
		{"receipt_count", att.NReceipts},
		{"head_hash", att.HeadHash},
	}
	if in.claims != nil {
		rep = append(rep, kv{"claim_verification", in.claims})
	}
	rep = append(rep, kv{"merkle", MerkleInfo{Algorithm: merkle.Algorithm, TreeSize: in.treeSize, Root: in.merkleRoot}})
	for _, m := range in.extra {
		rep = append(rep, kv{m.Key, m.Value})
	}
	return rep
}

func claimSummary(v *claims.Verification) string {
	if v == nil {
		return "No claim set was declared."
	}
	if v.Passed {
		return fmt.Sprintf("All %d critical claims passed (%d of %d claims passed).", countCritical(v), v.NPassed, v.NClaims)
	}
	return fmt.Sprintf("Claims failed: %d of %d claims did not pass.", v.NFailed, v.NClaims)
}

func countCritical(v *claims.Verification) int {
	n := 0
	for _, r := range v.Results {
		if r.Severity == claims.Critical {
			n++
		}
	}
	return n
}

// renderTranscript renders verify_transcript.md (§4.9).
func renderTranscript(att Attestation, v *claims.Verification, builtAt string) []byte {
	var b strings.Builder
	b.WriteString("# Proof Pack Verification Transcript\n\n## Attestation\n\n| Field | Value |\n|---|---|\n")
	row := func(k, val string) { fmt.Fprintf(&b, "| %s | %s |\n", k, val) }
	row("Pack ID", "`"+att.PackID+"`")
	row("Run ID", "`"+att.RunID+"`")
	row("Receipt Integrity", "**"+att.ReceiptIntegrity+"**")
	row("Claim Check", att.ClaimCheck)
	row("Assurance Level", att.AssuranceLevel)
	row("Mode", att.Mode)
	row("Receipts", fmt.Sprint(att.NReceipts))
	row("Head Hash", "`"+att.HeadHash+"`")
	row("Policy Hash", "`"+att.PolicyHash+"`")
	row("Suite ID", att.SuiteID)
	row("Time Range", att.TimestampStart+" .. "+att.TimestampEnd)
	b.WriteString("\n## Verification Errors\n\n")
	if att.ReceiptIntegrity == "PASS" {
		b.WriteString("None\n")
	} else {
		b.WriteString("- **receipt_integrity**: receipt checks failed at build time (missing fields, bad timestamps or duplicate ids)\n")
	}
	b.WriteString("\n## Verification Warnings\n\nNone\n\n## Claim Verification\n\n")
	if v == nil {
		b.WriteString("No claim set provided.\n")
	} else {
		verdict := "PASS"
		if !v.Passed {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, "- Verdict: **%s**\n- Claims: %d (%d passed, %d failed)\n- Discrepancy fingerprint: `%s`\n", verdict, v.NClaims, v.NPassed, v.NFailed, v.DiscrepancyFingerprint)
		var failed []string
		for _, r := range v.Results {
			if !r.Passed {
				failed = append(failed, fmt.Sprintf("- `%s` (%s): expected %s, got %s", r.ClaimID, r.Severity, r.Expected, r.Actual))
			}
		}
		if len(failed) > 0 {
			b.WriteString("\n### Failed Claims\n\n" + strings.Join(failed, "\n") + "\n")
		}
	}
	b.WriteString("\n## Scope & Caveats\n\n")
	b.WriteString("This pack proves that its receipts are intact, complete as signed, and signed by the key in the manifest.\n")
	b.WriteString("It does not prove: " + humanize(DoesNotProveAlways) + ".\n")
	fmt.Fprintf(&b, "\n---\nGenerated by Assay %s at %s. Verify with `assay verify-pack <pack dir>`.\n", att.VerifierVersion, builtAt)
	return []byte(b.String())
}

func humanize(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = strings.ReplaceAll(w, "_", " ")
	}
	return strings.Join(out, ", ")
}

// renderSummary renders _unsigned/PACK_SUMMARY.md: an unsigned, human
// summary next to the kernel files.
func renderSummary(r *Result, att Attestation) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Proof pack %s\n\n", r.PackID)
	fmt.Fprintf(&b, "- Run: `%s`\n- Receipts: %d (%s to %s)\n- Receipt integrity: %s\n- Claims: %s\n- Signer: `%s` (fingerprint `%s`)\n- Mode: %s\n",
		r.RunID, r.NReceipts, att.TimestampStart, att.TimestampEnd, r.ReceiptIntegrity, r.ClaimCheck, r.SignerID, r.Fingerprint[:16], att.Mode)
	b.WriteString("\nThis file is not signed. Verify the pack with `assay verify-pack` and read it with `assay explain`.\n")
	return []byte(b.String())
}
