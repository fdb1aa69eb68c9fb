package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/capture/mockllm"
	"github.com/assay-dev/assay/core/coverage"
	"github.com/assay-dev/assay/core/patch"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/scan"
	"github.com/assay-dev/assay/core/store"
)

var patchData, _ = filepath.Abs("../../testdata/scan/patch")

// snapshot returns every file's bytes under root.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "__pycache__") {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			m[rel] = string(b)
		}
		return nil
	})
	return m
}

// The sample projects of the acceptance list: after `assay patch` each
// still compiles and runs against the synthetic LLM server, emits one
// model_call receipt per call with the callsite_id the contract (scanned
// after patching) holds for that line; a second patch changes nothing;
// --undo restores every byte.
func TestPatchPythonSamples(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is required: %v", err)
	}
	srv, err := mockllm.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		project, entry string
		insertAt       int
		line           string
		run            []string // argv after python3, run in the project root
		calls          int
	}{
		{"plain", "app.py", 0, "import assay_capture  # assay:patched", []string{"app.py"}, 1},
		{"pkgmain", "agent/__main__.py", 1, "try: from . import assay_capture  # assay:patched", []string{"-m", "agent"}, 1},
		{"shebang", "app.py", 1, "import assay_capture  # assay:patched", []string{"app.py"}, 1},
		{"docstring", "app.py", 4, "import assay_capture  # assay:patched", []string{"app.py"}, 2},
		{"future", "app.py", 3, "import assay_capture  # assay:patched", []string{"app.py"}, 1},
		{"comments", "app.py", 4, "import assay_capture  # assay:patched", []string{"app.py"}, 1},
		{"asyncerr", "app.py", 0, "import assay_capture  # assay:patched", []string{"app.py"}, 2},
		{"streams", "app.py", 0, "import assay_capture  # assay:patched", []string{"app.py"}, 2},
	} {
		t.Run(tc.project, func(t *testing.T) {
			dir := copyTree(t, filepath.Join(patchData, "projects", tc.project))
			before := snapshot(t, dir)

			code, out, errs := ckRun(t, "patch", dir, "--dry-run")
			if code != 0 || !strings.Contains(out, "+"+tc.line) || !strings.Contains(out, "Dry run -- no files changed.") {
				t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
			}
			if got := snapshot(t, dir); !mapsEqual(got, before) {
				t.Fatal("dry run changed files")
			}

			code, out, errs = ckRun(t, "patch", dir, "--yes")
			if code != 0 {
				t.Fatalf("patch: exit %d\n%s%s", code, out, errs)
			}
			src, _ := os.ReadFile(filepath.Join(dir, tc.entry))
			lines := strings.Split(string(src), "\n")
			if lines[tc.insertAt] != tc.line {
				t.Fatalf("line %d is %q, want %q\n%s", tc.insertAt, lines[tc.insertAt], tc.line, src)
			}
			if !ptExists(filepath.Join(dir, filepath.Dir(tc.entry), patch.ShimFile)) || !ptExists(filepath.Join(dir, tc.entry+patch.BackupExt)) {
				t.Fatal("shim or backup missing")
			}
			patched := snapshot(t, dir)

			// Idempotent.
			code, out, _ = ckRun(t, "patch", dir, "--yes")
			if code != 0 || !(strings.Contains(out, "nothing to patch") || strings.Contains(out, "Already patched")) || !mapsEqual(snapshot(t, dir), patched) {
				t.Fatalf("second patch changed something (exit %d):\n%s", code, out)
			}

			// The scan now sees the entrypoint as instrumented; its contract
			// is what the run is measured against.
			contract := filepath.Join(t.TempDir(), "c.json")
			if code, _, errs := ckRun(t, "scan", dir, "--emit-contract", contract, "--json"); code != 0 {
				t.Fatalf("scan: %s", errs)
			}
			c, err := coverage.Load(contract)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range c.CallSites {
				if !s.Instrumented {
					t.Errorf("%s:%d not instrumented after patch", s.Path, s.Line)
				}
			}

			home := t.TempDir()
			trace := "trace_patch_" + tc.project
			cmd := exec.Command(py, tc.run...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), append(srv.Env(), "ASSAY_HOME="+home, "ASSAY_TRACE_ID="+trace, "PYTHONPATH="+filepath.Join(patchData, "sdk"), "PYTHONDONTWRITEBYTECODE=1")...)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			if err := cmd.Run(); err != nil {
				t.Fatalf("patched program failed: %v\n%s%s", err, o.String(), e.String())
			}
			if !strings.Contains(o.String(), "Synthetic answer") || e.Len() > 0 {
				t.Errorf("program output %q stderr %q", o.String(), e.String())
			}
			rs, problems, err := store.Open(home).Read(trace)
			if err != nil || len(problems) > 0 {
				t.Fatalf("read trace: %v %v", err, problems)
			}
			if len(rs) != tc.calls {
				t.Fatalf("%d receipts, want %d", len(rs), tc.calls)
			}
			rep := coverage.Measure(c, coverage.ReceiptIDs(rs))
			if rep.CoveredCount != len(c.CallSites) || len(rep.ExtraIDs) != 0 {
				t.Errorf("coverage %+v", rep)
			}
			if tc.project == "streams" {
				// Streamed answers: the receipt is written when the stream
				// ends, with the full text's hash and the streamed usage.
				for i, prompt := range []string{"stream one", "stream two"} {
					r := rs[i]
					want, _ := receipt.ContentHash(mockllm.Reply(prompt))
					if st, _ := r.Get("stream"); st != true || r.String("output_hash") != want || r.String("usage_source") != "provider" {
						t.Errorf("stream receipt %d: %v (want output_hash %s)", i, r, want)
					}
					if n, _ := r.Get("output_tokens"); fmt.Sprint(n) != fmt.Sprint(mockllm.Tokens(mockllm.Reply(prompt))) {
						t.Errorf("stream receipt %d output_tokens %v", i, n)
					}
				}
			}
			if tc.project == "asyncerr" {
				// An async call, and a call that raised: its receipt says so
				// and the exception still reached the program.
				if r := rs[0]; r.String("finish_reason") != "stop" || r.String("api") != "chat_completions" {
					t.Errorf("async receipt: %v", r)
				}
				r := rs[1]
				if r.String("finish_reason") != "error" || !strings.Contains(r.String("error"), "500") || r.String("model_id") != "gpt-error-500" {
					t.Errorf("error receipt: %v", r)
				}
				if !strings.Contains(o.String(), "caught HTTPError") {
					t.Errorf("the SDK exception did not reach the program: %s", o.String())
				}
				rs = rs[:1] // the error receipt has no output hash
			}
			for i, r := range rs {
				if r.String("type") != "model_call" || r.String("integration_source") != "assay.shim.python" {
					t.Errorf("receipt %d: %v", i, r)
				}
				if v, _ := r.Get("_store_seq"); v == nil {
					t.Errorf("receipt %d not stamped", i)
				}
				if r.String("input_hash") == "" || len(r.String("output_hash")) != 64 || r.String("content_hash_alg") != "sha256-jcs-v1" {
					t.Errorf("receipt %d hashes: %v", i, r)
				}
			}

			code, out, errs = ckRun(t, "patch", dir, "--undo")
			if code != 0 {
				t.Fatalf("undo: exit %d %s", code, errs)
			}
			if got := snapshot(t, dir); !mapsEqual(got, before) {
				t.Errorf("undo did not restore the exact bytes:\n%v\n%v", ptKeys(got), ptKeys(before))
			}
		})
	}
}

