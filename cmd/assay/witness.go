package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/tlog/tsa"
	"github.com/assay-dev/assay/core/verify"
)

func init() { commands = append(commands, newWitnessCmd, newVerifyWitnessCmd) }

func readCA(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, exit.Bad("give the TSA's CA certificate (PEM or DER)", "--ca: %v", err)
	}
	return b, nil
}

func newWitnessCmd() *cobra.Command {
	var tsaURL, caPath string
	var asJSON bool
	c := &cobra.Command{
		Use:     "witness PACK",
		Short:   "Timestamp a pack's root with an RFC 3161 authority (witness_bundle.json)",
		GroupID: "evidence",
		Long: `Ask an RFC 3161 time-stamping authority to sign the pack root (the imprint is
SHA-256 with the 32 bytes of pack_root_sha256) and write witness_bundle.json
at the pack root, in the reference's format and place: either tool reads the
other's. The answer is checked before it is written (imprint, nonce,
signature; with --ca also the chain). Verifiers list the file as an
unexpected entry (a warning); the pack's signature is untouched.`,
		Example: `  assay witness pack/ --tsa https://tsa.example.com/ --ca tsa-root.pem
  assay verify-witness pack/ --ca tsa-root.pem`,
		Args: exactArgs(1, "give the pack directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if tsaURL == "" {
				return exit.Bad("pass --tsa URL (an RFC 3161 time-stamping authority)", "no --tsa given")
			}
			ca, err := readCA(caPath)
			if err != nil {
				return err
			}
			if err := verify.RequireIntactDir(args[0], "timestamp"); err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			_, res, err := tsa.Stamp(ctx, &http.Client{Timeout: 30 * time.Second}, args[0], tsaURL, ca, time.Now())
			var ie *tsa.InvalidError
			if errors.As(err, &ie) {
				return exit.New(exit.Tampered, "the TSA's answer is wrong; check --tsa and --ca", "%v", err)
			}
			if err != nil {
				return exit.New(exit.HonestFail, "check --tsa (and that the authority is reachable)", "%v", err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "timestamped %s: pack root %s… at %s by %s (%s)\n", args[0], res.PackRootSHA256[:16], res.GenTime.Format(time.RFC3339), res.TSA, tsa.BundleFile)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&tsaURL, "tsa", "", "URL of the RFC 3161 time-stamping authority")
	f.StringVar(&caPath, "ca", "", "the authority's CA certificate: check the answer's chain before writing it")
	f.BoolVar(&asJSON, "json", false, "print the timestamp as JSON")
	return c
}

func newVerifyWitnessCmd() *cobra.Command {
	var caPath string
	var asJSON bool
	c := &cobra.Command{
		Use:     "verify-witness PACK",
		Short:   "Verify a pack's RFC 3161 timestamp (witness_bundle.json) offline",
		GroupID: "evidence",
		Long: `Verify witness_bundle.json against the pack, in Go: the stamped digest is the
pack's root, the nonce matches the request, the token's signature verifies,
the signer is a TSA certificate (one critical timeStamping EKU) that chains
to --ca at the stamped time. Without --ca the CA recorded in the bundle is
used, which proves only that the bundle is consistent (the output says so).

Exit codes: 0 verified; 1 no witness_bundle.json; 2 it does not verify;
3 bad input.`,
		Args: exactArgs(1, "give the pack directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ca, err := readCA(caPath)
			if err != nil {
				return err
			}
			if _, err := os.Stat(args[0]); err != nil {
				return exit.Bad("check the path", "pack not found: %s", args[0])
			}
			res, err := tsa.Verify(args[0], ca)
			var ie *tsa.InvalidError
			switch {
			case errors.Is(err, tsa.ErrNoBundle):
				return exit.New(exit.HonestFail, "timestamp it with 'assay witness "+args[0]+" --tsa URL'", "%v", err)
			case errors.As(err, &ie):
				return exit.New(exit.Tampered, "", "%v", err)
			case err != nil:
				return exit.Bad("give a pack directory with a readable manifest", "%v", err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			pin := ""
			if !res.CAPinned {
				pin = " (CA from the bundle, not pinned: pass --ca)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "VERIFIED  pack root %s… existed at %s, timestamped by %s%s\n", res.PackRootSHA256[:16], res.GenTime.Format(time.RFC3339), res.TSA, pin)
			return nil
		},
	}
	c.Flags().StringVar(&caPath, "ca", "", "pin the TSA's CA certificate (PEM or DER)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}
