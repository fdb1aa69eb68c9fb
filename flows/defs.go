package flows

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mattn/go-shellwords"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/exit"
	assaypack "github.com/assay-dev/assay/core/pack"
)

// Each flow is one register call plus one build function.
func init() {
	register(&Flow{
		Name:    "try",
		Summary: "See tamper detection work: build a good and a tampered pack, verify both",
		Params: []Param{
			{Name: "out", Default: "challenge_pack", Help: "directory the demo packs are written to", Path: true},
		},
		build: buildTry,
	})
	register(&Flow{
		Name:    "adopt",
		Summary: "Instrument a project: scan, patch, run with receipt_completeness, verify, explain",
		Params: []Param{
			{Name: "path", Default: ".", Help: "project directory to scan and patch", Path: true},
			{Name: "run_command", Default: "python3 app.py", Help: "the program to run under assay (one command, no shell syntax)"},
			{Name: "pack", Default: "proof_pack_adopt", Help: "directory the run's proof pack is written to", Path: true},
			{Name: "gateway", Default: "false", Help: "true: record through the loopback gateway (assay run --gateway)"},
		},
		build: buildAdopt,
	})
	register(&Flow{
		Name:    "ci",
		Summary: "Put evidence in CI: lock the claims, write the GitHub workflow, record a baseline pack",
		Params: []Param{
			{Name: "run_command", Default: "python3 app.py", Help: "the program CI runs under assay (one command, no shell syntax)"},
			{Name: "cards", Default: "receipt_completeness", Help: "comma-separated run cards to lock and check"},
			{Name: "workflow", Default: ciinit.DefaultWorkflowPath, Help: "workflow file to write", Path: true},
			{Name: "pack", Default: ciinit.DefaultBaselinePack, Help: "baseline pack directory (made by a run if missing)", Path: true},
			{Name: "gateway", Default: "false", Help: "true: record through the loopback gateway (assay run --gateway), in the baseline run and in CI"},
		},
		build: buildCI,
	})
	register(&Flow{
		Name:    "mcp",
		Summary: "Give an MCP client (Claude Code, Cursor, VS Code) the assay-mcp server, confined to this project",
		Params: []Param{
			{Name: "client", Default: "claude", Help: "claude (.mcp.json), cursor (.cursor/mcp.json) or vscode (.vscode/mcp.json)"},
			{Name: "root", Default: ".", Help: "the one directory tree the server may read and write", Path: true},
			{Name: "allow_exec", Default: "false", Help: "true: let the agent apply flows that run commands (assay-mcp --allow-exec)"},
		},
		build: buildMCP,
	})
	register(&Flow{
		Name:    "audit",
		Summary: "Hand a pack to an auditor: verify with claims, explain, bundle, check the bundle and the signer",
		Params: []Param{
			{Name: "pack", Help: "the pack directory (default: the newest pack here, found by its manifest)", Path: true},
			{Name: "bundle", Help: "bundle file to write (default: audit_bundle_<pack name>.tar.gz)", Path: true},
			{Name: "expected_signer", Help: "signer id the pack must be signed by (default: one assay.lock pins, when it pins any)"},
		},
		derive: deriveAudit,
		build:  buildAudit,
	})
}

func buildTry(dir string, p map[string]string) ([]Step, error) {
	out, err := relPath("out", p["out"])
	if err != nil {
		return nil, err
	}
	good, bad := filepath.Join(out, "good"), filepath.Join(out, "tampered")
	return []Step{
		{ID: "demo", Title: "Build a good pack and a tampered copy",
			Why:      "a pack you can break on purpose shows what verification catches",
			Argv:     []string{AssayArg0, "demo-challenge", "-o", out},
			SkipRule: "both " + good + " and " + bad + " already hold a pack",
			skip: func(d string) (string, bool) {
				if isPack(under(d, good)) && isPack(under(d, bad)) {
					return out + " already holds the demo packs", true
				}
				return "", false
			}},
		{ID: "verify-good", Title: "Verify the good pack (exit 0)",
			Why:  "an intact pack with its claims met exits 0",
			Argv: []string{AssayArg0, "verify-pack", good}},
		{ID: "verify-tampered", Title: "Verify the tampered pack (exit 2)",
			Why:     "one changed byte breaks the signed hashes: exit 2 is the expected result here",
			Argv:    []string{AssayArg0, "verify-pack", bad},
			OKCodes: []int{2}},
		{ID: "explain", Title: "Explain the good pack in plain words",
			Why:  "what the pack proves and what it does not",
			Argv: []string{AssayArg0, "explain", good}},
	}, nil
}

