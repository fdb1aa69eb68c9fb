package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/demo"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/verify"
)

func init() { commands = append(commands, newTryCmd, newDemoChallengeCmd, newDemoIncidentCmd) }

func newTryCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "try",
		Short:   "See assay work in 5 seconds: build a pack, verify it, flip a byte, verify again",
		GroupID: "start",
		Long: `Builds a signed proof pack from synthetic receipts in a temporary directory
(no API key, no key setup: an ephemeral signing key), verifies it (exit 0),
changes one byte of one receipt, and verifies again (exit 2). Nothing is left
behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			steps, err := demo.Try()
			if err != nil {
				return err
			}
			ok := len(steps) == 4 && steps[1].ExitCode == exit.OK && steps[3].ExitCode == exit.Tampered
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), map[string]any{"command": "try", "ok": ok, "steps": steps}); err != nil {
					return err
				}
			} else {
				w := cmd.OutOrStdout()
				st := newStyle(w)
				for i, s := range steps {
					fmt.Fprintf(w, "%s %s\n", st.Bold(fmt.Sprintf("%d. %s:", i+1, s.Step)), s.Detail)
					if s.Result != nil {
						fmt.Fprintf(w, "   -> %s (exit %d)", verdictWord(st, s.Result), s.Result.ExitCode)
						if len(s.Result.Errors) > 0 {
							fmt.Fprintf(w, ": %s", s.Result.Errors[0].Message)
						}
						fmt.Fprintln(w)
					}
				}
				fmt.Fprintf(w, "\nOne changed byte, and the signed pack no longer verifies. Next: 'assay demo-challenge' keeps both packs for you to inspect; 'assay run -- <your program>' records a real run.\n")
			}
			if !ok {
				return exit.New(exit.Tampered, "", "try: the verifier did not behave as expected")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func verdictWord(st style, r *verify.Result) string {
	switch r.Verdict {
	case verify.VerdictPass:
		return st.Green("PASS")
	case verify.VerdictHonestFail:
		return st.Yellow("HONEST FAIL")
	}
	return st.Red("TAMPERED")
}

func newDemoChallengeCmd() *cobra.Command {
	var out string
	var asJSON bool
	c := &cobra.Command{
		Use:     "demo-challenge",
		Short:   "Write a good and a tampered pack side by side, and show the byte that differs",
		GroupID: "start",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch, err := demo.BuildChallenge(out)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), ch)
			}
			w := cmd.OutOrStdout()
			st := newStyle(w)
			fmt.Fprintf(w, "Wrote %s: good/, tampered/, SHA256SUMS.txt and CHALLENGE.md\n\n", out)
			fmt.Fprintf(w, "good:     %s (exit %d)\n", verdictWord(st, ch.Good), ch.Good.ExitCode)
			fmt.Fprintf(w, "tampered: %s (exit %d)", verdictWord(st, ch.Tampered), ch.Tampered.ExitCode)
			if len(ch.Tampered.Errors) > 0 {
				fmt.Fprintf(w, ": %s", ch.Tampered.Errors[0].Message)
			}
			fmt.Fprintf(w, "\n\nWhat changed (computed, byte by byte):\n")
			renderDiffs(w, ch.Diffs)
			fmt.Fprintf(w, "\nTry it yourself:\n  assay verify-pack %s/good       # exit 0\n  assay verify-pack %s/tampered   # exit 2\n", out, out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "challenge_pack", "directory to create")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func renderDiffs(w io.Writer, ds []demo.ByteDiff) {
	for _, d := range ds {
		fmt.Fprintf(w, "  %s offset %d: %s -> %s   …%s…\n", d.File, d.Offset, d.Old, d.New, d.Context)
	}
}

func newDemoIncidentCmd() *cobra.Command {
	var out string
	var asJSON bool
	c := &cobra.Command{
		Use:     "demo-incident",
		Short:   "Two runs, two packs: a guarded run that passes, then a model swap that honestly fails",
		GroupID: "start",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inc, err := demo.BuildIncident(out)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), inc)
			}
			w := cmd.OutOrStdout()
			st := newStyle(w)
			fmt.Fprintf(w, "Act 1: gpt-4 with a guardian verdict on every answer.\n  %s/act1: integrity %s, claims %s -> %s (exit %d)\n\n", out, inc.Act1.Integrity, inc.Act1.Pack.ClaimCheck, verdictWord(st, inc.Act1), inc.Act1.ExitCode)
			fmt.Fprintf(w, "Act 2: someone swapped in gpt-3.5-turbo and dropped the guardian.\n  %s/act2: integrity %s, claims %s -> %s (exit %d)\n", out, inc.Act2.Integrity, inc.Act2.Pack.ClaimCheck, verdictWord(st, inc.Act2), inc.Act2.ExitCode)
			fmt.Fprintf(w, "\nThe evidence is intact and it shows the failure: an honest failure, exit 1, not tampering (exit 2).\nSee for yourself:\n  assay verify-pack %s/act1   # exit 0\n  assay verify-pack %s/act2   # exit 1\n  assay explain %s/act2\n", out, out, out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "incident_demo", "directory to create (the packs are kept)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
