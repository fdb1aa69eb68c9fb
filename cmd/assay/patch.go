package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/patch"
	"github.com/assay-dev/assay/core/scan"
)

type patchFlags struct {
	dryRun, yes, undo, asJSON bool
	entrypoint                string
	lang                      string
}

// patchDoc is `assay patch --json`: the reference's top-level fields
// (command, status, diff, and the Python plan's entrypoint, frameworks,
// lines_to_insert, insertion_line, already_patched, langchain_note), plus
// every plan (Python and Go) and the files changed.
func init() {
	commands = append(commands, func() *cobra.Command {
		var o patchFlags
		c := &cobra.Command{
			Use:   "patch [PATH]",
			Short: "Instrument a project so every LLM call emits a receipt",
			Long: `Instrument the project at PATH (default .) so every LLM call emits a
model_call receipt with its callsite_id.

Python: writes assay's stdlib-only capture module (assay_capture.py) beside
the entrypoint and inserts one import line marked "# assay:patched" after the
docstring and __future__ imports (two lines inside a package, a try of the
relative import, so the file runs both with -m and as a script). The
entrypoint is --entrypoint FILE (inside PATH); else the __main__ module (a
package's __main__.py or a file with an if __name__ == "__main__" guard, test
files excluded; with several, the one with most call sites, then the
shallowest); else the first [project.scripts] entry of pyproject.toml; else
the file with the most uninstrumented call sites. The plan names the file and
the rule that chose it; a second run changes nothing.
Node (TypeScript/JavaScript): writes assay's dependency-free capture module
(assay_capture.cjs and .mjs) beside each package's entrypoint (package.json
main, bin or scripts.start; or --entrypoint) and imports it there on one
line marked "// assay:patched" (ESM import or CommonJS require, matching the
file). It records every LLM call of the process, streams included; where
the package has a tsconfig.json, 'tsc --noEmit' must still pass.
Go: builds every openai-go, anthropic-sdk-go, genai and langchaingo client
with assay's capture middleware (a generated assay_capture_gen.go per package).

Each changed file is backed up as FILE.assay.bak, compile-checked (python3 /
go build) and rolled back if it no longer compiles. Running it again changes
nothing. --undo restores the original bytes and removes the generated files.

Emit the coverage contract after patching ('assay scan --emit-contract'):
the inserted import moves the entrypoint's lines down.

Exit codes: 0 applied, nothing to do or dry run; 1 declined at the prompt, the patched
code did not compile (rolled back) or --undo found no backup; 3 bad input.`,
			Example: `  assay patch . --dry-run
  assay patch . --yes && assay scan . --emit-contract assay.coverage.json
  assay run -- python app.py && assay verify-pack --latest --coverage-contract assay.coverage.json
  assay patch . --undo`,
			GroupID: "capture",
			Args:    cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				path := "."
				if len(args) == 1 {
					path = args[0]
				}
				return runPatch(cmd, path, o)
			},
		}
		f := c.Flags()
		f.BoolVar(&o.dryRun, "dry-run", false, "show the unified diff; change nothing")
		f.BoolVarP(&o.yes, "yes", "y", false, "apply without asking")
		f.BoolVar(&o.undo, "undo", false, "restore the files from their .assay.bak backups")
		f.StringVar(&o.entrypoint, "entrypoint", "", "Python file to patch, relative to PATH")
		f.StringVar(&o.lang, "lang", "auto", "python, go, node or auto (each, where call sites were found)")
		f.BoolVar(&o.asJSON, "json", false, "print JSON (still asks before applying: add --yes or --dry-run)")
		return c
	})
}