func buildAdopt(dir string, p map[string]string) ([]Step, error) {
	cmd, err := SplitCommand("run_command", p["run_command"])
	if err != nil {
		return nil, err
	}
	pack, err := relPath("pack", p["pack"])
	if err != nil {
		return nil, err
	}
	gw, err := boolParam("gateway", p["gateway"])
	if err != nil {
		return nil, err
	}
	path := p["path"]
	if path == "" {
		path = "."
	}
	runArgv := []string{AssayArg0, "run", "-c", "receipt_completeness", "-o", pack}
	if gw {
		runArgv = append(runArgv, "--gateway")
	}
	runArgv = append(append(runArgv, "--"), cmd...)
	return []Step{
		{ID: "scan", Title: "Find the LLM call sites",
			Why:  "shows which calls would leave no evidence today",
			Argv: []string{AssayArg0, "scan", path}},
		{ID: "patch", Title: "Instrument them",
			Why:      "one import line per entrypoint makes every SDK call write a receipt",
			Argv:     []string{AssayArg0, "patch", path, "--yes"},
			SkipRule: "gateway=true (the gateway records the calls; patched code would record each call a second time)",
			skip: func(string) (string, bool) {
				if gw {
					return "gateway=true: the gateway records the calls, and patched code would record each one a second time", true
				}
				return "", false
			}},
		{ID: "run", Title: "Run the program with receipts and build a pack",
			Why:  "the receipt_completeness card checks the run left evidence; the pack goes to " + pack,
			Argv: runArgv,
			// Re-applying the flow must not stop on run's "output exists".
			SkipRule: pack + " already holds a pack (remove it to record a new run)",
			skip: func(d string) (string, bool) {
				if isPack(under(d, pack)) {
					return pack + " already holds a pack (remove it to record a new run)", true
				}
				return "", false
			}},
		{ID: "verify", Title: "Verify the pack",
			Why:  "integrity and claims, offline, with the documented exit codes",
			Argv: []string{AssayArg0, "verify-pack", pack}},
		{ID: "explain", Title: "Explain the pack",
			Why:  "what happened, what it proves and what it does not",
			Argv: []string{AssayArg0, "explain", pack}},
	}, nil
}

func buildCI(dir string, p map[string]string) ([]Step, error) {
	cmd, err := SplitCommand("run_command", p["run_command"])
	if err != nil {
		return nil, err
	}
	cards, err := ciinit.ParseCards(p["cards"])
	if err != nil {
		return nil, err
	}
	if len(cards) == 0 {
		return nil, exit.Bad("pass --param cards=receipt_completeness", "flow ci needs at least one card")
	}
	wf, err := relPath("workflow", p["workflow"])
	if err != nil {
		return nil, err
	}
	pack, err := relPath("pack", p["pack"])
	if err != nil {
		return nil, err
	}
	gw, err := boolParam("gateway", p["gateway"])
	if err != nil {
		return nil, err
	}
	runArgv := []string{AssayArg0, "run"}
	for _, c := range cards {
		runArgv = append(runArgv, "-c", c)
	}
	wfArgv := []string{AssayArg0, "ci", "init", "github", "--run-command", Quote(cmd), "--cards", strings.Join(cards, ","), "--baseline", pack, "-o", wf}
	if gw {
		runArgv = append(runArgv, "--gateway")
		wfArgv = append(wfArgv, "--gateway")
	}
	runArgv = append(append(runArgv, "-o", pack, "--"), cmd...)
	return []Step{
		{ID: "lock", Title: "Lock the claims CI checks",
			Why:      "assay.lock freezes the cards, pack format and signer policy; verify-pack --lock enforces it",
			Argv:     []string{AssayArg0, "lock", "write", "--cards", strings.Join(cards, ","), "-o", ciinit.DefaultLock},
			SkipRule: ciinit.DefaultLock + " exists",
			skip:     existsSkip(ciinit.DefaultLock)},
		{ID: "workflow", Title: "Write the GitHub Actions workflow",
			Why:      "CI runs the program under assay, verifies against the lock, gates with diff and uploads evidence",
			Argv:     wfArgv,
			SkipRule: wf + " exists",
			skip:     existsSkip(wf)},
		{ID: "baseline-run", Title: "Record a baseline run",
			Why:      "CI diffs every new pack against this one",
			Argv:     runArgv,
			SkipRule: pack + " already holds a pack",
			skip: func(d string) (string, bool) {
				if isPack(under(d, pack)) {
					return pack + " already holds a pack", true
				}
				return "", false
			}},
		{ID: "baseline-verify", Title: "Verify the baseline against the lock",
			Why:  "a baseline that fails its own claims would make every diff meaningless",
			Argv: []string{AssayArg0, "verify-pack", pack, "--lock", ciinit.DefaultLock, "--require-claim-pass"}},
		{ID: "baseline-set", Title: "Record it as the baseline",
			Why:  "assay diff --against-previous and CI gates compare with it",
			Argv: []string{AssayArg0, "baseline", "set", pack}},
	}, nil
}

