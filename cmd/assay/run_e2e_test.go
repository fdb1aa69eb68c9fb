package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/store"
)

// These tests run the real assay binary (assayBinary) with real children:
// the reference's Python emitter and a shell script interrupted with
// SIGINT.

// rtBinEnv is the environment for the binary: the test's, minus any assay
// and GitHub variables, plus extra.
func rtBinEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == store.EnvHome || k == store.EnvTrace || strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "ASSAY_UPSTREAM_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

type rtProc struct {
	code           int
	stdout, stderr string
}

func rtExec(t *testing.T, env []string, dir string, name string, args ...string) rtProc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s: %v", name, err)
	}
	return rtProc{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

func TestRunEndToEnd(t *testing.T) {
	bin := assayBinary(t)
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("reference Python emitter", func(t *testing.T) {
		// HOME is the only home: like the reference, the Python side
		// ignores ASSAY_HOME and writes to ~/.assay, which is also ours
		// when ASSAY_HOME is unset.
		home, work := t.TempDir(), t.TempDir()
		env := rtBinEnv("HOME="+home, "PYTHONPATH="+filepath.Join(repo, "testdata", "python"), "ASSAY_BIN="+bin)

		out := filepath.Join(work, "pack")
		p := rtExec(t, env, work, bin, "run", "--json", "-o", out, "--", "python3", filepath.Join(repo, "testdata", "vectors", "reference-1.24", "run_app.py"))
		if p.code != 0 {
			t.Fatalf("exit %d\n%s", p.code, p.stderr)
		}
		sum := rtSummary(t, p.stdout)
		if sum["n_receipts"] != float64(4) || sum["receipt_integrity"] != "PASS" {
			t.Fatalf("summary %v", sum)
		}
		if code, res := rtVerify(t, out); code != 0 || res.ReceiptCount != 4 {
			t.Fatalf("verify exit %d, %d receipts: %+v", code, res.ReceiptCount, res.Errors)
		}
		lines := rtPackLines(t, out)
		var models []string
		for _, r := range lines {
			if r.String("type") == "model_call" {
				models = append(models, r.String("model_id"))
			}
			if r.String("_trace_id") != sum["trace_id"] {
				t.Fatalf("receipt of another trace: %v", r)
			}
		}
		if strings.Join(models, ",") != "gpt-4o,claude-sonnet-4" {
			t.Fatalf("model calls %v", models)
		}
		// The trace is in the reference's place: ~/.assay/<date>/<trace>.jsonl.
		trace := sum["trace_id"].(string)
		matches, _ := filepath.Glob(filepath.Join(home, ".assay", "*", trace+".jsonl"))
		if len(matches) != 1 {
			t.Fatalf("trace file not under ~/.assay: %v", matches)
		}

		// Mixed emitters in one trace: Python, then our `assay emit`, then
		// Python again. The Python side re-validates the whole store
		// (both traces) before its last write and refuses if our line broke
		// the _store_seq rules.
		script := filepath.Join(work, "mixed.py")
		os.WriteFile(script, []byte(`import os, subprocess
from assay import emit_receipt
r1 = emit_receipt("model_call", {"provider": "openai", "model_id": "gpt-4o", "input_tokens": 3, "output_tokens": 5})
go_id = subprocess.run([os.environ["ASSAY_BIN"], "emit", "guardian_verdict", "verdict=allow", "risk_score=0.2", "--parent", r1["receipt_id"]],
                       check=True, capture_output=True, text=True).stdout.strip()
emit_receipt("capability_use", {"capability": "file_write", "after": go_id})
`), 0o644)
		out2 := filepath.Join(work, "pack2")
		p = rtExec(t, env, work, bin, "run", "--json", "-o", out2, "--", "python3", script)
		if p.code != 0 {
			t.Fatalf("mixed run exit %d\n%s", p.code, p.stderr)
		}
		sum2 := rtSummary(t, p.stdout)
		if code, res := rtVerify(t, out2); code != 0 || res.ReceiptCount != 3 {
			t.Fatalf("verify exit %d, %d receipts: %+v", code, res.ReceiptCount, res.Errors)
		}
		raw, err := os.ReadFile(filepath.Join(filepath.Dir(matches[0]), sum2["trace_id"].(string)+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		rows := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(rows) != 3 {
			t.Fatalf("trace has %d lines", len(rows))
		}
		prev := int64(3) // the first trace used _store_seq 0..3
		for i, row := range rows {
			v, err := canon.Decode([]byte(row))
			if err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
			r := v.(*canon.Object)
			n := len(r.Members)
			if n < 3 || r.Members[n-3].Key != "_trace_id" || r.Members[n-2].Key != "_stored_at" || r.Members[n-1].Key != "_store_seq" {
				t.Fatalf("line %d: store stamps are not the last three fields: %s", i, row)
			}
			if r.Members[0].Key != "receipt_id" || r.Members[1].Key != "type" || r.Members[2].Key != "timestamp" || r.Members[3].Key != "schema_version" || r.Members[4].Key != "seq" {
				t.Fatalf("line %d: base fields out of the reference's order: %s", i, row)
			}
			if !rtTSPattern.MatchString(r.String("timestamp")) || !rtTSPattern.MatchString(r.String("_stored_at")) || r.String("schema_version") != "3.0" {
				t.Fatalf("line %d: stamps not in the reference's format: %s", i, row)
			}
			seqV, _ := r.Get("_store_seq")
			var seq int64
			if err := json.Unmarshal([]byte(seqV.(canon.Number)), &seq); err != nil || seq <= prev {
				t.Fatalf("line %d: _store_seq %v after %d", i, seqV, prev)
			}
			prev = seq
		}
		var goLine map[string]any
		_ = json.Unmarshal([]byte(rows[1]), &goLine)
		var pyLine map[string]any
		_ = json.Unmarshal([]byte(rows[0]), &pyLine)
		if goLine["type"] != "guardian_verdict" || goLine["parent_receipt_id"] != pyLine["receipt_id"] || goLine["seq"] != float64(1) {
			t.Fatalf("our line %v", goLine)
		}
		counter, _ := os.ReadFile(filepath.Join(home, ".assay", ".store_seq"))
		if strings.TrimSpace(string(counter)) != "7" {
			t.Fatalf(".store_seq holds %q after _store_seq 6", counter)
		}
	})

	t.Run("SIGINT is forwarded and the trace stays buildable", func(t *testing.T) {
		home, work := t.TempDir(), t.TempDir()
		env := rtBinEnv(store.EnvHome+"="+home, "ASSAY_BIN="+bin)
		ready := filepath.Join(work, "ready")
		script := `"$ASSAY_BIN" emit model_call model_id=gpt-4o >/dev/null && "$ASSAY_BIN" emit model_call model_id=gpt-4o-mini >/dev/null || exit 99
trap 'echo child-got-SIGINT >&2; exit 130' INT
touch ` + ready + `
while :; do sleep 0.05; done`
		out := filepath.Join(work, "pack")
		cmd := exec.Command(bin, "run", "--json", "-o", out, "--", "sh", "-c", script)
		cmd.Env, cmd.Dir = env, work
		// Its own process group, as under a supervisor: the SIGINT comes
		// from us, not from a terminal, so assay must forward it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !rtFileExists(ready) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child never got ready; stderr:\n%s", stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 130 {
			t.Fatalf("exit %d, want the child's 130; stderr:\n%s", code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "child-got-SIGINT") {
			t.Fatalf("the child never saw SIGINT; stderr:\n%s", stderr.String())
		}
		sum := rtSummary(t, stdout.String())
		trace := sum["trace_id"].(string)
		if sum["exit_code"] != float64(130) || sum["n_receipts"] != float64(2) {
			t.Fatalf("summary %v", sum)
		}
		// The trace stays in the store: proof-pack builds it again later.
		out2 := filepath.Join(work, "rebuilt")
		p := rtExec(t, env, work, bin, "proof-pack", trace, "-o", out2)
		if p.code != 0 {
			t.Fatalf("proof-pack exit %d\n%s%s", p.code, p.stdout, p.stderr)
		}
		for _, dir := range []string{out, out2} {
			if code, res := rtVerify(t, dir); code != 0 || res.ReceiptCount != 2 {
				t.Fatalf("%s: verify exit %d, %d receipts: %+v", dir, code, res.ReceiptCount, res.Errors)
			}
		}
		a, b := rtPackLines(t, out), rtPackLines(t, out2)
		for i := range a {
			if a[i].String("receipt_id") != b[i].String("receipt_id") {
				t.Fatalf("rebuilt pack differs at %d", i)
			}
		}
	})
}

// rtJSONLines returns the JSON object lines of s.
func rtJSONLines(s string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}
