package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/patch"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/scan/typescript"
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
type patchDoc struct {
	Command        string        `json:"command"`
	Status         string        `json:"status"`
	Diff           string        `json:"diff"`
	Entrypoint     *string       `json:"entrypoint"`
	Frameworks     []string      `json:"frameworks"`
	LinesToInsert  []string      `json:"lines_to_insert"`
	InsertionLine  int           `json:"insertion_line"`
	AlreadyPatched bool          `json:"already_patched"`
	LangchainNote  *string       `json:"langchain_note"`
	Plans          []*patch.Plan `json:"plans"`
	Files          []string      `json:"files"`
	Restored       []string      `json:"restored,omitempty"`
}

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
	switch o.lang {
	case "auto", "python", "go", "node":
	default:
		return exit.Bad("use python, go, node or auto", "unknown --lang %q", o.lang)
	}
	root, err := scan.CheckRoot(path)
	if err != nil {
		return err
	}
	if o.undo && o.dryRun {
		// A dry run changes nothing, --undo included: list what it would restore.
		baks, err := patch.Backups(root, o.entrypoint)
		if err != nil {
			return err
		}
		var would []string
		for _, b := range baks {
			r, _ := filepath.Rel(root, strings.TrimSuffix(b, patch.BackupExt))
			would = append(would, r)
		}
		if o.asJSON {
			return writeJSON(out, patchDoc{Command: "patch", Status: "dry_run", Frameworks: []string{}, LinesToInsert: []string{}, Plans: []*patch.Plan{}, Files: would, Restored: []string{}})
		}
		for _, r := range would {
			fmt.Fprintf(out, "Would restore %s\n", r)
		}
		fmt.Fprintln(out, "Dry run -- no files changed.")
		return nil
	}
	if o.undo {
		restored, err := patch.Undo(root, o.entrypoint)
		if err != nil {
			return err
		}
		if o.asJSON {
			return writeJSON(out, patchDoc{Command: "patch", Status: "undone", Frameworks: []string{}, LinesToInsert: []string{}, Plans: []*patch.Plan{}, Files: restored, Restored: restored})
		}
		for _, r := range restored {
			fmt.Fprintf(out, "Restored %s\n", r)
		}
		return nil
	}
	res, err := scan.Scan(root, scan.Options{})
	if err != nil {
		return err
	}
	// A file the scanner could not parse has unknown call sites: patch
	// leaves them alone, and says so instead of reporting success quietly.
	for i, sk := range res.Skipped {
		if i == 3 {
			fmt.Fprintf(errw, "assay patch: ... and %d more ('assay scan --log-level info' lists them)\n", len(res.Skipped)-3)
			break
		}
		fmt.Fprintf(errw, "assay patch: %s not analysed (%s); its LLM calls, if any, stay uninstrumented\n", sk.Path, sk.Reason)
	}
	var plans []*patch.Plan
	hasGo, hasPy, hasTS := false, false, false
	for _, f := range res.Findings {
		if f.Instrumented {
			continue
		}
		hasGo = hasGo || f.Lang == "go"
		hasPy = hasPy || f.Lang == "python"
		hasTS = hasTS || f.Lang == "typescript"
	}
	_, epTS := tsDialect(o.entrypoint)
	if o.lang == "python" || (o.lang == "auto" && (strings.HasSuffix(o.entrypoint, ".py") || (hasPy && !epTS))) {
		p, err := patch.PlanPython(res, o.entrypoint)
		if err != nil {
			return err
		}
		plans = append(plans, p)
	}
	if o.lang == "node" || (o.lang == "auto" && (epTS || (hasTS && !strings.HasSuffix(o.entrypoint, ".py")))) {
		p, err := patch.PlanNode(res, o.entrypoint)
		if err != nil {
			return err
		}
		plans = append(plans, p)
	}
	if o.lang == "go" || (o.lang == "auto" && hasGo) {
		p, err := patch.PlanGo(root)
		if err != nil {
			return err
		}
		for _, f := range res.Findings {
			if f.Lang == "go" && !f.Instrumented {
				p.Uninstrumented++
			}
		}
		plans = append(plans, p)
	}
	var diff, fullDiff strings.Builder
	var files []string
	for _, p := range plans {
		diff.WriteString(p.Diff(false))
		fullDiff.WriteString(p.Diff(true))
		files = append(files, p.Files()...)
	}
	doc := patchDoc{Command: "patch", Plans: plans, Files: files, Diff: fullDiff.String()}
	if doc.Plans == nil {
		doc.Plans = []*patch.Plan{}
	}
	if doc.Files == nil {
		doc.Files = []string{}
	}
	doc.Frameworks, doc.LinesToInsert = []string{}, []string{}
	for _, p := range plans {
		if p.Language != "python" {
			continue
		}
		if p.Entrypoint != "" {
			ep := p.Entrypoint
			doc.Entrypoint = &ep
		}
		doc.Frameworks, doc.LinesToInsert, doc.InsertionLine, doc.AlreadyPatched = p.Frameworks, p.LinesToInsert, p.InsertionLine, p.AlreadyPatched
		if p.LangchainNote != "" {
			note := p.LangchainNote
			doc.LangchainNote = &note
		}
	}
	st := newStyle(out)
	if !o.asJSON {
		if len(plans) == 0 {
			fmt.Fprintln(out, "No uninstrumented call sites found: nothing to patch.")
			return nil
		}
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
		}
		if diff.Len() > 0 {
			fmt.Fprintln(out)
			fmt.Fprint(out, diff.String())
		}
	}
	if len(files) == 0 {
		doc.Status = "nothing_to_do"
		if o.asJSON {
			return writeJSON(out, doc)
		}
		fmt.Fprintln(out, "Already patched: no files to change.")
		return nil
	}
	if o.dryRun {
		doc.Status = "dry_run"
		if o.asJSON {
			return writeJSON(out, doc)
		}
		fmt.Fprintln(out, "Dry run -- no files changed.")
		return nil
	}
	// --json never stands in for --yes: it changes the output, not consent.
	if !o.yes && !confirm(cmd, fmt.Sprintf("Apply these changes to %d file(s)?", len(files))) {
		return declined("pass --yes to apply without asking, or --dry-run to only see the plan")
	}
	for _, p := range plans {
		check := patch.CheckPython
		switch p.Language {
		case "go":
			check = patch.CheckGo
		case "node":
			check = patch.NodeChecker(p)
		}
		if err := patch.Apply(p, check); err != nil {
			return err
		}
	}
	doc.Status = "applied"
	if o.asJSON {
		return writeJSON(out, doc)
	}
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
	return nil
}

func tsDialect(p string) (typescript.Dialect, bool) {
	if p == "" {
		return 0, false
	}
	return typescript.DialectOf(p)
}
