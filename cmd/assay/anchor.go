package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/anchor"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/verify"
)

func init() { commands = append(commands, newAnchorCmd) }

// anchorOut is one anchored pack in --json output.
func newAnchorCmd() *cobra.Command {
	var logArg, policyPath, origin, tokenFile, logKey string
	var asJSON bool
	c := &cobra.Command{
		Use:     "anchor PACK...",
		Short:   "Append packs to a transparency log and store the proof in each pack",
		GroupID: "evidence",
		Long: `Append each pack's leaf (its id, pack root and the hash of its signed manifest)
to a transparency log and write the offline proof into the pack at
_unsigned/anchor.json: the log's origin and public key, the signed
checkpoint, the leaf index and the inclusion proof (C2SP tlog-proof).

The default log is a local tlog-tiles log under $ASSAY_HOME/log, created on
first use with its own signing key. --log DIR picks another directory;
--log https://... appends to a team log ('assay log serve') with the bearer
token in $ASSAY_LOG_TOKEN or --token-file.

The pack's signed files are untouched: anchored packs still verify under any
verifier. Check the anchor with 'assay verify-pack PACK --require-anchor'.`,
		Example: `  assay anchor ./proof_pack_trace_20260115T115900_1a2b3c4d
  assay anchor pack1 pack2 --log ./team-log --witness-policy witnesses.txt
  ASSAY_LOG_TOKEN=... assay anchor pack --log https://log.example.com/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := anchor.Request{Packs: args, Log: logArg, Origin: origin, WitnessPolicy: policyPath, LogKey: logKey, Now: time.Now()}
			var err error
			if anchor.IsLogURL(logArg) {
				if req.Token, err = logToken(envOf(cmd), tokenFile); err != nil {
					return err
				}
			} else if req.Log, err = logDir(envOf(cmd), logArg); err != nil {
				return err
			}
			out, err := anchor.Packs(cmd.Context(), req)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			for _, o := range out {
				fmt.Fprintf(cmd.OutOrStdout(), "anchored %s: entry %d of %s (%s)\n", o.Pack, o.LeafIndex, o.LogOrigin, o.AnchorFile)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&logArg, "log", "", "log directory, or a team log's https:// URL (default $ASSAY_HOME/log)")
	f.StringVar(&policyPath, "witness-policy", "", "witness policy (C2SP tlog-policy): the log gets each checkpoint cosigned by its quorum")
	f.StringVar(&origin, "origin", "", "origin (name) of a log created by this command (default assay.local/log-<random>)")
	f.StringVar(&tokenFile, "token-file", "", "file holding the team log's bearer token (default $ASSAY_LOG_TOKEN)")
	f.StringVar(&logKey, "log-key", "", "pin the team log's public key (vkey or file); its proofs must verify under it")
	f.BoolVar(&asJSON, "json", false, "print the anchored packs as JSON")
	return c
}

func isURL(s string) bool { return anchor.IsLogURL(s) }

// logDir resolves --log (default $ASSAY_HOME/log).
func logDir(env *cliEnv, arg string) (string, error) {
	if arg != "" {
		return arg, nil
	}
	home, err := env.Home()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "log"), nil
}

// anchorFlags are verify-pack's anchor flags (verify.AnchorOptions).
type anchorFlags struct {
	require bool
	logKey  string
	policy  string
}

func addAnchorFlags(c *cobra.Command) *anchorFlags {
	a := &anchorFlags{}
	f := c.Flags()
	f.BoolVar(&a.require, "require-anchor", false, "exit 1 unless the pack carries a transparency-log anchor; exit 2 if it does not verify")
	f.StringVar(&a.logKey, "log-key", "", "pin the log's public key (vkey, or a file holding it) the anchor must be signed by")
	f.StringVar(&a.policy, "witness-policy", "", "witness policy (C2SP tlog-policy) whose quorum must have cosigned the anchor's checkpoint")
	return a
}

// options are the anchor gate's request for core/check.
func (a *anchorFlags) options() verify.AnchorOptions {
	return verify.AnchorOptions{Require: a.require, LogKey: a.logKey, WitnessPolicy: a.policy}
}

// logToken reads the team log's bearer token: --token-file, else
// $ASSAY_LOG_TOKEN. It never appears in output or errors.
func logToken(env *cliEnv, tokenFile string) (string, error) {
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", exit.Bad("give a readable token file", "--token-file: %v", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := env.Getenv("ASSAY_LOG_TOKEN"); t != "" {
		return t, nil
	}
	return "", exit.Bad("set ASSAY_LOG_TOKEN or pass --token-file", "appending to a team log needs its bearer token")
}
