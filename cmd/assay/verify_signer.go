package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/signer"
)

func init() { commands = append(commands, newVerifySignerCmd) }

func newVerifySignerCmd() *cobra.Command {
	var o signer.Options
	var allowed string
	var asJSON bool
	c := &cobra.Command{
		Use:     "verify-signer PACK [--expected ID] [--fingerprint HEX] [--allowed-signers FILE]",
		Short:   "Check who signed a pack: verify the signature, then compare the signer",
		GroupID: "evidence",
		Long: `verify-signer verifies the pack's Ed25519 signature, recomputes the signer
fingerprint from the public key that verified it, and compares:
  --expected ID            the signer id, exactly
  --fingerprint HEX        a fingerprint prefix of at least 16 hex characters
  --allowed-signers FILE   a file of 64-hex fingerprints (one per line, # comments)
                           or an assay.lock with a signer allowlist

Fingerprints are proven only by the public key embedded in the pack: a pack
without one (verified with the local keystore) matches no --fingerprint or
--allowed-signers.

Exit codes: 0 signature valid and every comparison matches; 2 a comparison
does not match (as the lock's signer mismatch), the signature does not verify,
or the pack's files no longer match the signed manifest; 3 bad input.`,
		Example: `  assay verify-signer proof_pack_trace_20260115T115900_1a2b3c4d --expected assay-local
  assay verify-signer pack/ --fingerprint 0134090c9ea6be5d --json
  assay verify-signer audit_bundle.tar.gz --allowed-signers assay.lock`,
		Args: exactArgs(1, "give the pack directory or audit bundle"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("fingerprint") && o.FingerprintPrefix == "" {
				return exit.Bad("give at least 16 hex characters of the fingerprint", "--fingerprint is empty")
			}
			if cmd.Flags().Changed("expected") && o.ExpectedID == "" {
				return exit.Bad("give the signer id the pack should have", "--expected is empty")
			}
			if err := refuseEmpty(cmd, "allowed-signers"); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			if allowed != "" {
				fps, err := signer.LoadAllowlist(allowed)
				if err != nil {
					return err
				}
				o.Allowed, o.AllowedFrom = fps, allowed
			}
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			o.Keystore = ks
			rep, err := signer.Check(args[0], o)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				renderSigner(cmd, rep)
			}
			if rep.ExitCode != exit.OK {
				return exit.Silent{Code: rep.ExitCode}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.ExpectedID, "expected", "", "signer id the pack must have")
	f.StringVar(&o.FingerprintPrefix, "fingerprint", "", "fingerprint (prefix of at least 16 hex) the signer must have")
	f.StringVar(&allowed, "allowed-signers", "", "file of allowed fingerprints, or an assay.lock with an allowlist")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func renderSigner(cmd *cobra.Command, r *signer.Report) {
	out := cmd.OutOrStdout()
	st := newStyle(out)
	switch {
	case r.ExitCode == exit.OK:
		fmt.Fprintf(out, "%s  signed by %s\n", st.Green("SIGNER OK"), r.SignerID)
	case r.SignatureValid && r.Integrity == "PASS":
		fmt.Fprintf(out, "%s  signed by %s, which is not the expected signer\n", st.Red("SIGNER MISMATCH"), r.SignerID)
	default:
		if r.SignatureValid {
			fmt.Fprintf(out, "%s  the signature verifies, but the pack was changed after signing\n", st.Red("TAMPERED"))
		} else {
			fmt.Fprintf(out, "%s  the signature does not verify\n", st.Red("BAD SIGNATURE"))
		}
	}
	fmt.Fprintf(out, "  signer_id:    %s\n  fingerprint:  %s\n  algorithm:    %s\n  signature:    %s\n", orDash(r.SignerID), orDash(r.Fingerprint), orDash(r.SignatureAlg), map[bool]string{true: "valid", false: "INVALID"}[r.SignatureValid])
	if r.SignatureValid && r.KeySource == "keystore" {
		fmt.Fprintf(out, "  key:          none embedded; verified with the local keystore's %q (proves no signer)\n", r.SignerID)
	}
	if r.KeyInLocalKeystore {
		fmt.Fprintf(out, "  local key:    present, fingerprint %s\n", map[bool]string{true: "matches", false: "DIFFERS"}[r.LocalFingerprintMatch != nil && *r.LocalFingerprintMatch])
	}
	for _, c := range r.Comparisons {
		mark := st.Green("ok")
		if !c.Passed {
			mark = st.Red("MISMATCH")
		}
		fmt.Fprintf(out, "  --%s: %s (expected %s, got %s)\n", c.Check, mark, c.Expected, c.Actual)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(out, "  ! %s\n", p)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
