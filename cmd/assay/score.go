package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/score"
)

func init() { commands = append(commands, newScoreCmd, newGateCmd) }

// maxPathArgs accepts at most one PATH (the repository; default ".").
func maxPathArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return exit.Bad("give one repository directory; see '"+cmd.CommandPath()+" --help'", "%s takes at most 1 argument, got %d", cmd.CommandPath(), len(args))
	}
	return nil
}

// completeDirs completes the repository directory of score and gate (set
// on the commands here, so the shared table in complete.go is left alone).
func completeDirs(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

func repoArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// computeScore scores the repository, reading the key setup from the assay home.
func computeScore(env *cliEnv, path string) (*score.Result, error) {
	home, err := env.Home()
	if err != nil {
		home = ""
	}
	return score.Compute(path, score.Options{Home: home})
}

func newScoreCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "score [PATH]",
		Short:   "Grade a repository's evidence readiness (the reference's score, A-F)",
		GroupID: "standards",
		Long: `score computes the Evidence Readiness Score (version 2.0.0) of the repository
at PATH (default .), with the reference's components and weights:

  coverage  39  instrumented / total LLM call sites ('assay scan'); half when none
  lockfile  17  assay.lock present and valid; 45% when present but stale
  ci_gate   22  a workflow runs 'assay run', verifies the pack and checks a lock
                (run + verify 70%, verify 50%, any mention 25%)
  receipts  22  a proof pack or an MCP session file in the repository
  key_setup  0  an active signing key on this machine (reported only)

Grades: A >= 90, B >= 80, C >= 70, D >= 60, else F. Without receipts the grade
is capped at D (score at most 69.9). 'assay gate check' enforces a minimum in CI.

Exit codes: 0 scored; 3 bad input (PATH missing or not a directory).`,
		Example: `  assay score
  assay score ./my-app --json`,
		Args: maxPathArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := computeScore(envOf(cmd), repoArg(args))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			renderScore(cmd, r)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	c.ValidArgsFunction = completeDirs
	return c
}

func renderScore(cmd *cobra.Command, r *score.Result) {
	w := cmd.OutOrStdout()
	s := newStyle(w)
	fmt.Fprintf(w, "%s\n", s.Bold("Evidence Readiness Score"))
	fmt.Fprintf(w, "  repo:    %s\n", r.Repo)
	fmt.Fprintf(w, "  score:   %.1f / 100\n", r.Score)
	fmt.Fprintf(w, "  grade:   %s (%s)\n", s.Bold(r.Grade), r.GradeDescription)
	fmt.Fprintf(w, "  version: %s\n\n", r.ScoreVersion)
	fmt.Fprintf(w, "  %-10s %6s %7s  %s\n", "component", "weight", "points", "detail")
	for _, c := range r.Breakdown {
		line := fmt.Sprintf("  %-10s %6.0f %7.1f  %s", c.Name, c.Weight, c.Points, c.Detail)
		if c.Action != nil && c.Action.Points > 0 {
			line += fmt.Sprintf(" → %s (+%.1f pts est.)", c.Action.Command, c.Action.Points)
		}
		fmt.Fprintln(w, line)
	}
	for _, c := range r.Caps {
		fmt.Fprintf(w, "\n  cap %s: %s (raw score %.1f, grade %s)\n", c.ID, c.Reason, r.RawScore, r.RawGrade)
	}
	if p := r.FastestPath; p.To != "" {
		if p.Reachable {
			var cmds []string
			for _, a := range p.Actions {
				cmds = append(cmds, a.Command)
			}
			fmt.Fprintf(w, "\n  fastest path to %s (%.1f): %s\n", p.To, p.Score, strings.Join(cmds, " ; "))
		} else {
			fmt.Fprintf(w, "\n  grade %s is not reachable with the suggested actions alone\n", p.To)
		}
	}
	if len(r.NextActions) > 0 {
		fmt.Fprintf(w, "\nNext actions:\n")
		for i, a := range r.NextActions {
			fmt.Fprintf(w, "  %d. %s\n", i+1, a)
		}
	}
	fmt.Fprintf(w, "\n%s\n", s.Dim(r.Disclaimer))
}

func newGateCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "gate",
		Short:   "Gate CI on the readiness score: a minimum, or no regression against a baseline",
		GroupID: "standards",
		Long: `The score baseline is .assay/score-baseline.json in the repository (as the
reference keeps it); 'gate save-baseline' writes it, 'gate check' compares.`,
	}
	c.AddCommand(newGateCheckCmd(), newGateSaveCmd())
	return c
}

