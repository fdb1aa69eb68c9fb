package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/doctor"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/version"
)

func init() {
	commands = append(commands, func() *cobra.Command {
		ci := &cobra.Command{
			Use:     "ci",
			Short:   "Wire assay into CI: generate the workflow, check CI readiness",
			GroupID: "standards",
			Args:    cobra.NoArgs,
			RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		}
		ci.AddCommand(ciInitCmd(), ciDoctorCmd())
		return ci
	})
}

func ciInitCmd() *cobra.Command {
	var (
		runCommand, out, lock, baseline, secret string
		cards                                   []string
		force, asJSON, gateway                  bool
		minScore                                float64
	)
	c := &cobra.Command{
		Use:   "init [github]",
		Short: "Write a GitHub Actions workflow that records, verifies and gates evidence",
		Long: `Writes .github/workflows/assay-verify.yml. The workflow installs assay with
actions/setup-go and go install, imports the team's signing key from the
repository secret ASSAY_SIGNING_KEY (--secret; it fails naming the secret when
it is missing), runs your program under 'assay run' into
proof_pack_ci, verifies it with --lock and --require-claim-pass, gates it
with 'assay diff' against a committed baseline pack (when one exists),
uploads the pack as an artifact, and uploads 'assay scan --format sarif'
results to GitHub code scanning. A third job runs 'assay gate check' on the
readiness score (--min-score, default 0) and uploads its report.

An existing file is only replaced with --force (exit 3 otherwise; nothing
is written).`,
		Example: `  assay ci init github --run-command "python3 app.py" --cards receipt_completeness,no_breakglass`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			provider := "github"
			if len(args) == 1 {
				provider = args[0]
			}
			if provider != "github" {
				return exit.Bad("only github is supported", "unknown CI provider %q", provider)
			}
			w, err := ciinit.RenderWorkflow(ciinit.WorkflowOptions{RunCommand: runCommand, Cards: cards,
				Lock: lock, Baseline: baseline, Version: version.Version, Secret: secret, Gateway: gateway, MinScore: minScore})
			if err != nil {
				return err
			}
			// An unknown card would only fail in CI, after the push.
			for _, id := range w.Cards {
				if _, err := claims.Load(id); err != nil {
					return err
				}
			}
			if err := ciinit.WriteWorkflow(out, w.YAML, force); err != nil {
				return err
			}
			if w.Placeholder {
				logOf(cmd).Warn().Msgf("no --run-command given: the workflow runs the placeholder %q (marked TODO); edit it before pushing", w.RunCommand)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"command": "ci init", "status": "ok", "provider": provider, "output": out, "workflow": w})
			}
			o := cmd.OutOrStdout()
			fmt.Fprintf(o, "Wrote %s (GitHub Actions, 3 jobs)\n", out)
			fmt.Fprintf(o, "  run:      assay run ... -o %s -- %s\n", w.Pack, w.RunCommand)
			fmt.Fprintf(o, "  verify:   assay verify-pack %s --lock %s --require-claim-pass\n", w.Pack, w.Lock)
			fmt.Fprintf(o, "  gate:     assay diff %s %s (when %s is committed)\n", w.Baseline, w.Pack, w.Baseline)
			fmt.Fprintf(o, "  evidence: artifact assay-proof-pack, SARIF %s to code scanning\n", w.SARIF)
			fmt.Fprintf(o, "  score:    assay gate check . --min-score %v --fail-on-regression (report %s)\n", w.MinScore, w.GateReport)
			fmt.Fprintf(o, "  signing:  the team's key from the repository secret %s (the key %s pins)\n", w.Secret, w.Lock)
			fmt.Fprintln(o, "\nNext:")
			fmt.Fprintf(o, "  1. assay lock write --cards %s -o %s   (if you have no lock yet; it pins your active signer)\n", strings.Join(w.Cards, ","), w.Lock)
			fmt.Fprintf(o, "  2. %s   (once: CI signs with the key the lock pins)\n", ciinit.SecretExportCommand(w.Secret))
			gw := ""
			if w.Gateway {
				gw = " --gateway"
			}
			fmt.Fprintf(o, "  3. assay run -c %s%s -o %s -- %s   (the baseline the diff gate compares with)\n", strings.Join(w.Cards, " -c "), gw, w.Baseline, w.RunCommand)
			fmt.Fprintf(o, "  4. git add %s %s %s && git commit -m \"CI: verify assay evidence\"\n", out, w.Lock, w.Baseline)
			fmt.Fprintln(o, "  5. push and open a pull request")
			return nil
		},
	}
	c.Flags().StringVar(&runCommand, "run-command", "", "the program CI runs under assay (default: a placeholder marked TODO)")
	c.Flags().StringSliceVar(&cards, "cards", nil, "run cards, comma-separated or repeated (default receipt_completeness)")
	c.Flags().StringVarP(&out, "output", "o", ciinit.DefaultWorkflowPath, "workflow file to write")
	c.Flags().StringVar(&lock, "lock", ciinit.DefaultLock, "lock file the workflow verifies against")
	c.Flags().StringVar(&baseline, "baseline", ciinit.DefaultBaselinePack, "committed baseline pack the workflow diffs against")
	c.Flags().BoolVar(&gateway, "gateway", false, "record the program's LLM SDK calls through the recording gateway (assay run --gateway)")
	c.Flags().StringVar(&secret, "secret", ciinit.DefaultSecret, "repository secret holding the signing key ('assay key export --secret')")
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing workflow file")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	c.Flags().Float64Var(&minScore, "min-score", 0, "readiness score the workflow's gate job requires (0..100; 0 only records it)")
	return c
}

func ciDoctorCmd() *cobra.Command {
	var f doctorFlags
	c := &cobra.Command{
		Use:   "doctor",
		Short: "assay doctor --profile ci: is this project ready for evidence in CI?",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.profile = doctor.ProfileCI
			return f.run(cmd)
		},
	}
	f.register(c, false)
	return c
}
