package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/diff"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/ops"
	"github.com/assay-dev/assay/core/packs"
)

func init() { commands = append(commands, newDiffCmd) }

func newDiffCmd() *cobra.Command {
	var (
		againstPrev, noVerify, why, strict, asJSON bool
		pricesPath, reportPath                     string
		costPct, p95Pct                            float64
		maxErrors                                  int
	)
	c := &cobra.Command{
		Use:     "diff A [B]",
		Short:   "Compare two proof packs: claim regressions, cost, latency, errors, with gates",
		GroupID: "standards",
		Long: `Compare pack A (the baseline) with pack B (the new run); either may be a
pack directory or an audit bundle (.tar.gz). Both packs are verified first
(--no-verify skips it). The diff reports claims that regressed
(passed in A, fail in B), and from the model_call receipts: calls, tokens and
cost per model (USD per 1M tokens from a built-in table of OpenAI, Anthropic
and Google models, unknown models at $10 in / $30 out; --prices FILE
overrides), latency p50/p95 and errors.

With --against-previous, the one pack given is the new run (B), compared
with the baseline ('assay baseline set') or else with the newest other
proof_pack* directory next to it (A).

Exit codes (text and --json alike):
  0  no regression, every requested gate passed
  1  a claim regressed or a gate failed
  2  a pack failed integrity verification
  3  bad input`,
		Example: `  assay diff proof_pack_old proof_pack_new
  assay diff proof_pack_new --against-previous --gate-cost-pct 20 --gate-p95-pct 25 --gate-errors 0
  assay diff old new --why --report diff.html
  assay diff old new --prices prices.json --json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var a, b string
			switch {
			case againstPrev && len(args) == 2:
				return exit.Bad("give one pack with --against-previous, or two packs without it", "--against-previous takes one pack, got 2")
			case againstPrev:
				wd, err := envOf(cmd).Wd()
				if err != nil {
					return exit.Bad("", "cannot read the working directory: %v", err)
				}
				if err := packs.Check(args[0]); err != nil && exit.Code(err) == exit.BadInput {
					return err
				}
				prev, err := packs.Previous(wd, args[0])
				if err != nil {
					return err
				}
				a, b = prev, args[0]
			case len(args) == 1:
				return exit.Bad("give two packs (assay diff A B) or use --against-previous", "diff needs a second pack")
			default:
				a, b = args[0], args[1]
			}
			// The same request type and rules as the MCP diff-packs tool.
			req := ops.DiffRequest{A: a, B: b, Strict: strict, NoVerify: noVerify, Why: why, Prices: pricesPath}
			f := cmd.Flags()
			if f.Changed("gate-cost-pct") {
				req.CostPct = &costPct
			}
			if f.Changed("gate-p95-pct") {
				req.P95Pct = &p95Pct
			}
			if f.Changed("gate-errors") {
				req.MaxErrors = &maxErrors
			}
			if reportPath != "" {
				if ext := strings.ToLower(reportPath); !strings.HasSuffix(ext, ".html") && !strings.HasSuffix(ext, ".htm") && !strings.HasSuffix(ext, ".json") {
					return exit.Bad("name the report file .html or .json", "unknown report format %q", reportPath)
				}
			}
			r, err := ops.Diff(req)
			if err != nil {
				return err
			}
			if reportPath != "" {
				if err := diff.WriteReport(reportPath, r); err != nil {
					return err
				}
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			} else {
				renderDiff(cmd.OutOrStdout(), r, reportPath)
			}
			return exit.Silent{Code: r.ExitCode}
		},
	}
	f := c.Flags()
	f.BoolVar(&againstPrev, "against-previous", false, "compare the pack given (as B) with the baseline or the newest other proof_pack* next to it")
	f.BoolVar(&noVerify, "no-verify", false, "skip the integrity verification of both packs")
	f.StringVar(&pricesPath, "prices", "", `JSON price file {"model": {"input": USD_per_1M, "output": USD_per_1M}, "default": {...}} over the built-in table`)
	f.Float64Var(&costPct, "gate-cost-pct", 0, "exit 1 if B's cost exceeds A's by more than this percent")
	f.Float64Var(&p95Pct, "gate-p95-pct", 0, "exit 1 if B's p95 latency exceeds A's by more than this percent")
	f.IntVar(&maxErrors, "gate-errors", 0, "exit 1 if B has more than this many errored model calls")
	f.BoolVar(&strict, "gate-strict", false, "a gate whose data is missing fails instead of being skipped")
	f.BoolVar(&why, "why", false, "follow parent_receipt_id chains from the evidence of claims failing in B")
	f.StringVar(&reportPath, "report", "", "also write a report: out.html (self-contained) or out.json")
	f.BoolVar(&asJSON, "json", false, "print one JSON document (schema: schemas/diff.schema.json)")
	return c
}

// renderDiff prints the human diff; the exit line comes last.
func renderDiff(w io.Writer, r *diff.Result, reportPath string) {
	st := newStyle(w)
	var head string
	switch r.Status {
	case diff.StatusOK:
		head = st.Green("NO REGRESSION")
	case diff.StatusRegression:
		head = st.Yellow("REGRESSION")
	case diff.StatusGateFailed:
		head = st.Yellow("GATE FAILED")
	default:
		head = st.Red("INTEGRITY FAILED") + "  a pack failed verification; nothing was compared"
	}
	fmt.Fprintf(w, "%s\n\n", head)
	row := func(k, a, b string) { fmt.Fprintf(w, "  %-14s %-32s %s\n", k, a, b) }
	if r.AnalysisA == nil {
		for _, pf := range r.Preflight {
			fmt.Fprintf(w, "  %s: %s (exit %d)\n", pf.Path, pf.Verdict, pf.ExitCode)
			for i, e := range pf.Errors {
				if i == 3 {
					fmt.Fprintf(w, "    … %d more\n", len(pf.Errors)-3)
					break
				}
				fmt.Fprintf(w, "    %s\n", e)
			}
		}
		fmt.Fprintf(w, "\nexit %d\n", r.ExitCode)
		return
	}
	row("", "A (baseline)", "B (new)")
	row("Pack", r.A.PackID, r.B.PackID)
	row("Receipts", fmt.Sprint(r.A.NReceipts), fmt.Sprint(r.B.NReceipts))
	row("Claim check", r.A.ClaimCheck, r.B.ClaimCheck)
	a, b := r.AnalysisA, r.AnalysisB
	row("Model calls", fmt.Sprint(a.ModelCalls), fmt.Sprint(b.ModelCalls))
	row("Tokens", fmt.Sprintf("%d in / %d out", a.InputTokens, a.OutputTokens), fmt.Sprintf("%d in / %d out", b.InputTokens, b.OutputTokens))
	row("Cost (USD)", fmt.Sprintf("$%.6f", a.CostUSD), fmt.Sprintf("$%.6f (%+.6f)", b.CostUSD, r.CostDeltaUSD))
	row("Latency p50", msText(a.LatencyP50Ms), msText(b.LatencyP50Ms))
	row("Latency p95", msText(a.LatencyP95Ms), msText(b.LatencyP95Ms))
	row("Errors", fmt.Sprint(a.Errors), fmt.Sprint(b.Errors))
	if r.Verified {
		fmt.Fprintf(w, "  %-14s both packs verified\n", "Integrity")
	} else {
		fmt.Fprintf(w, "  %-14s %s\n", "Integrity", st.Yellow(diff.UnverifiedNote))
	}
	if r.SignerChanged {
		fmt.Fprintf(w, "  %-14s %s\n", "Signer", st.Yellow("changed: "+shortHex(r.A.SignerFingerprint)+"… → "+shortHex(r.B.SignerFingerprint)+"…"))
	}
	if !r.SameClaimSet && len(r.Claims) > 0 {
		fmt.Fprintf(w, "  %-14s %s\n", "Claim set", st.Yellow("differs between the packs"))
	}
	if len(r.Models) > 0 {
		fmt.Fprintf(w, "\n%s\n", st.Bold("Models:"))
		for _, m := range r.Models {
			fmt.Fprintf(w, "  %-28s %-9s calls %d → %d   cost $%.6f → $%.6f\n", m.Model, m.Status, m.CallsA, m.CallsB, m.CostA, m.CostB)
		}
	}
	if len(r.Claims) > 0 {
		fmt.Fprintf(w, "\n%s\n", st.Bold("Claims:"))
		for _, c := range r.Claims {
			s := c.Status
			if s == diff.ClaimRegressed {
				s = st.Red("REGRESSED")
			}
			detail := ""
			if c.Status == diff.ClaimRegressed || (c.After != nil && !*c.After) {
				detail = fmt.Sprintf("  expected %s; actual: %s", c.Expected, c.Actual)
			}
			fmt.Fprintf(w, "  %-28s %s%s\n", c.ClaimID, s, detail)
		}
	}
	if len(r.Gates) > 0 {
		fmt.Fprintf(w, "\n%s\n", st.Bold("Gates:"))
		for _, g := range r.Gates {
			s := st.Green("passed")
			switch {
			case g.Skipped:
				s = st.Dim("skipped")
			case !g.Passed:
				s = st.Red("FAILED")
			}
			fmt.Fprintf(w, "  %-10s %-8s %s\n", g.Name, s, g.Detail)
		}
	}
	if len(r.Why) > 0 {
		fmt.Fprintf(w, "\n%s\n", st.Bold("Why (parent_receipt_id chains in B):"))
		for _, y := range r.Why {
			fmt.Fprintf(w, "  %s", y.ClaimID)
			if y.ReceiptID != "" {
				fmt.Fprintf(w, " ← %s", y.ReceiptID)
			}
			fmt.Fprintln(w)
			for i, l := range y.Chain {
				arrow := "   "
				if i > 0 {
					arrow = "↳ "
				}
				fmt.Fprintf(w, "    %s%s %s %s\n", arrow, l.ReceiptID, l.Type, l.Summary)
			}
			if y.Note != "" {
				fmt.Fprintf(w, "    %s\n", st.Dim(y.Note))
			}
		}
	}
	fmt.Fprintln(w)
	for _, reason := range r.Reasons {
		fmt.Fprintf(w, "  %s\n", reason)
	}
	if reportPath != "" {
		fmt.Fprintf(w, "report: %s\n", reportPath)
	}
	fmt.Fprintf(w, "exit %d\n", r.ExitCode)
}

func msText(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%g ms", *p)
}