func newGateCheckCmd() *cobra.Command {
	var (
		minScore   float64
		regression bool
		baseline   string
		report     string
		force      bool
		verbose    bool
		asJSON     bool
	)
	c := &cobra.Command{
		Use:   "check [PATH] --min-score N [--fail-on-regression] [--save-report FILE]",
		Short: "Fail (exit 1) when the score is below --min-score or below the baseline",
		Long: `gate check scores the repository at PATH (default .) and fails when the score
is below --min-score, or, with --fail-on-regression, below the score saved in
the baseline (.assay/score-baseline.json, or --baseline FILE). With no baseline
saved yet, regression is not checked and a note says so.

--save-report writes the JSON result to FILE (refused if FILE exists, unless
--force), for CI to upload.

Exit codes: 0 the gate passed; 1 it failed (an honest failure); 3 bad input
(PATH, --min-score outside 0..100, an unreadable or invalid baseline).`,
		Example: `  assay gate check . --min-score 70
  assay gate check . --min-score 60 --fail-on-regression --save-report assay_gate_report.json --json`,
		Args: maxPathArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := score.ValidMinScore(minScore); err != nil {
				return err
			}
			if err := refuseEmpty(cmd, "baseline", "save-report"); err != nil {
				return err
			}
			path := repoArg(args)
			if report != "" {
				if err := refuseOverwrite(report, force); err != nil {
					return err
				}
			}
			r, err := computeScore(envOf(cmd), path)
			if err != nil {
				return err
			}
			b, bpath, err := score.LoadBaseline(path, baseline)
			if err != nil {
				return err
			}
			g, err := score.Gate(r, score.GateOptions{MinScore: minScore, FailOnRegression: regression, Baseline: b, BaselinePath: bpath})
			if err != nil {
				return err
			}
			if report != "" {
				data, err := json.MarshalIndent(g, "", "  ")
				if err != nil {
					return err
				}
				if err := fsutil.WriteNew(report, append(data, '\n'), force); err != nil {
					return err
				}
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), g); err != nil {
					return err
				}
			} else {
				renderGate(cmd, g, verbose)
			}
			if g.ExitCode != exit.OK {
				return exit.Silent{Code: g.ExitCode}
			}
			return nil
		},
	}
	c.Flags().Float64Var(&minScore, "min-score", 0, "fail below this score (0..100)")
	c.Flags().BoolVar(&regression, "fail-on-regression", false, "fail when the score is below the saved baseline's")
	c.Flags().StringVar(&baseline, "baseline", "", "score baseline file (default .assay/score-baseline.json in PATH)")
	c.Flags().StringVar(&report, "save-report", "", "also write the JSON result to this file")
	c.Flags().BoolVar(&force, "force", false, "replace an existing --save-report file")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print the score's breakdown")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	c.ValidArgsFunction = completeDirs
	_ = c.RegisterFlagCompletionFunc("min-score", cobra.FixedCompletions([]string{"60", "70", "80", "90"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func renderGate(cmd *cobra.Command, g *score.GateResult, verbose bool) {
	w := cmd.OutOrStdout()
	s := newStyle(w)
	verdict := s.Green("GATE PASSED")
	if !g.Passed {
		verdict = s.Red("GATE FAILED")
	}
	fmt.Fprintf(w, "%s: score %.1f (grade %s), minimum %.1f\n", verdict, g.Score, g.Grade, g.MinScore)
	if g.BaselineScore != nil {
		fmt.Fprintf(w, "  baseline: %.1f (grade %s) in %s", *g.BaselineScore, g.BaselineGrade, g.BaselinePath)
		if g.Regression {
			fmt.Fprintf(w, ": regressed by %.1f", *g.BaselineScore-g.Score)
		}
		fmt.Fprintln(w)
		for _, d := range g.Deltas {
			if d.Change != 0 {
				fmt.Fprintf(w, "    %-10s %+.1f (%.1f -> %.1f)\n", d.Component, d.Change, d.Baseline, d.Current)
			}
		}
	}
	for _, f := range g.Failures {
		fmt.Fprintf(w, "  - %s\n", f)
	}
	for _, n := range g.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if verbose {
		fmt.Fprintln(w)
		renderScore(cmd, g.Result)
	}
}

func newGateSaveCmd() *cobra.Command {
	var (
		out    string
		force  bool
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "save-baseline [PATH] [-o FILE] [--force]",
		Short: "Record the current score as the baseline 'gate check --fail-on-regression' compares with",
		Long: `save-baseline scores the repository at PATH (default .) and writes the score to
.assay/score-baseline.json there (or -o FILE; a relative FILE is inside PATH).
An existing baseline is replaced only with --force.

Exit codes: 0 written; 3 bad input (nothing was changed).`,
		Example: `  assay gate save-baseline
  assay gate save-baseline . --force --json`,
		Args: maxPathArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseEmpty(cmd, "output"); err != nil {
				return err
			}
			path := repoArg(args)
			r, err := computeScore(envOf(cmd), path)
			if err != nil {
				return err
			}
			b := score.BaselineOf(r, time.Now())
			written, err := score.SaveBaseline(path, out, b, force)
			if err != nil {
				return err
			}
			res := score.SaveResult{Command: "gate save-baseline", Status: "ok", Path: written, Baseline: *b}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "score baseline saved: %.1f (grade %s)\n  %s\n  'assay gate check --fail-on-regression' now fails below it\n", b.Score, b.Grade, written)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "baseline file (default .assay/score-baseline.json in PATH)")
	c.Flags().BoolVar(&force, "force", false, "replace an existing baseline")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	c.ValidArgsFunction = completeDirs
	return c
}
