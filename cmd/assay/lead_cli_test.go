package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/store"
	"github.com/assay-dev/assay/core/verify"
	"github.com/spf13/cobra"
)

// evTrace records three receipts in a fresh trace and returns its id.
func evTrace(t *testing.T) string {
	t.Helper()
	st, err := ckEnvOf(t).OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	tr := store.NewTraceID()
	for _, typ := range []string{"model_call", "guardian_verdict", "model_call"} {
		d := &canon.Object{}
		d.Set("model_id", "gpt-4o")
		if _, err := st.Emit(tr, typ, d, store.EmitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func TestProofPackVerifyExplain(t *testing.T) {
	home, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	tr := evTrace(t)
	code, out, errs := ckRun(t, "proof-pack", tr, "-o", "p", "-c", "receipt_completeness")
	if code != 0 || !strings.Contains(out, "Proof pack built") || !strings.Contains(errs, "generated signing key 'assay-local'") {
		t.Fatalf("proof-pack: %d %q %q", code, out, errs)
	}
	if st, err := os.Stat(filepath.Join(home, "keys", "assay-local.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", st, err)
	}
	code, out, _ = ckRun(t, "verify-pack", "p")
	if code != 0 || !strings.HasPrefix(out, "PASS") {
		t.Fatalf("verify-pack: %d %q", code, out)
	}
	code, out, _ = ckRun(t, "verify-pack", "p", "--json")
	var r verify.Result
	ckJSON(t, out, &r)
	if code != 0 || r.ExitCode != 0 || r.Verdict != "PASS" || r.ReceiptCount != 3 || r.Pack.ClaimCheck != "PASS" || !r.Merkle.Match {
		t.Fatalf("json: %d %+v", code, r)
	}
	for _, f := range []string{"text", "md", "json"} {
		code, out, _ = ckRun(t, "explain", "p", "--format", f)
		if code != 0 || !strings.Contains(out, "gpt-4o") {
			t.Fatalf("explain %s: %d %q", f, code, out)
		}
	}
	// One flipped byte: exit 2 in text and JSON alike.
	p := filepath.Join(dir, "p", "receipt_pack.jsonl")
	raw, _ := os.ReadFile(p)
	raw[10] ^= 1
	os.WriteFile(p, raw, 0o644)
	code, out, _ = ckRun(t, "verify-pack", "p")
	if code != 2 || !strings.HasPrefix(out, "TAMPERED") || !strings.Contains(out, "E_MANIFEST_TAMPER") {
		t.Fatalf("tampered: %d %q", code, out)
	}
	code, out, _ = ckRun(t, "verify-pack", "p", "--json")
	ckJSON(t, out, &r)
	if code != 2 || r.ExitCode != 2 {
		t.Fatalf("tampered json: %d", code)
	}
	// The existing output directory is refused, nothing overwritten.
	ckOneLine(t, []string{"proof-pack", tr, "-o", "p"}, "already exists")
}

func TestTryLeavesNothingBehind(t *testing.T) {
	ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	tmp := t.TempDir()
	ckSetenv(t, "TMPDIR", tmp)
	code, out, _ := ckRun(t, "try")
	if code != 0 || !strings.Contains(out, "PASS (exit 0)") || !strings.Contains(out, "TAMPERED (exit 2)") || !strings.Contains(out, "offset") {
		t.Fatalf("try: %d %q", code, out)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Fatalf("try left %v in TMPDIR", ents)
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Fatalf("try left %v in the working directory", ents)
	}
}

func TestDemos(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	code, out, _ := ckRun(t, "demo-challenge", "-o", "ch")
	if code != 0 || !strings.Contains(out, "receipt_pack.jsonl offset") || !strings.Contains(out, "'4' (0x34) -> '5' (0x35)") {
		t.Fatalf("demo-challenge: %d %q", code, out)
	}
	for sub, want := range map[string]int{"ch/good": 0, "ch/tampered": 2} {
		if code, _, _ := ckRun(t, "verify-pack", sub); code != want {
			t.Errorf("%s: exit %d want %d", sub, code, want)
		}
	}
	code, out, _ = ckRun(t, "demo-incident", "-o", "inc")
	if code != 0 || !strings.Contains(out, "exit 1") {
		t.Fatalf("demo-incident: %d %q", code, out)
	}
	for sub, want := range map[string]int{"inc/act1": 0, "inc/act2": 1} {
		if code, _, _ := ckRun(t, "verify-pack", sub); code != want {
			t.Errorf("%s: exit %d want %d", sub, code, want)
		}
	}
	ckOneLine(t, []string{"demo-challenge", "-o", "ch"}, "already exists")
}

func TestEvidenceBadInput(t *testing.T) {
	_, dir := ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	os.WriteFile(filepath.Join(dir, "file.txt"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	for _, cmd := range [][]string{{"verify-pack"}, {"explain"}} {
		ckOneLine(t, append(cmd, "missing"), "not found")
		ckOneLine(t, append(cmd, "file.txt"), "not a pack directory")
		ckOneLine(t, append(cmd, "empty"), "no pack_manifest.json")
		ckOneLine(t, append(cmd, "empty", "--bogus"), "unknown flag")
		ckOneLine(t, cmd, "argument")
	}
	ckOneLine(t, []string{"verify-pack", "empty", "--max-age-hours", "-2"}, "--max-age-hours")
	ckOneLine(t, []string{"verify-pack", "empty", "--max-age-hours", "abc"}, "is not a number")
	ckOneLine(t, []string{"verify-pack", "empty", "--expected-commit-sha", "abc"}, "40 hex")
	ckOneLine(t, []string{"verify-pack", "empty", "--lock", "nolock.json"}, "lock")
	ckOneLine(t, []string{"explain", "empty", "--format", "pdf"}, "--format")
	ckOneLine(t, []string{"proof-pack", "trace_missing"}, "no trace")
	ckOneLine(t, []string{"proof-pack", "../etc"}, "invalid trace id")
	ckOneLine(t, []string{"proof-pack", evTrace(t), "-m", "yolo"}, "invalid mode")
	ckOneLine(t, []string{"proof-pack", evTrace(t), "-c", "no_such_card"}, "no_such_card")
	ckOneLine(t, []string{"key", "set-active", "nobody"}, "no signer")
	ckOneLine(t, []string{"key", "info", "nobody"}, "no signing key")
	ckOneLine(t, []string{"key", "generate", ".bad"}, "invalid signer id")
	ckOneLine(t, []string{"nosuchcommand"}, "unknown command")
}

func TestKeyCommands(t *testing.T) {
	ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	code, out, _ := ckRun(t, "key", "list")
	if code != 0 || !strings.Contains(out, "No signing keys") {
		t.Fatalf("%d %q", code, out)
	}
	if code, _, _ := ckRun(t, "key", "generate", "ci-signer"); code != 0 {
		t.Fatal("generate")
	}
	ckOneLine(t, []string{"key", "generate", "ci-signer"}, "already exists")
	if code, _, _ := ckRun(t, "key", "generate", "other", "--no-set-active"); code != 0 {
		t.Fatal("generate other")
	}
	code, out, _ = ckRun(t, "key", "list", "--json")
	var l struct {
		Active  string `json:"active_signer"`
		Signers []struct {
			ID     string `json:"signer_id"`
			Active bool   `json:"active"`
		} `json:"signers"`
	}
	ckJSON(t, out, &l)
	if l.Active != "ci-signer" || len(l.Signers) != 2 {
		t.Fatalf("%+v", l)
	}
	if code, _, _ := ckRun(t, "key", "set-active", "other"); code != 0 {
		t.Fatal("set-active")
	}
	code, out, _ = ckRun(t, "key", "info")
	if code != 0 || !strings.Contains(out, "other") || !strings.Contains(out, "Ed25519") {
		t.Fatalf("info: %q", out)
	}
	// proof-pack signs with the active signer (DECISIONS 13).
	tr := evTrace(t)
	code, out, _ = ckRun(t, "proof-pack", tr, "-o", "p", "--json")
	if code != 0 || !strings.Contains(out, `"signer_id": "other"`) {
		t.Fatalf("proof-pack signer: %q", out)
	}
}

func TestHelpAndCompletion(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	code, out, _ := ckRun(t, "--help")
	for _, want := range []string{"verify-pack", "Start here:", "0  evidence intact"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("help lacks %q: %q", want, out)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, _ = ckRun(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "assay") {
			t.Fatalf("completion %s: %d", sh, code)
		}
	}
}

// proof-pack never drops evidence quietly: a store line that is not a
// receipt is named and the exit is 1; an empty trace needs --allow-empty.
func TestProofPackLostLinesAndEmptyTrace(t *testing.T) {
	ckProcessEnv(t) // relative paths: the CLI resolves them in the process's working directory
	tr := evTrace(t)
	st, _ := ckEnvOf(t).OpenStore()
	p, _, _ := st.Find(tr)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0o644)
	f.WriteString(`{"receipt_id": "r_torn` + "\n")
	f.Close()
	code, out, errs := ckRun(t, "proof-pack", tr, "-o", "p", "--json")
	var doc map[string]any
	ckJSON(t, out, &doc)
	if code != 1 || doc["evidence_lost"] != float64(1) || !strings.Contains(errs, "line 4 is not a receipt") {
		t.Fatalf("exit %d doc %v stderr %q", code, doc, errs)
	}
	if code, _, _ := ckRun(t, "verify-pack", "p"); code != 0 {
		t.Fatalf("the pack of the readable receipts must verify: %d", code)
	}
	empty := store.NewTraceID()
	p2 := filepath.Join(filepath.Dir(p), empty+".jsonl")
	os.WriteFile(p2, nil, 0o644)
	code, _, errs = ckRun(t, "proof-pack", empty, "-o", "e")
	if code != 1 || !strings.Contains(errs, "--allow-empty") || fileExists("e") {
		t.Fatalf("empty trace: exit %d %q", code, errs)
	}
	if code, _, _ := ckRun(t, "proof-pack", empty, "-o", "e", "--allow-empty"); code != 0 {
		t.Fatalf("--allow-empty: exit %d", code)
	}
}

// A panic inside a command is reported in one line with exit 70, never as a
// stack trace or as Go's default exit 2 (which would read as "tampered").
func TestPanicIsNotAVerdict(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	commands = append(commands, func() *cobra.Command {
		return &cobra.Command{Use: "boom", Hidden: true, RunE: func(*cobra.Command, []string) error { panic("kaboom") }}
	})
	defer func() { commands = commands[:len(commands)-1] }()
	code, out, errs := ckRun(t, "boom")
	if code != exitInternal || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "internal error: kaboom") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
}

// Every --json command keeps its promise of exactly one JSON document on
// stdout, bad input included (DECISIONS 6), while stderr keeps the one line.
func TestJSONBadInputIsOneDocument(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	for _, args := range [][]string{
		{"verify-pack", "missing", "--json"},
		{"verify-pack", "--json", "missing", "--max-age-hours", "abc"},
		{"explain", "missing", "--json"},
		{"proof-pack", "trace_missing", "--json"},
		{"key", "list", "--json", "--bogus"},
	} {
		code, out, errs := ckRun(t, args...)
		var doc struct {
			Status   string `json:"status"`
			Error    string `json:"error"`
			ExitCode int    `json:"exit_code"`
		}
		ckJSON(t, out, &doc)
		if code != 3 || doc.Status != "error" || doc.ExitCode != 3 || doc.Error == "" || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d doc %+v stderr %q", args, code, doc, errs)
		}
	}
	// Without --json, stdout stays empty.
	if code, out, _ := ckRun(t, "verify-pack", "missing"); code != 3 || out != "" {
		t.Errorf("text mode: exit %d stdout %q", code, out)
	}
}

// audit bundle and prove refuse to replace an existing file unless --force,
// like every other command that writes.
func TestOutputsNeedForce(t *testing.T) {
	t.Parallel()
	ckEnv(t)
	tr := evTrace(t)
	if code, _, _ := ckRun(t, "proof-pack", tr, "-o", "p"); code != 0 {
		t.Fatal("proof-pack")
	}
	st, _ := ckEnvOf(t).OpenStore()
	recs, _, _ := st.Read(tr)
	id := recs[0].String("receipt_id")
	for _, args := range [][]string{{"audit", "bundle", "p", "-o", "b.tar.gz"}, {"prove", "p", id, "-o", "r.json"}} {
		if code, _, errs := ckRun(t, args...); code != 0 {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
		ckOneLine(t, args, "already exists")
		if code, _, errs := ckRun(t, append(args, "--force")...); code != 0 {
			t.Fatalf("%v --force: %d %s", args, code, errs)
		}
	}
}
