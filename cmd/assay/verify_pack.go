package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/blob"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/explain"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/remote"
	"github.com/assay-dev/assay/core/verify"
)

func init() { commands = append(commands, newVerifyPackCmd) }

func newVerifyPackCmd() *cobra.Command {
	var req ops.VerifyRequest
	var maxAge, minCov float64
	var asJSON, latest bool
	var latestDir string
	var anchor *anchorFlags
	c := &cobra.Command{
		Use:     "verify-pack PACK | verify-pack --latest [--dir DIR]",
		Short:   "Verify a proof pack (or an audit bundle .tar.gz) offline",
		GroupID: "evidence",
		Long: `Verify a proof pack offline: file hashes, receipts, attestation, signature,
the D12 invariant and the Merkle root; then the gates you ask for.

Exit codes (text and --json alike):
  0  PASS         evidence intact, claims met (or none declared), gates passed
  1  HONEST FAIL  evidence intact, but the signed claims failed or a gate failed
  2  TAMPERED     the pack changed after signing, or it does not satisfy --lock
  3  BAD INPUT    missing path, not a pack, bad flag value, unreadable lock or contract`,
		Example: `  assay verify-pack ./proof_pack_trace_20260115T115900_1a2b3c4d
  assay verify-pack pack/ --require-claim-pass --lock assay.lock --json
  assay verify-pack audit_bundle.tar.gz
  assay verify-pack 's3://bucket/packs/run-1/?region=eu-west-1'   # object storage
  assay verify-pack --latest            # the newest pack under the working directory`,
		Args: latestArgs(&latest),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseEmpty(cmd, "lock", "coverage-contract", "expected-commit-sha", "signer"); err != nil {
				return err
			}
			f := cmd.Flags()
			if f.Changed("max-age-hours") {
				req.MaxAgeHours = &maxAge
			}
			if f.Changed("min-coverage") {
				req.MinCoverage = &minCov
			}
			target, err := packArg(args, latest, latestDir, logOf(cmd).Info().Msgf)
			if err != nil {
				return err
			}
			a := anchor.options()
			req.Path, req.RequireAnchor, req.LogKey, req.WitnessPolicy = target, a.Require, a.LogKey, a.WitnessPolicy
			home, _ := envOf(cmd).Home()
			// The same request type and rules as the MCP verify-pack tool.
			var r *verify.Result
			if remote.IsURL(target) {
				// Streamed into a private temp directory, then the same
				// verifier: same verdicts and exit codes.
				r, err = remote.Verify(cmd.Context(), req, ops.Env{Home: home, Getenv: envOf(cmd).Getenv}, blob.Options{Getenv: envOf(cmd).Getenv})
			} else {
				r, err = ops.Verify(req, ops.Env{Home: home})
			}
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			} else {
				renderVerdict(cmd.OutOrStdout(), r)
			}
			return exit.Silent{Code: r.ExitCode}
		},
	}
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON document (schema: schemas/verify-result.schema.json)")
	f.BoolVar(&latest, "latest", false, "verify the newest pack (found by its manifest) under --dir")
	f.StringVar(&latestDir, "dir", ".", "where --latest looks for packs")
	f.BoolVar(&req.RequireClaimPass, "require-claim-pass", false, "exit 1 unless the signed claim check is PASS (a pack without claims fails too)")
	f.BoolVar(&req.IntegrityOnly, "integrity-only", false, "report claims without gating on them (the reference's default)")
	f.Float64Var(&maxAge, "max-age-hours", 0, "exit 1 if the pack's last receipt is older than this many hours")
	f.BoolVar(&req.RequireCIBinding, "require-ci-binding", false, "exit 1 if the pack is not bound to a CI run")
	f.StringVar(&req.ExpectedCommitSHA, "expected-commit-sha", "", "exit 1 unless the pack's CI binding names this 40-hex commit")
	f.BoolVar(&req.CheckExpiry, "check-expiry", false, "exit 1 if the pack's valid_until has passed")
	f.StringVar(&req.Lock, "lock", "", "enforce a lockfile (cards, format, signer allowlist); a mismatch exits 2")
	f.StringVar(&req.CoverageContract, "coverage-contract", "", "coverage contract from 'assay scan --emit-contract'")
	f.Float64Var(&minCov, "min-coverage", ops.DefaultMinCoverage, "minimum call-site coverage (0..1) with --coverage-contract")
	f.StringVar(&req.Signer, "signer", "", "verify a pack that embeds no public key with this keystore signer's key (the keystore is never consulted otherwise; such a pack never satisfies a lock's signer allowlist)")
	anchor = addAnchorFlags(c) // --require-anchor, --log-key, --witness-policy
	return c
}