// --json: a dry run changes nothing and carries the diff and the plan in
// the reference's top-level fields; with --yes it applies.
func TestPatchJSON(t *testing.T) {
	t.Parallel()
	dir := copyTree(t, filepath.Join(patchData, "projects", "future"))
	before := snapshot(t, dir)
	code, out, _ := ckRun(t, "patch", dir, "--dry-run", "--json")
	var d map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil {
		t.Fatalf("exit %d: %s", code, out)
	}
	if d["status"] != "dry_run" || d["entrypoint"] != "app.py" || d["insertion_line"] != float64(3) || d["already_patched"] != false ||
		!strings.Contains(d["diff"].(string), "+import assay_capture  # assay:patched") || !mapsEqual(snapshot(t, dir), before) {
		t.Errorf("dry run JSON: %v", d)
	}
	if fw := d["frameworks"].([]any); len(fw) != 1 || fw[0] != "openai" {
		t.Errorf("frameworks %v", fw)
	}
	// --json is not consent: without --yes the prompt (empty stdin) declines,
	// exit 1, the error envelope, nothing changed.
	code, out, errs := ckRun(t, "patch", dir, "--json")
	var env map[string]any
	if code != 1 || json.Unmarshal([]byte(out), &env) != nil || env["status"] != "error" || !strings.Contains(env["error"].(string), "nothing was changed") ||
		!strings.Contains(errs, "[y/N]") || !mapsEqual(snapshot(t, dir), before) {
		t.Errorf("--json without --yes: exit %d %s %q", code, out, errs)
	}
	code, out, _ = ckRun(t, "patch", dir, "--json", "--yes")
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d["status"] != "applied" || mapsEqual(snapshot(t, dir), before) {
		t.Errorf("apply JSON: exit %d %s", code, out)
	}
	code, out, _ = ckRun(t, "patch", dir, "--undo", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d["status"] != "undone" || !mapsEqual(snapshot(t, dir), before) {
		t.Errorf("undo JSON: exit %d %s", code, out)
	}
}

// Bad input and rollback: a missing path and a missing entrypoint are
// exit 3; --undo without a backup is exit 1; a patch whose compile check
// fails leaves every byte as it was.
func TestPatchBadInputAndRollback(t *testing.T) {
	t.Parallel()
	dir := copyTree(t, filepath.Join(patchData, "projects", "plain"))
	before := snapshot(t, dir)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"patch", filepath.Join(dir, "nope")}, 3, "Directory not found"},
		{[]string{"patch", dir, "--entrypoint", "missing.py", "--yes"}, 3, "entrypoint not found"},
		{[]string{"patch", dir, "--undo"}, 1, "no .assay.bak backup"},
		{[]string{"patch", dir, "--lang", "rust"}, 3, "unknown --lang"},
	} {
		code, _, errs := ckRun(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errs)
		}
	}
	res, err := scan.Scan(dir, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := patch.PlanPython(res, "")
	if err != nil {
		t.Fatal(err)
	}
	err = patch.Apply(p, func(*patch.Plan) error { return os.ErrInvalid })
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("apply with a failing check: %v", err)
	}
	if got := snapshot(t, dir); !mapsEqual(got, before) {
		t.Errorf("rollback left changes: %v", ptKeys(got))
	}
	// A real compile failure: an entrypoint whose patched form does not
	// compile is caught by python3 and rolled back.
	bad := filepath.Join(dir, "app.py")
	os.WriteFile(bad, []byte("client.chat.completions.create()\ndef f(:\n"), 0o644)
	if code, _, errs := ckRun(t, "patch", dir, "--yes", "--entrypoint", "app.py"); code != 3 || !strings.Contains(errs, "does not parse") {
		t.Errorf("unparseable entrypoint: exit %d %s", code, errs)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func ptKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func ptExists(p string) bool { _, err := os.Stat(p); return err == nil }