func runPatch(cmd *cobra.Command, path string, o patchFlags) error {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := patch.CheckLang(o.lang); err != nil {
		return err
	}
	root, err := scan.CheckRoot(path)
	if err != nil {
		return err
	}
	if o.undo {
		return runPatchUndo(out, root, o)
	}
	res, err := scan.Scan(root, scan.Options{})
	if err != nil {
		return err
	}
	for i, sk := range res.Skipped {
		if i == 3 {
			fmt.Fprintf(errw, "assay patch: ... and %d more ('assay scan --log-level info' lists them)\n", len(res.Skipped)-3)
			break
		}
		fmt.Fprintf(errw, "assay patch: %s not analysed (%s); its LLM calls, if any, stay uninstrumented\n", sk.Path, sk.Reason)
	}
	plans, err := patch.PlanProject(root, res, o.lang, o.entrypoint)
	if err != nil {
		return err
	}
	doc := patch.NewReport(plans)
	if !o.asJSON {
		if len(plans) == 0 {
			fmt.Fprintln(out, "No uninstrumented call sites found: nothing to patch.")
			return nil
		}
		printPatchPlans(out, plans)
	}
	finish := func(status, text string) error {
		doc.Status = status
		if o.asJSON {
			return writeJSON(out, doc)
		}
		fmt.Fprintln(out, text)
		return nil
	}
	if len(doc.Files) == 0 {
		return finish("nothing_to_do", "Already patched: no files to change.")
	}
	if o.dryRun {
		return finish("dry_run", "Dry run -- no files changed.")
	}
	if !o.yes && !confirm(cmd, fmt.Sprintf("Apply these changes to %d file(s)?", len(doc.Files))) {
		return declined("pass --yes to apply without asking, or --dry-run to only see the plan")
	}
	if err := patch.ApplyAll(plans); err != nil {
		return err
	}
	doc.Status = "applied"
	if o.asJSON {
		return writeJSON(out, doc)
	}
	printPatchApplied(out, plans, path)
	return nil
}

// runPatchUndo is --undo: restore the backups (or, with --dry-run, list them).
func runPatchUndo(out io.Writer, root string, o patchFlags) error {
	if o.dryRun {
		would, err := patch.WouldRestore(root, o.entrypoint)
		if err != nil {
			return err
		}
		if o.asJSON {
			return writeJSON(out, patch.UndoReport("dry_run", would))
		}
		for _, r := range would {
			fmt.Fprintf(out, "Would restore %s\n", r)
		}
		fmt.Fprintln(out, "Dry run -- no files changed.")
		return nil
	}
	restored, err := patch.Undo(root, o.entrypoint)
	if err != nil {
		return err
	}
	if o.asJSON {
		return writeJSON(out, patch.UndoReport("undone", restored))
	}
	for _, r := range restored {
		fmt.Fprintf(out, "Restored %s\n", r)
	}
	return nil
}

// printPatchPlans renders the plans and their diff.
func printPatchPlans(out io.Writer, plans []*patch.Plan) {
	var diff strings.Builder
	for _, p := range plans {
		fmt.Fprintf(out, "%s: %d uninstrumented call site(s); frameworks: %s\n", p.Language, p.Uninstrumented, strings.Join(p.Frameworks, ", "))
		if p.Entrypoint != "" {
			fmt.Fprintf(out, "  entrypoint: %s (%s; already patched: %v)\n", p.Entrypoint, p.EntrypointRule, p.AlreadyPatched)
		}
		if p.LangchainNote != "" {
			fmt.Fprintf(out, "  note: %s\n", p.LangchainNote)
		}
		for _, n := range p.Notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
		diff.WriteString(p.Diff(false))
	}
	if diff.Len() > 0 {
		fmt.Fprintln(out)
		fmt.Fprint(out, diff.String())
	}
}

// printPatchApplied renders what was written and what to run next.
func printPatchApplied(out io.Writer, plans []*patch.Plan, path string) {
	st := newStyle(out)
	for _, p := range plans {
		for _, c := range p.Changes {
			verb := "Patched"
			if c.Created {
				verb = "Wrote"
			}
			fmt.Fprintf(out, "%s %s\n", st.Green(verb), c.Rel)
		}
		if p.Language == "python" && p.Entrypoint != "" {
			fmt.Fprintf(out, "Next: assay run -c receipt_completeness -- python %s\n", filepath.FromSlash(p.Entrypoint))
		}
		if p.Language == "node" && p.Entrypoint != "" {
			fmt.Fprintf(out, "Next: assay scan --emit-contract assay.coverage.json, then assay run -c receipt_completeness -- npm start (or node/tsx %s)\n", filepath.FromSlash(p.Entrypoint))
		}
	}
	fmt.Fprintln(out, "Undo with: assay patch --undo "+path)
}