// exactArgs is cobra.ExactArgs with an exit-3 error that says what to give.
func exactArgs(n int, fix string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return exit.Bad(fix+"; see '"+cmd.CommandPath()+" --help'", "%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

// renderVerdict prints the human verdict panel: verdict, what the pack is,
// and the first errors with what they mean.
func renderVerdict(w io.Writer, r *verify.Result) {
	st := newStyle(w)
	var head string
	switch r.Verdict {
	case verify.VerdictPass:
		head = st.Green("PASS") + "  evidence intact" + map[bool]string{true: ", claims met", false: ""}[r.Pack.ClaimCheck == "PASS"]
		if n := r.IncompleteMCPSessions(); n > 0 {
			// Intact evidence of a partial session is not a plain PASS.
			head += st.Yellow(fmt.Sprintf(", but %d MCP session(s) INCOMPLETE (see the notes)", n))
		}
	case verify.VerdictHonestFail:
		head = st.Yellow("HONEST FAIL") + "  evidence intact, and it shows a failure"
	default:
		head = st.Red("TAMPERED") + "  " + tamperedText(r)
	}
	fmt.Fprintf(w, "%s\n\n", head)
	row := func(k, v string) { fmt.Fprintf(w, "  %-12s %s\n", k, v) }
	row("Pack", r.Path)
	if r.Pack.PackID != "" {
		row("Pack ID", r.Pack.PackID)
		row("Run", r.Pack.RunID)
		// The fingerprint of the key that verified the signature, never
		// the manifest's claim.
		switch r.Pack.SignerKey {
		case "embedded":
			row("Signer", fmt.Sprintf("%s (%s…)", r.Pack.SignerID, shortHex(r.Pack.Fingerprint)))
		case "keystore":
			row("Signer", fmt.Sprintf("%s (%s…, no key in the pack: verified with the local keystore, proves no signer)", r.Pack.SignerID, shortHex(r.Pack.Fingerprint)))
		default:
			row("Signer", r.Pack.SignerID+" (signature not verified)")
		}
	}
	row("Receipts", fmt.Sprintf("%d", r.ReceiptCount))
	row("Integrity", r.Integrity)
	row("Claims", claimText(r.Pack.ClaimCheck))
	if r.Merkle != nil && r.Merkle.Recorded {
		row("Merkle root", shortHex(r.Merkle.Root)+"… "+map[bool]string{true: "matches", false: "MISMATCH"}[r.Merkle.Match])
	} else if r.Integrity == verify.VerdictPass {
		row("Merkle root", "not recorded (reference-built packs have none; 'assay prove' needs one)")
	}
	if r.Seal != nil {
		lines := explain.SealLines(r.Seal)
		row("Seal", lines[0])
		for _, l := range lines[1:] {
			row("", l)
		}
	}
	for _, g := range r.Gates {
		row("Gate", fmt.Sprintf("%s: %s", g.Name, map[bool]string{true: "passed", false: "FAILED"}[g.Passed]))
	}
	if r.Coverage != nil {
		row("Coverage", fmt.Sprintf("%.0f%% (%d/%d call sites)", r.Coverage.CoveragePct*100, r.Coverage.CoveredCount, r.Coverage.TotalCount))
		if r.Coverage.Note != "" {
			row("", r.Coverage.Note)
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\n%s\n", st.Bold(fmt.Sprintf("Errors (%d):", r.ErrorCount)))
		for i, e := range r.Errors {
			if i == 5 {
				more := "use --json for the first " + fmt.Sprint(verify.MaxErrors)
				if r.ErrorCount <= verify.MaxErrors {
					more = "use --json for all"
				}
				fmt.Fprintf(w, "  … %d more (%s)\n", r.ErrorCount-5, more)
				break
			}
			field := ""
			if e.Field != "" {
				field = " [" + e.Field + "]"
			}
			fmt.Fprintf(w, "  %s%s %s\n      %s\n", e.Code, field, e.Message, st.Dim("means: "+e.Meaning))
		}
	}
	notes := 0
	for _, wmsg := range r.Warnings {
		if strings.HasPrefix(wmsg, "Signature valid for supplied key material") && r.Verdict != verify.VerdictPass {
			continue
		}
		fmt.Fprintf(w, "\n%s %s", st.Dim("note:"), wmsg)
		notes++
	}
	if notes > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nexit %d\n", r.ExitCode)
}

// tamperedText says why the verdict is TAMPERED: an intact pack refused by
// the lock or a changed coverage contract did not change after signing.
func tamperedText(r *verify.Result) string {
	if r.Integrity == verify.VerdictPass {
		for _, e := range r.Errors {
			switch e.Code {
			case verify.ELockMismatch:
				return "the pack is intact but does not satisfy the lock"
			case verify.EContractTamper:
				return "the coverage contract was changed (its own hash does not match)"
			}
		}
	}
	return "this pack changed after it was signed"
}

func claimText(c string) string {
	switch c {
	case "PASS":
		return "PASS (signed claim check)"
	case "FAIL":
		return "FAIL (signed claim check)"
	case "":
		return "unknown"
	}
	return "none declared"
}

func shortHex(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}