func buildMCP(dir string, p map[string]string) ([]Step, error) {
	client, err := ciinit.ParseClient(p["client"])
	if err != nil {
		return nil, err
	}
	allow, err := boolParam("allow_exec", p["allow_exec"])
	if err != nil {
		return nil, err
	}
	root := p["root"]
	if root == "" {
		root = "."
	}
	cfg := client.ConfigPath()
	argv := []string{AssayArg0, "start", "mcp", "--write", "--client", string(client), "--root", root}
	if allow {
		argv = append(argv, "--allow-exec")
	}
	serve := []string{ciinit.MCPServerBinary, "--root", root}
	if allow {
		serve = append(serve, "--allow-exec")
	}
	return []Step{
		{ID: "config", Title: "Register assay-mcp with " + client.Name(),
			Why: "policy: the server may only touch files under " + root + "; " +
				map[bool]string{true: "flows that run commands are allowed (--allow-exec)", false: "flows that run commands stay refused (no --allow-exec)"}[allow],
			Argv:     argv,
			SkipRule: cfg + " already lists an assay server",
			skip: func(d string) (string, bool) {
				if ok, _ := ciinit.HasAssayServer(filepath.Join(d, cfg), client); ok {
					return cfg + " already lists an assay server", true
				}
				return "", false
			}},
		{ID: "check", Title: "Check the client config",
			Why:  "doctor confirms the config parses, the server binary resolves and the roots exist",
			Argv: []string{AssayArg0, "doctor", "--check", "DOCTOR_MCP_001"}},
		{ID: "serve", Title: "What the client starts",
			Why:       "the client launches this over stdio; restart the client to pick up the config",
			Argv:      serve,
			PrintOnly: true},
	}, nil
}

// deriveAudit fills the default pack (the newest one here, or the
// placeholder with a needsInput when there is none) and the bundle name,
// so that they are confined like values the caller gave.
func deriveAudit(dir string, p map[string]string) error {
	var blocked error
	if p["pack"] == "" {
		pack, err := auditPack(dir)
		if err != nil {
			if _, ok := asBlocked(err); !ok {
				return err
			}
			blocked = err
		}
		p["pack"] = pack // the plan shows which pack it chose
	}
	if p["bundle"] == "" {
		p["bundle"] = "audit_bundle_" + filepath.Base(filepath.Clean(p["pack"])) + ".tar.gz"
	}
	return blocked
}

