package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/flows"
)

// startStep is one line of a start map.
type startStep struct {
	Command string `json:"command"`
	What    string `json:"what"`
}

var startMaps = map[string][]startStep{
	"": {
		{"assay try", "see tamper detection in ten seconds (nothing written)"},
		{"assay try-mcp", "see the MCP notary proxy receipt and police an MCP server's tool calls (nothing written)"},
		{"assay quickstart .", "demo packs plus a scan report of this project"},
		{"assay flow adopt --param run_command='python3 app.py'", "scan, patch, run, verify, explain: the plan first, --apply to run it"},
		{"assay flow ci", "lock, GitHub workflow, baseline pack"},
		{"assay flow mcp", "let Claude Code, Cursor or VS Code use assay-mcp in this project"},
		{"assay flow audit --param pack=DIR", "verify, explain and bundle a pack for an auditor"},
		{"assay doctor", "check this machine and project; --fix repairs the safe things"},
	},
	"ci": {
		{"assay patch . --yes", "instrument the LLM calls (assay scan . shows them first)"},
		{"assay run -c receipt_completeness -o proof_pack_baseline -- python3 app.py", "record a run into one named pack"},
		{"assay verify-pack proof_pack_baseline", "integrity and claims, exit 0/1/2/3"},
		{"assay lock write --cards receipt_completeness -o assay.lock", "freeze the claims CI enforces"},
		{"assay ci init github --run-command 'python3 app.py'", "the workflow: run, verify --lock --require-claim-pass, diff gate, SARIF"},
		{"assay diff proof_pack_baseline proof_pack_new --gate-cost-pct 25", "daily use: compare a new run with the baseline"},
	},
	"mcp": {
		{"assay start mcp --write --client claude --root .", "register assay-mcp in .mcp.json, confined to this project"},
		{"assay doctor --check DOCTOR_MCP_001", "check the config parses, the binary resolves, the roots exist"},
		{"assay-mcp --root .", "what the client starts (stdio); add --allow-exec to let agents apply flows"},
		{"assay verify-pack PACK", "verify the pack the agent's bundle tool made"},
		{"assay try-mcp", "notarise another MCP server: the proxy in front of a synthetic one, offline"},
		{"assay mcp policy init", "a policy for the proxy (audit or enforce; allow/deny globs, budgets)"},
		{"assay mcp-proxy --policy assay.mcp-policy.yaml -- <server command>", "what the client starts instead of the server: a receipt per tool call, a signed pack per session"},
		{"assay verify-pack --latest --dir .assay/mcp/packs", "verify the newest session pack"},
	},
}

func printStartMap(w io.Writer, title string, steps []startStep) {
	fmt.Fprintln(w, title)
	for i, s := range steps {
		fmt.Fprintf(w, "  %d. %s\n     %s\n", i+1, s.Command, s.What)
	}
}

func init() {
	commands = append(commands, func() *cobra.Command {
		var asJSON bool
		start := &cobra.Command{
			Use:     "start",
			Short:   "A short map of what to run next",
			GroupID: "start",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), map[string]any{"command": "start", "steps": startMaps[""]})
				}
				printStartMap(cmd.OutOrStdout(), "Where to start:", startMaps[""])
				fmt.Fprintln(cmd.OutOrStdout(), "\nMore: assay start ci, assay start mcp, assay start demo [PATH]")
				return nil
			},
		}
		start.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")

		var ciJSON bool
		ci := &cobra.Command{
			Use:   "ci",
			Short: "The steps from a patched program to evidence checked in CI",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if ciJSON {
					return writeJSON(cmd.OutOrStdout(), map[string]any{"command": "start ci", "steps": startMaps["ci"]})
				}
				printStartMap(cmd.OutOrStdout(), "Evidence in CI:", startMaps["ci"])
				fmt.Fprintln(cmd.OutOrStdout(), "\nOr let a flow do steps 2-5: assay flow ci --apply")
				return nil
			},
		}
		ci.Flags().BoolVar(&ciJSON, "json", false, "print one JSON document")

		var demoForce bool
		demo := &cobra.Command{
			Use:   "demo [PATH]",
			Short: "Same as 'assay quickstart PATH'",
			Args:  cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runQuickstart(cmd, args, demoForce, false)
			},
		}
		demo.Flags().BoolVar(&demoForce, "force", false, "scan even a home or system directory")

		start.AddCommand(ci, demo, startMCPCmd())
		return start
	})
}

