package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/mcppolicy"
	"github.com/assay-dev/assay/core/ops"
)

func init() { mcpSubcommands = append(mcpSubcommands, newMCPPolicyCmd) }

// newMCPPolicyCmd is `assay mcp policy`: write, validate and try the MCP
// proxy's policy file (core/mcppolicy).
func newMCPPolicyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "Write, validate and try the MCP proxy's policy file (" + mcppolicy.DefaultFile + ")",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(mcpPolicyInitCmd(), mcpPolicyValidateCmd(), mcpPolicyCheckCmd())
	return c
}

func mcpPolicyInitCmd() *cobra.Command {
	var (
		out, serverID, mode string
		force, asJSON       bool
	)
	c := &cobra.Command{
		Use:   "init",
		Short: "Write a commented policy template (audit mode, no rules yet)",
		Long: `Writes ` + mcppolicy.DefaultFile + `: version, server_id and mode set, and commented
examples of every rule (deny and allow globs, per-tool max_calls and
argument patterns, the session budget) with the order they are checked in.
As written it allows every call; in audit mode the proxy records verdicts
without refusing anything.

An existing file is only replaced with --force (exit 3 otherwise; nothing
is written).`,
		Example: `  assay mcp policy init --server-id fs-server
  assay mcp policy init -o policies/fs.yaml --mode enforce`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := mcppolicy.TemplateWithMode(serverID, mode)
			if err != nil {
				return exit.Bad("use audit or enforce", "--mode: unknown mode %q", mode)
			}
			if err := fsutil.WriteNew(out, data, force); err != nil {
				return err
			}
			p, err := mcppolicy.Parse(data, out)
			if err != nil { // the template always parses (tested); guard anyway
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"command": "mcp policy init", "status": "ok", "output": out, "policy": p.Summary()})
			}
			o, st := cmd.OutOrStdout(), newStyle(cmd.OutOrStdout())
			fmt.Fprintf(o, "%s %s\n", st.Green("Wrote"), out)
			fmt.Fprintf(o, "  server_id: %s\n", p.ServerID)
			fmt.Fprintf(o, "  mode:      %s\n", modeText(p))
			fmt.Fprintf(o, "  rules:     none yet: every call is allowed and recorded\n")
			fmt.Fprintf(o, "  hash:      %s\n", p.Hash)
			fmt.Fprintln(o, "\nNext:")
			fmt.Fprintf(o, "  1. edit %s: uncomment the rules you want (tools, budget)\n", out)
			fmt.Fprintf(o, "  2. assay mcp policy validate %s\n", out)
			fmt.Fprintf(o, "  3. assay mcp policy check %s --tool delete_file   (would this call be allowed?)\n", out)
			fmt.Fprintf(o, "  4. assay mcp-proxy --policy %s -- <server cmd>\n", out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", mcppolicy.DefaultFile, "policy file to write")
	c.Flags().StringVar(&serverID, "server-id", "my-server", "server_id recorded in every receipt")
	c.Flags().StringVar(&mode, "mode", mcppolicy.ModeAudit, "audit (record verdicts, forward every call) or enforce (refuse denied calls)")
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return c
}

func mcpPolicyValidateCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a policy file and summarise it (exit 3 if invalid)",
		Long: `Loads the policy the way 'assay mcp-proxy --policy' does and prints what it
holds: hash, mode, default, the number of rules and the budget. An invalid
file prints one line naming the line, the key and the fix, and exits 3.`,
		Args: exactArgs(1, "name the policy file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := mcppolicy.Load(args[0])
			if err != nil {
				return err
			}
			s := p.Summary()
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			printPolicySummary(cmd.OutOrStdout(), p, s)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return c
}

