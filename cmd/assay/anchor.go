package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/check"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/tlog"
	"github.com/assay-dev/assay/core/verify"
)

func init() { commands = append(commands, newAnchorCmd) }

// anchorOut is one anchored pack in --json output.
type anchorOut struct {
	Pack       string `json:"pack"`
	PackID     string `json:"pack_id"`
	LogOrigin  string `json:"log_origin"`
	LeafIndex  uint64 `json:"leaf_index"`
	AnchorFile string `json:"anchor_file"`
}

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
			leaves := make([][]byte, len(args))
			ids := make([]string, len(args))
			for i, p := range args {
				l, err := anchorLeaf(p)
				if err != nil {
					return err
				}
				leaves[i], ids[i] = l.Bytes(), l.PackID
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			var proofs []*tlog.Proof
			var err error
			if isURL(logArg) {
				proofs, err = remoteAnchor(ctx, logArg, tokenFile, logKey, leaves)
			} else {
				proofs, err = localAnchor(ctx, logArg, origin, policyPath, leaves)
			}
			if err != nil {
				return err
			}
			now := time.Now()
			out := make([]anchorOut, len(args))
			for i, p := range args {
				if err := tlog.WriteAnchor(p, tlog.NewAnchor(proofs[i], now)); err != nil {
					return fmt.Errorf("write the anchor into %s: %w", p, err)
				}
				out[i] = anchorOut{Pack: p, PackID: ids[i], LogOrigin: proofs[i].Origin, LeafIndex: proofs[i].Index, AnchorFile: filepath.Join(p, filepath.FromSlash(tlog.AnchorFile))}
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

// anchorLeaf verifies the pack's integrity (anchoring a changed pack would
// log a lie) and returns its leaf.
func anchorLeaf(p string) (tlog.Leaf, error) {
	// One open: the leaf is computed from the manifest bytes just verified.
	pk, r, err := check.Open(p, verify.Options{})
	if err != nil {
		return tlog.Leaf{}, err
	}
	defer pk.Close()
	if bundleLike(p) || (pk != nil && pk.Bundle) {
		return tlog.Leaf{}, exit.Bad("anchor the pack directory, not the bundle", "%s is an audit bundle", p)
	}
	if r.Integrity != verify.VerdictPass {
		return tlog.Leaf{}, exit.New(exit.Tampered, "anchor only intact packs", "%s does not verify (%s); not anchoring it", p, firstErr(r))
	}
	l, err := tlog.LeafOf(pk)
	if err != nil {
		return tlog.Leaf{}, exit.Bad("anchor a proof pack built by 'assay proof-pack' or the reference", "%s: %v", p, err)
	}
	return l, nil
}

func firstErr(r *verify.Result) string {
	if len(r.Errors) > 0 {
		return r.Errors[0].Code + ": " + r.Errors[0].Message
	}
	return r.Verdict
}

func bundleLike(p string) bool {
	return strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz")
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// logDir resolves --log (default $ASSAY_HOME/log).
func logDir(arg string) (string, error) {
	if arg != "" {
		return arg, nil
	}
	home, err := store.Home()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "log"), nil
}

func localAnchor(ctx context.Context, logArg, origin, policyPath string, leaves [][]byte) ([]*tlog.Proof, error) {
	dir, err := logDir(logArg)
	if err != nil {
		return nil, err
	}
	o := tlog.AppendOptions{Origin: origin, BatchSize: uint(len(leaves))}
	if policyPath != "" {
		if o.Witnesses, err = tlog.LoadPolicy(policyPath); err != nil {
			return nil, err
		}
	}
	a, err := tlog.OpenAppender(ctx, dir, o)
	if err != nil {
		return nil, exit.New(exit.HonestFail, "check the log directory "+dir+" (and the witnesses, with --witness-policy)", "%v", err)
	}
	proofs, err := a.Append(ctx, leaves)
	if cerr := a.Close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, exit.New(exit.HonestFail, "check the log directory "+dir, "%v", err)
	}
	return proofs, nil
}

// anchorFlags are verify-pack's anchor flags; core/check runs the gate.
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
func (a *anchorFlags) options() check.AnchorOptions {
	return check.AnchorOptions{Require: a.require, LogKey: a.logKey, WitnessPolicy: a.policy}
}

func remoteAnchor(ctx context.Context, logURL, tokenFile, logKey string, leaves [][]byte) ([]*tlog.Proof, error) {
	tok, err := logToken(tokenFile)
	if err != nil {
		return nil, err
	}
	if logKey != "" {
		if logKey, err = tlog.LoadLogKey(logKey); err != nil {
			return nil, err
		}
	}
	if _, err := tlog.CheckLogURL(logURL); err != nil {
		return nil, exit.Bad("give the team log's https:// URL", "--log: %v", err)
	}
	ps, err := tlog.RemoteAppend(ctx, &http.Client{Timeout: 60 * time.Second}, logURL, tok, logKey, leaves)
	if err != nil {
		return nil, exit.New(exit.HonestFail, "check the log URL, the token and that 'assay log serve' runs", "%v", err)
	}
	return ps, nil
}

// logToken reads the team log's bearer token: --token-file, else
// $ASSAY_LOG_TOKEN. It never appears in output or errors.
func logToken(tokenFile string) (string, error) {
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", exit.Bad("give a readable token file", "--token-file: %v", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := os.Getenv("ASSAY_LOG_TOKEN"); t != "" {
		return t, nil
	}
	return "", exit.Bad("set ASSAY_LOG_TOKEN or pass --token-file", "appending to a team log needs its bearer token")
}