func startMCPCmd() *cobra.Command {
	var (
		write, allowExec, force, asJSON, absCommand bool
		client                                      string
		roots                                       []string
		out                                         string
	)
	c := &cobra.Command{
		Use:   "mcp",
		Short: "Use assay from an MCP client; --write registers assay-mcp in the client's project config",
		Long: `Without --write, prints the map. With --write, adds an "assay" server to the
client's project config (claude: .mcp.json, cursor: .cursor/mcp.json,
vscode: .vscode/mcp.json), keeping every other server. The policy it
writes: the server may only touch files under the --root directories
(absolute paths), and flows that run commands stay refused unless
--allow-exec is given. A different existing assay entry is only replaced
with --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := cmd.OutOrStdout()
			if !write {
				if asJSON {
					return writeJSON(o, map[string]any{"command": "start mcp", "steps": startMaps["mcp"]})
				}
				printStartMap(o, "assay for MCP clients:", startMaps["mcp"])
				fmt.Fprintln(o, "\nOr as a flow: assay flow mcp --apply")
				return nil
			}
			cl, err := ciinit.ParseClient(client)
			if err != nil {
				return err
			}
			env := envOf(cmd)
			command, found, located := ciinit.ServerCommandIn(env.Getenv("PATH"), flows.AssayBinaryIn(env.Vars), absCommand)
			absRoots := []string{env.Abs(".")}
			if len(roots) > 0 {
				absRoots = absRoots[:0]
				for _, r := range roots {
					absRoots = append(absRoots, env.Abs(r))
				}
			}
			srv, err := ciinit.NewMCPServer(cl, command, absRoots, allowExec)
			if err != nil {
				return err
			}
			path := out
			if path == "" {
				path = env.Abs(cl.ConfigPath())
			}
			changed, err := ciinit.WriteMCPConfig(path, cl, srv, force)
			if err != nil {
				return err
			}
			switch {
			case !found && located != "":
				logOf(cmd).Warn().Msgf("%s is not on PATH, so the client cannot start it by name: add %s to PATH, or re-run with --absolute-command --force to write its full path", ciinit.MCPServerBinary, filepath.Dir(located))
			case !found:
				logOf(cmd).Warn().Msgf("%s is not on PATH yet; install it: go install github.com/assay-dev/assay/cmd/assay-mcp@latest", ciinit.MCPServerBinary)
			}
			if asJSON {
				return writeJSON(o, map[string]any{"command": "start mcp", "client": cl, "config": path, "changed": changed,
					"server": srv, "roots": srv.Roots(), "allow_exec": srv.AllowExec(), "server_found": found})
			}
			verb := "Wrote"
			if !changed {
				verb = "Unchanged:"
			}
			abs, _ := filepath.Abs(path)
			fmt.Fprintf(o, "%s %s (%s): server %q = %s %s\n", verb, abs, cl.Name(), ciinit.ServerKey, srv.Command, flows.Quote(srv.Args))
			fmt.Fprintf(o, "  roots: %v\n", srv.Roots())
			if srv.AllowExec() {
				fmt.Fprintln(o, "  exec: allowed (agents may apply flows that run commands)")
			} else {
				fmt.Fprintln(o, "  exec: refused (re-run with --allow-exec --force to let agents apply flows)")
			}
			fmt.Fprintf(o, "Next: restart %s, then ask it to run the assay tools; check with: assay doctor --check DOCTOR_MCP_001\n", cl.Name())
			return nil
		},
	}
	c.Flags().BoolVar(&write, "write", false, "write the client config (default: print the map only)")
	c.Flags().StringVar(&client, "client", string(ciinit.ClientClaude), "claude, cursor or vscode")
	c.Flags().StringArrayVar(&roots, "root", nil, "directory the server may use (repeatable; default .)")
	c.Flags().BoolVar(&allowExec, "allow-exec", false, "let agents apply flows that run commands")
	c.Flags().BoolVar(&force, "force", false, "replace a different existing assay entry")
	c.Flags().BoolVar(&absCommand, "absolute-command", false, "write the full path of assay-mcp instead of the command name on PATH")
	c.Flags().StringVarP(&out, "output", "o", "", "config file to write (default: the client's project config)")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return c
}
