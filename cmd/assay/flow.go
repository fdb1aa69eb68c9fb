package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/flows"
)

func init() {
	commands = append(commands, func() *cobra.Command {
		var (
			apply, asJSON bool
			params        []string
			dir           string
		)
		c := &cobra.Command{
			Use:   "flow [NAME]",
			Short: "Guided flows: read a step plan, then --apply it",
			Long: `A flow is an ordered list of assay (and project) commands. Without --apply
it only prints the plan; nothing runs. With --apply the steps run in order,
without a shell, and the flow stops at the first step whose exit code is not
accepted, showing that exit code and the command.

Flows:
  try    build a good and a tampered pack, verify both
  adopt  scan, patch, run with receipt_completeness, verify, explain
  ci     lock, GitHub workflow, baseline pack
  mcp    register assay-mcp with an MCP client, confined to this project
  audit  verify with claims, explain, bundle, verify the bundle and signer

Exit codes: 0 the plan printed or every step passed, 1 a step failed,
3 bad input (unknown flow or param).`,
			Example: `  assay flow adopt --param run_command="python3 app.py"
  assay flow adopt --apply --param run_command="python3 app.py"
  assay flow audit --param pack=proof_pack_adopt --apply --json`,
			GroupID: "start",
			Args:    cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				out := cmd.OutOrStdout()
				if len(args) == 0 {
					if asJSON {
						var list []*flows.Flow
						for _, n := range flows.Names() {
							f, _ := flows.Get(n)
							list = append(list, f)
						}
						return writeJSON(out, map[string]any{"command": "flow", "flows": list})
					}
					for _, n := range flows.Names() {
						f, _ := flows.Get(n)
						fmt.Fprintf(out, "  %-6s %s\n", n, f.Summary)
					}
					fmt.Fprintln(out, "\nSee a plan: assay flow NAME; run it: assay flow NAME --apply")
					return nil
				}
				kv, err := flows.ParseParams(params)
				if err != nil {
					return err
				}
				if dir != "" {
					// Relative to the run's working directory.
					dir = envOf(cmd).Abs(dir)
					if st, err := os.Stat(dir); err != nil || !st.IsDir() {
						return exit.Bad("pass an existing directory", "--dir %s is not a directory", dir)
					}
				} else {
					dir = envOf(cmd).Dir // "" is the process's own
				}
				// The same request type and rules as the MCP run-flow tool.
				req := flows.Request{Flow: args[0], Params: kv, Dir: dir, Apply: apply}
				plan, err := req.Plan(flows.PlanOptions{})
				if err != nil {
					return err
				}
				if !apply && !asJSON {
					flows.RenderPlanText(out, plan)
					return nil
				}
				runner := &flows.ExecRunner{Env: envOf(cmd).Vars}
				if !asJSON {
					// Child output streams to stderr; stdout carries the result.
					runner.Stream = cmd.ErrOrStderr()
				}
				ctx, stop := flowContext(cmd.Context())
				defer stop()
				doc, outcome, err := flows.Execute(ctx, req, plan, runner)
				if err != nil {
					return err
				}
				if asJSON {
					if err := writeJSON(out, doc); err != nil {
						return err
					}
				} else {
					flows.RenderOutcomeText(out, outcome)
				}
				if doc.Applied && doc.Status != flows.StatusOK {
					return exit.Silent{Code: exit.HonestFail}
				}
				return nil
			},
		}
		c.Flags().BoolVar(&apply, "apply", false, "run the steps (default: print the plan only)")
		c.Flags().BoolVar(&asJSON, "json", false, "print one JSON document (schema: schemas/flow-result.schema.json)")
		c.Flags().StringArrayVar(&params, "param", nil, "flow parameter as key=value (repeatable)")
		c.Flags().StringVar(&dir, "dir", "", "project directory the steps run in (default: the current directory)")
		return c
	})
}

// flowContext is cancelled on SIGTERM, and on SIGINT only if the running
// step has not ended 2 s later: a terminal's Ctrl-C already reaches the step
// (same process group), which then exits and stops the flow; repeating the
// signal would interrupt it twice. A SIGINT sent to assay alone is passed
// on by the cancellation.
func flowContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				if s == syscall.SIGTERM {
					cancel()
					continue
				}
				go func() {
					select {
					case <-time.After(2 * time.Second):
						cancel()
					case <-done:
					}
				}()
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}