func printPolicySummary(o io.Writer, p *mcppolicy.Policy, s mcppolicy.Summary) {
	st := newStyle(o)
	fmt.Fprintf(o, "%s %s\n", st.Green("VALID"), s.File)
	fmt.Fprintf(o, "  hash:        %s\n", s.Hash)
	fmt.Fprintf(o, "  version:     %s\n", s.Version)
	fmt.Fprintf(o, "  server_id:   %s\n", orNone(s.ServerID, "(not set: mcp-proxy --server-id decides)"))
	fmt.Fprintf(o, "  mode:        %s\n", modeText(p))
	fmt.Fprintf(o, "  default:     %s\n", s.Default)
	fmt.Fprintf(o, "  deny rules:  %d\n", s.DenyRules)
	fmt.Fprintf(o, "  allow rules: %d\n", s.AllowRules)
	fmt.Fprintf(o, "  constraints: %d tool(s)\n", s.Constraints)
	fmt.Fprintf(o, "  budget:      %s, %s\n", limitText(s.Budget.MaxToolCalls, "tool calls", ""), limitText(s.Budget.MaxWallTimeSec, "wall time", " s"))
	var opts []string
	for _, b := range []struct {
		name string
		v    *bool
	}{{"store_args", s.StoreArgs}, {"store_results", s.StoreResults}, {"auto_pack", s.AutoPack}} {
		if b.v != nil {
			opts = append(opts, fmt.Sprintf("%s=%v", b.name, *b.v))
		}
	}
	if s.AuditDir != "" {
		opts = append(opts, "audit_dir="+s.AuditDir)
	}
	if len(opts) > 0 {
		fmt.Fprintf(o, "  overrides:   %s (instead of the mcp-proxy flags)\n", strings.Join(opts, ", "))
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(o, "  %s %s\n", st.Yellow("note:"), w)
	}
}

func modeText(p *mcppolicy.Policy) string {
	if p.Enforce() {
		return "enforce (denied calls are refused)"
	}
	return "audit (every call is forwarded; verdicts are recorded)"
}

// limitText renders a budget limit: "unlimited tool calls", "300 s wall time".
func limitText(n int, what, unit string) string {
	if n == 0 {
		return "unlimited " + what
	}
	return fmt.Sprintf("%d%s %s", n, unit, what)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// policyCheck is the --json document of `mcp policy check`.
func mcpPolicyCheckCmd() *cobra.Command {
	var (
		tool, argsJSON string
		asJSON         bool
	)
	c := &cobra.Command{
		Use:   "check FILE --tool NAME [--args JSON]",
		Short: "Would this tool call be allowed? (exit 0 allow, 1 deny, 3 bad input)",
		Long: `Evaluates one tools/call against the policy, as the first call of a fresh
session (so budgets are not used up yet), and prints the verdict, the
reason and the rule that decided. --args is the call's arguments as a JSON
object; deny_patterns are matched against its canonical JSON (keys sorted,
no spaces), exactly as the proxy does.

Exit codes: 0 the call is allowed, 1 it is denied (in either mode), 3 bad
input (unreadable or invalid policy, bad --args).`,
		Example: `  assay mcp policy check assay.mcp-policy.yaml --tool delete_file
  assay mcp policy check assay.mcp-policy.yaml --tool write_file --args '{"path":"/etc/passwd"}'`,
		Args: exactArgs(1, "name the policy file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if tool == "" {
				return exit.Bad("name the tool, e.g. --tool write_file", "--tool is required")
			}
			// The same request type as the MCP policy-check tool.
			r, err := ops.PolicyCheck(ops.PolicyCheckRequest{Policy: args[0], Tool: tool, Arguments: []byte(argsJSON)})
			if err != nil {
				return err
			}
			p, err := mcppolicy.Load(args[0])
			if err != nil {
				return err
			}
			d := r
			o := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSON(o, r); err != nil {
					return err
				}
			} else {
				st := newStyle(o)
				if d.ExitCode == 0 {
					fmt.Fprintf(o, "%s %s (%s, %s mode)\n", st.Green("ALLOW"), tool, p.Path, p.Mode)
				} else {
					fmt.Fprintf(o, "%s %s: %s\n", st.Red("DENY"), tool, d.Detail)
					fmt.Fprintf(o, "  reason: %s\n  rule:   %s\n", d.Reason, d.Rule)
					if p.Enforce() {
						fmt.Fprintf(o, "  mode:   enforce: mcp-proxy refuses this call with a JSON-RPC error\n")
					} else {
						fmt.Fprintf(o, "  mode:   audit: mcp-proxy forwards this call and records the denial\n")
					}
				}
			}
			if r.ExitCode != 0 {
				return exit.Silent{Code: r.ExitCode}
			}
			return nil
		},
	}
	c.Flags().StringVar(&tool, "tool", "", "tool name of the call (required)")
	c.Flags().StringVar(&argsJSON, "args", "{}", "the call's arguments as a JSON object")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document (schema: schemas/policy-check.schema.json)")
	return c
}
