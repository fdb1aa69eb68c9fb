package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/incident"
	"github.com/assay-dev/assay/core/mcppolicy"
)

func init() { commands = append(commands, newIncidentCmd) }

func newIncidentCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "incident",
		Short:   "Look back at recorded evidence: replay MCP tool calls against a candidate policy",
		GroupID: "standards",
	}
	c.AddCommand(newIncidentReplayCmd())
	return c
}

func newIncidentReplayCmd() *cobra.Command {
	var (
		policyPath  string
		currentPath string
		changesOnly bool
		asJSON      bool
	)
	c := &cobra.Command{
		Use:   "replay PACK -p candidate-policy.yaml [--current-policy FILE]",
		Short: "Show which recorded MCP tool calls a candidate policy would have denied",
		Long: `replay verifies PACK (a proof pack directory or an audit bundle), then
re-evaluates every mcp_tool_call receipt in it against the candidate policy,
with the MCP proxy's own policy engine: the tool name exactly as recorded,
the recorded arguments, per session and in the order the proxy saw the calls
(budgets count only the calls the candidate allows).

Each call is compared with the decision recorded in the pack (allow, deny,
no_policy), or with --current-policy's decision when given. Calls the proxy
refused before any policy (malformed, oversized) are listed, not evaluated.
A session recorded without arguments (store_args off) cannot have its
deny_patterns checked; such calls are flagged.

Exit codes: 0 replayed; 2 the pack is tampered (nothing replayed); 3 bad
input (PACK, or a policy file that does not load).`,
		Example: `  assay incident replay .assay/mcp/packs/proof_pack_20260101T000000Z_ab12 -p stricter.mcp-policy.yaml
  assay incident replay pack/ -p candidate.yaml --current-policy assay.mcp-policy.yaml --json`,
		Args: exactArgs(1, "give the pack directory or audit bundle"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseEmpty(cmd, "policy", "current-policy"); err != nil {
				return err
			}
			if policyPath == "" {
				return errMissingPolicy()
			}
			cand, err := mcppolicy.Load(policyPath)
			if err != nil {
				return err
			}
			var o incident.Options
			if currentPath != "" {
				if o.Current, err = mcppolicy.Load(currentPath); err != nil {
					return err
				}
			}
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			o.Verify.Keystore = ks
			r, err := incident.Replay(args[0], cand, o)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			renderReplay(cmd, r, changesOnly)
			return nil
		},
	}
	c.Flags().StringVarP(&policyPath, "policy", "p", "", "the candidate policy file (required)")
	c.Flags().StringVar(&currentPath, "current-policy", "", "compare with this policy's decisions instead of the recorded ones")
	c.Flags().BoolVar(&changesOnly, "changes-only", false, "list only the calls whose decision would change")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	// PACK completes through complete.go's table (packs found by manifest).
	for _, f := range []string{"policy", "current-policy"} {
		_ = c.RegisterFlagCompletionFunc(f, completePolicyFiles)
	}
	return c
}

// completePolicyFiles completes MCP policy files (YAML).
func completePolicyFiles(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

func errMissingPolicy() error {
	return exit.Bad("name the candidate policy, e.g. -p stricter.mcp-policy.yaml (write one with 'assay mcp policy init')", "incident replay needs -p POLICY")
}

// toolLabel shows a tool name so that lookalikes and control characters are
// visible: plain printable ASCII as is, anything else quoted with escapes.
func toolLabel(s string) string {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return strconv.QuoteToASCII(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

func renderReplay(cmd *cobra.Command, r *incident.Result, changesOnly bool) {
	w := cmd.OutOrStdout()
	s := newStyle(w)
	fmt.Fprintf(w, "%s %s (pack %s)\n", s.Bold("Policy replay:"), r.Pack, r.PackID)
	fmt.Fprintf(w, "  candidate: %s (mode %s, %s)\n", r.Policy.Path, r.Policy.Mode, r.Policy.Hash)
	if r.CurrentPolicy != nil {
		fmt.Fprintf(w, "  compared with: the current policy %s (mode %s)\n", r.CurrentPolicy.Path, r.CurrentPolicy.Mode)
	} else {
		fmt.Fprintf(w, "  compared with: the decisions recorded in the pack\n")
	}
	fmt.Fprintf(w, "  pack verified: integrity %s, claims %s\n\n", r.Verification.Integrity, r.Verification.ClaimVerdict)
	if len(r.Calls) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\ttool\trecorded\tcandidate\trule\tchange")
		for i, c := range r.Calls {
			if changesOnly && c.Change != incident.NewlyDenied && c.Change != incident.NewlyAllowed {
				continue
			}
			rule := c.Rule
			if rule == "" {
				rule = "-"
			}
			change := c.Change
			switch c.Change {
			case incident.NewlyDenied:
				change = s.Red("NEWLY DENIED")
			case incident.NewlyAllowed:
				change = s.Yellow("newly allowed")
			}
			if c.Unchecked {
				change += " (patterns unchecked)"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", i+1, toolLabel(c.Tool), c.Recorded, c.Candidate, rule, change)
		}
		tw.Flush()
		for i, c := range r.Calls {
			if c.Note != "" && (!changesOnly || c.Change == incident.NewlyDenied || c.Change == incident.NewlyAllowed) {
				fmt.Fprintf(w, "  %d: %s\n", i+1, c.Note)
			}
		}
		fmt.Fprintln(w)
	}
	m := r.Summary
	fmt.Fprintf(w, "Summary: %d call(s); would newly deny %d, would newly allow %d; unchanged %d; not evaluated %d\n",
		m.Calls, m.NewlyDenied, m.NewlyAllowed, m.Unchanged, m.NotEvaluated)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
