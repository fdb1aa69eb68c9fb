package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/lock"
)

func init() { commands = append(commands, newLockCmd) }

func newLockCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "lock",
		Short:   "Freeze the cards, pack format and signers a pipeline accepts (assay.lock)",
		GroupID: "standards",
		Long: `assay.lock pins a card set (by claim_set_hash), the pack format and, optionally,
an allowlist of signer fingerprints. 'assay verify-pack PACK --lock assay.lock'
then exits 2 when a pack was built with other cards, another format or an
unpinned signer. Lock files are shaped like the reference's and pass its
'lock check' (when they name only its cards).`,
	}
	c.AddCommand(newLockWriteCmd(), newLockInitCmd(), newLockCheckCmd())
	return c
}

// lockResult is what lock write/init print with --json.
type lockResult struct {
	Path string     `json:"path"`
	Lock *lock.Lock `json:"lock"`
}

func reportLock(cmd *cobra.Command, path string, l *lock.Lock, asJSON bool) error {
	if asJSON {
		return writeJSON(cmd.OutOrStdout(), lockResult{Path: path, Lock: l})
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Wrote %s\n  cards:          %s\n  claim_set_hash: %s\n  signer policy:  %s", path, strings.Join(l.CardIDs(), ", "), l.ClaimSetHash, l.SignerPolicy.Mode)
	if n := len(l.SignerPolicy.AllowedFingerprints); n > 0 {
		fmt.Fprintf(out, " (%d fingerprint(s))", n)
	}
	fmt.Fprintln(out)
	if nr := l.NonReference(); len(nr) > 0 {
		logOf(cmd).Warn().Msgf("the reference implementation's 'lock check' does not know card(s) %s (or defines them differently); only this tool can check this lock", strings.Join(nr, ", "))
	}
	return nil
}

func newLockWriteCmd() *cobra.Command {
	var cards, signers []string
	var out string
	var asJSON, anySigner, force bool
	c := &cobra.Command{
		Use:   "write --cards a,b [--signer FP|ID,... | --any-signer] [-o assay.lock] [--force]",
		Short: "Write a lock for built-in cards (in order), pinning the active signer (or --signer)",
		Long: `Writes assay.lock for built-in cards, in order. The signer policy pins the
active signer's fingerprint unless --signer names others; a lock that accepts
any signer must be asked for with --any-signer (a warning is always printed).
An existing file is only replaced with --force.`,
		Args: cobra.NoArgs,
		Example: `  assay lock write --cards receipt_completeness,no_breakglass
  assay lock write --cards receipt_completeness --signer $(assay key info --json | jq -r .fingerprint)`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseEmpty(cmd, "output", "from-pack"); err != nil {
				return err
			}
			var ids []string
			for _, c := range cards {
				if c = strings.TrimSpace(c); c != "" {
					ids = append(ids, c)
				}
			}
			if len(ids) == 0 {
				return exit.Bad("name built-in cards, e.g. --cards receipt_completeness,no_breakglass ('assay cards list' shows them)", "lock write needs --cards")
			}
			l, err := lock.New(ids, nil)
			if err != nil {
				return err
			}
			return writeLock(cmd, l, out, force, signers, anySigner, asJSON)
		},
	}
	c.Flags().StringSliceVar(&cards, "cards", nil, "built-in card ids, comma-separated, in order (required)")
	c.Flags().StringSliceVar(&signers, "signer", nil, "pin these signers: 64-hex fingerprints or local signer ids (default: the active signer)")
	c.Flags().BoolVar(&anySigner, "any-signer", false, "accept packs signed by anyone (signer policy any; prints a warning)")
	c.Flags().BoolVar(&force, "force", false, "replace an existing lock file")
	c.Flags().StringVarP(&out, "output", "o", lock.DefaultPath, "lock file to write")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// writeLock ends lock write and lock init alike: refuse to overwrite
// without --force, pin the signers, write the lock, report it.
func writeLock(cmd *cobra.Command, l *lock.Lock, out string, force bool, signers []string, anySigner, asJSON bool) error {
	if err := refuseOverwrite(out, force); err != nil {
		return err
	}
	if err := pinSigners(cmd, l, signers, anySigner); err != nil {
		return err
	}
	if err := l.Write(out); err != nil {
		return err
	}
	return reportLock(cmd, out, l, asJSON)
}

func newLockInitCmd() *cobra.Command {
	var from, out string
	var signers []string
	var asJSON, force, anySigner bool
	c := &cobra.Command{
		Use:   "init [--from-pack PACK] [-o assay.lock] [--force]",
		Short: "Start a lock: receipt_completeness, or the built-in cards a pack was built with",
		Long: `Without --from-pack, writes a lock for the receipt_completeness card.
With --from-pack, recovers the built-in cards the pack was built with (from the
claim ids in its verify_report.json, checked against its signed
claim_set_hash) and locks those, so 'lock check' and 'verify-pack --lock' pass
on that pack. A pack built without cards or with custom card files cannot be
locked this way (exit 3). The signer policy pins the active signer (or the
--signer values); --any-signer accepts anyone and always prints a warning.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseEmpty(cmd, "output", "from-pack"); err != nil {
				return err
			}
			var l *lock.Lock
			var err error
			if from != "" {
				l, err = lock.FromPack(from)
			} else {
				l, err = lock.New([]string{"receipt_completeness"}, nil)
			}
			if err != nil {
				return err
			}
			return writeLock(cmd, l, out, force, signers, anySigner, asJSON)
		},
	}
	c.Flags().StringVar(&from, "from-pack", "", "lock the built-in cards this proof pack was built with")
	c.Flags().StringSliceVar(&signers, "signer", nil, "pin these signers: 64-hex fingerprints or local signer ids (default: the active signer)")
	c.Flags().BoolVar(&anySigner, "any-signer", false, "accept packs signed by anyone (signer policy any; prints a warning)")
	c.Flags().BoolVar(&force, "force", false, "replace an existing lock file")
	c.Flags().StringVarP(&out, "output", "o", lock.DefaultPath, "lock file to write")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newLockCheckCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "check [assay.lock]",
		Short: "Check a lock file itself: fields, cards, hashes, signer policy (exit 0 valid, 1 issues, 3 unreadable)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := lock.DefaultPath
			if len(args) == 1 {
				path = args[0]
			}
			l, err := lock.Load(path)
			if err != nil {
				return err
			}
			issues := lock.Validate(l)
			code := exit.OK
			if len(issues) > 0 {
				code = exit.HonestFail
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), map[string]any{"path": path, "valid": len(issues) == 0, "issues": append([]string{}, issues...), "cards": l.CardIDs(), "claim_set_hash": l.ClaimSetHash, "signer_policy": l.SignerPolicy, "warnings": lockWarnings(l), "exit_code": code}); err != nil {
					return err
				}
			} else {
				out := cmd.OutOrStdout()
				st := newStyle(out)
				if len(issues) == 0 {
					fmt.Fprintf(out, "%s %s: cards %s, claim_set_hash %s…, signer policy %s\n", st.Green("VALID"), path, strings.Join(l.CardIDs(), ", "), l.ClaimSetHash[:16], l.SignerPolicy.Mode)
					for _, w := range lockWarnings(l) {
						fmt.Fprintf(out, "  %s %s\n", st.Yellow("WARNING"), w)
					}
				} else {
					fmt.Fprintf(out, "%s %s: %d issue(s)\n", st.Red("INVALID"), path, len(issues))
					for _, i := range issues {
						fmt.Fprintf(out, "  - %s\n", i)
					}
				}
			}
			if code != exit.OK {
				return exit.Silent{Code: code}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