// buildAudit runs after deriveAudit (Plan derives before it builds).
func buildAudit(dir string, p map[string]string) ([]Step, error) {
	pack, bundle := p["pack"], p["bundle"]
	signer := []string{AssayArg0, "verify-signer", pack}
	if e := p["expected_signer"]; e != "" {
		signer = append(signer, "--expected", e)
	} else if pinsSigners(filepath.Join(dir, ciinit.DefaultLock)) {
		// The project's lock pins its signers: the pack must be signed by one.
		signer = append(signer, "--allowed-signers", ciinit.DefaultLock)
	}
	return []Step{
		{ID: "verify", Title: "Verify the pack with its claims",
			Why:  "integrity and claims must both pass before evidence is handed over",
			Argv: []string{AssayArg0, "verify-pack", pack, "--require-claim-pass"}},
		{ID: "explain", Title: "Explain the pack",
			Why:  "the plain-words summary the auditor reads first",
			Argv: []string{AssayArg0, "explain", pack}},
		{ID: "bundle", Title: "Bundle it for the auditor",
			Why: "one .tar.gz with the pack, signer info, summary and verify instructions",
			// --force: a bundle of that name that holds another pack (one
			// rebuilt since) is replaced, never handed over stale.
			Argv: []string{AssayArg0, "audit", "bundle", pack, "-o", bundle, "--force"},
			// Re-applying the flow must not stop on the bundle it wrote.
			SkipRule: bundle + " already holds this pack (byte-identical manifest)",
			skip:     bundleHoldsSkip(bundle, pack)},
		{ID: "verify-bundle", Title: "Verify the bundle as the auditor will",
			Why:  "verify-pack reads the bundle directly",
			Argv: []string{AssayArg0, "verify-pack", bundle}},
		{ID: "verify-signer", Title: "Check who signed it",
			Why:  "the signature is checked and the key's fingerprint recomputed",
			Argv: signer},
	}, nil
}

// SplitCommand splits a run command into argv the way a POSIX shell splits
// words (quotes, backslashes), but refuses shell syntax (pipes, ;, &&,
// redirections, $VAR, backticks): steps never run through a shell.
func SplitCommand(param, s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, exit.Bad("pass --param "+param+"='python3 app.py'", "%s is empty", param)
	}
	if strings.ContainsAny(s, "$`<>\n") {
		return nil, exit.Bad("give one program and its arguments; wrap shell pipelines in a script", "%s %q uses shell syntax, and steps never run through a shell", param, s)
	}
	p := shellwords.NewParser()
	argv, err := p.Parse(s)
	if err != nil {
		return nil, exit.Bad("check the quotes", "cannot split %s %q: %v", param, s, err)
	}
	if p.Position >= 0 || len(argv) == 0 {
		return nil, exit.Bad("give one program and its arguments; wrap shell pipelines in a script", "%s %q uses shell syntax, and steps never run through a shell", param, s)
	}
	return argv, nil
}

// relPath checks that a path param is set and stays a plain path.
func relPath(name, v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", exit.Bad("pass --param "+name+"=DIR", "param %s is empty", name)
	}
	if strings.ContainsAny(v, "*?[") {
		return "", exit.Bad("name one exact path", "param %s %q is a glob; flows name exact paths", name, v)
	}
	return filepath.Clean(v), nil
}

func boolParam(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, exit.Bad("use true or false", "param %s=%q is not a boolean", name, v)
}

// bundleHoldsSkip skips the bundle step when bundle exists and holds the
// pack: its manifest is byte for byte the pack's (which commits to every
// file). A bundle of another pack, or one that cannot be read, is rebuilt.
// Plans are made on read-only calls (MCP run-flow without apply), so the
// bundle, which anyone may have put there, is not extracted: only its
// manifest member is read, within what an honest bundle of this pack
// holds up to it (at most the pack's own files: the manifest comes after
// the _unsigned ones, the bundle writer sorting names); past that the
// bundle is rebuilt.
func bundleHoldsSkip(bundle, packDir string) func(string) (string, bool) {
	return func(d string) (string, bool) {
		p, err := assaypack.OpenDir(under(d, packDir))
		if err != nil {
			return "", false
		}
		defer p.Close()
		size, files := packSize(p.Root())
		lim := assaypack.BundleLimits{MaxEntryBytes: size + 1<<20, MaxTotalBytes: size + 1<<20, MaxEntries: files + 64}
		b, err := assaypack.ReadBundleManifest(under(d, bundle), lim)
		if err == nil && bytes.Equal(b, p.ManifestBytes) {
			return bundle + " already holds this pack", true
		}
		return "", false
	}
}

// packSize is the bytes and number of the regular files in a pack
// directory (links are not followed).
func packSize(root *os.Root) (size int64, files int) {
	fs.WalkDir(root.FS(), ".", func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				size += info.Size()
				files++
			}
		}
		return nil
	})
	return size, files
}

func existsSkip(rel string) func(string) (string, bool) {
	return func(d string) (string, bool) {
		if _, err := os.Stat(under(d, rel)); err == nil {
			return rel + " exists", true
		}
		return "", false
	}
}

// under is p in d, or p itself when absolute (a confined path param).
func under(d, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d, p)
}

func isPack(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, assaypack.FileManifest))
	return err == nil
}
