package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/flows"
)

func init() {
	commands = append(commands, func() *cobra.Command {
		var force, asJSON bool
		c := &cobra.Command{
			Use:   "quickstart [PATH]",
			Short: "Demo packs plus a scan report of your project, in one command",
			Long: `Writes a good and a tampered demo pack into PATH/challenge_pack and verifies
both (exit 0 and exit 2), then scans PATH for LLM call sites and writes
PATH/` + flows.QuickstartReport + `, and prints what to run next.

Refuses (exit 3) a home or system directory (/, /home, /Users, $HOME) and
any tree with more than 10,000 Python files, unless --force.`,
			GroupID: "start",
			Args:    cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuickstart(cmd, args, force, asJSON)
			},
		}
		c.Flags().BoolVar(&force, "force", false, "scan even a home or system directory")
		c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
		return c
	})
}

func runQuickstart(cmd *cobra.Command, args []string, force, asJSON bool) error {
	path := "."
	if len(args) == 1 {
		path = args[0]
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		return exit.Bad("pass an existing project directory", "%s is not a directory", path)
	}
	if !force {
		home := envOf(cmd).Getenv("HOME")
		if err := flows.GuardDir(path, home); err != nil {
			return err
		}
	}
	plan, err := flows.Quickstart().Plan(path, nil)
	if err != nil {
		return err
	}
	runner := &flows.ExecRunner{Env: envOf(cmd).Vars}
	if !asJSON {
		runner.Stream = cmd.ErrOrStderr()
	}
	ctx, stop := flowContext(cmd.Context())
	defer stop()
	res := flows.Apply(ctx, plan, runner)
	o := cmd.OutOrStdout()
	if asJSON {
		if err := writeJSON(o, map[string]any{"command": "quickstart", "path": plan.Dir, "report": flows.QuickstartReport, "outcome": res}); err != nil {
			return err
		}
	} else {
		flows.RenderOutcomeText(o, res)
		if res.Status == flows.StatusOK {
			fmt.Fprintln(o, "\nThe demo (in challenge_pack/):")
			fmt.Fprintln(o, "  assay verify-pack challenge_pack/good        # exit 0: intact")
			fmt.Fprintln(o, "  assay verify-pack challenge_pack/tampered    # exit 2: one byte changed")
			fmt.Fprintln(o, "\nYour project:")
			fmt.Fprintf(o, "  1. open %s (every LLM call site, instrumented or not)\n", flows.QuickstartReport)
			fmt.Fprintln(o, "  2. assay patch . --yes")
			fmt.Fprintln(o, "  3. assay run -c receipt_completeness -o proof_pack_first -- python3 app.py")
			fmt.Fprintln(o, "  4. assay lock write --cards receipt_completeness -o assay.lock")
			fmt.Fprintln(o, "  5. assay ci init github --run-command 'python3 app.py'")
			fmt.Fprintln(o, "Or step by step with a plan first: assay flow adopt")
		}
	}
	if res.Status != flows.StatusOK {
		return exit.Silent{Code: exit.HonestFail}
	}
	return nil
}
