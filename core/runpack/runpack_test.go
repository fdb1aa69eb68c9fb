package runpack

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/store"
)

// TestHelperChild is not a test: run as a child with RUNPACK_HELPER=emit it
// emits RUNPACK_N model_call receipts into the run's trace, as an
// instrumented program would, then exits with RUNPACK_EXIT.
func TestHelperChild(t *testing.T) {
	if os.Getenv("RUNPACK_HELPER") != "emit" {
		return
	}
	st := store.Open(os.Getenv(store.EnvHome))
	n := len(os.Getenv("RUNPACK_N"))
	for i := 0; i < n; i++ {
		if _, err := st.Emit(os.Getenv(store.EnvTrace), "model_call", nil, store.EmitOptions{}); err != nil {
			os.Exit(98)
		}
	}
	code := len(os.Getenv("RUNPACK_EXIT"))
	os.Exit(code)
}

// child is a request running this test binary as the helper: it emits n
// receipts and exits with code (lengths of strings keep the env simple).
func child(t *testing.T, n, code int) Request {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return Request{
		Args: []string{exe, "-test.run=^TestHelperChild$"},
		Home: filepath.Join(dir, "home"),
		Env: []string{"RUNPACK_HELPER=emit", "RUNPACK_N=" + strings.Repeat("x", n),
			"RUNPACK_EXIT=" + strings.Repeat("x", code), "PATH=" + os.Getenv("PATH")},
		Dir:    dir,
		OutDir: filepath.Join(dir, "pack"),
		Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
	}
}

// TestRunExitCodeRule is DECISIONS 11 end to end: a failed child's code is
// passed on, a clean child exits 0, and the pack's verdict is reported
// beside it, never as the run's code.
func TestRunExitCodeRule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		receipts     int
		child        int
		allowEmpty   bool
		wantCode     int
		wantFrom     string
		wantErrKind  string
		wantReceipts int
	}{
		{"clean child with receipts", 2, 0, false, 0, "run", "", 2},
		{"failing child with receipts", 1, 3, false, 3, "child", "", 1},
		{"clean child, no receipts", 0, 0, false, exit.HonestFail, "", "no_receipts_emitted", 0},
		{"failing child, no receipts", 0, 4, false, 4, "", "no_receipts_emitted", 0},
		{"clean child, no receipts, allowed", 0, 0, true, 0, "run", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := child(t, tc.receipts, tc.child)
			req.AllowEmpty = tc.allowEmpty
			var started Started
			req.OnStart = func(s Started) { started = s }
			res, err := Run(t.Context(), req)
			if tc.wantErrKind != "" {
				var re *Error
				if !errors.As(err, &re) || re.Kind != tc.wantErrKind {
					t.Fatalf("err = %v, want kind %s", err, tc.wantErrKind)
				}
				if exit.Code(err) != tc.wantCode || re.TraceID != started.TraceID || len(re.Hints) == 0 {
					t.Fatalf("code %d trace %q hints %d, want %d %q", exit.Code(err), re.TraceID, len(re.Hints), tc.wantCode, started.TraceID)
				}
				if _, err := os.Stat(req.OutDir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a failed run left %s behind", req.OutDir)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tc.wantCode || res.ExitCodeFrom != tc.wantFrom || res.Child.ExitCode != tc.child {
				t.Fatalf("exit %d from %s (child %d), want %d from %s", res.ExitCode, res.ExitCodeFrom, res.Child.ExitCode, tc.wantCode, tc.wantFrom)
			}
			if res.Pack.NReceipts != tc.wantReceipts || res.Verdict != "PASS" || res.TraceID != started.TraceID || !started.KeyGenerated {
				t.Fatalf("pack %d receipts verdict %s trace %s/%s generated %v", res.Pack.NReceipts, res.Verdict, res.TraceID, started.TraceID, started.KeyGenerated)
			}
			if _, err := os.Stat(filepath.Join(req.OutDir, "pack_manifest.json")); err != nil {
				t.Fatalf("no manifest written: %v", err)
			}
		})
	}
}

// TestRunRefusesBadInputBeforeTheChild: every input is checked before the
// child starts (OnStart never runs) and the failure is bad input, kinded.
func TestRunRefusesBadInputBeforeTheChild(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*Request)
		kind string
	}{
		{"no command", func(r *Request) { r.Args = nil }, "no_command"},
		{"bad mode", func(r *Request) { r.Mode = "loud" }, "bad_mode"},
		{"unknown card", func(r *Request) { r.Cards = []string{"no_such_card"} }, "unknown_card"},
		{"output exists", func(r *Request) { _ = os.MkdirAll(r.OutDir, 0o755) }, "output_exists"},
		{"output under a file", func(r *Request) {
			f := filepath.Join(r.Dir, "file")
			_ = os.WriteFile(f, nil, 0o644)
			r.OutDir = filepath.Join(f, "pack")
		}, "bad_output"},
		{"command not found", func(r *Request) { r.Args = []string{"no-such-command-assay-test"} }, "command_not_found"},
		{"not executable", func(r *Request) {
			f := filepath.Join(r.Dir, "script")
			_ = os.WriteFile(f, []byte("true\n"), 0o644)
			r.Args = []string{f}
		}, "command_not_found"},
		{"no key and no generation", func(r *Request) { r.NoGenerateKey = true }, "key_missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := child(t, 1, 0)
			tc.edit(&req)
			req.OnStart = func(Started) { t.Error("the child was started") }
			_, err := Run(t.Context(), req)
			var re *Error
			if !errors.As(err, &re) || re.Kind != tc.kind || exit.Code(err) != exit.BadInput {
				t.Fatalf("err = %v (code %d), want kind %s and exit 3", err, exit.Code(err), tc.kind)
			}
		})
	}
}

// TestExitCode is the rule on its own, including lost evidence.
func TestExitCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		child    int
		lost     int64
		want     int
		wantFrom string
	}{
		{0, 0, 0, "run"},
		{0, 2, exit.HonestFail, "run"},
		{7, 0, 7, "child"},
		{130, 5, 130, "child"},
	}
	for _, tc := range cases {
		if got, from := exitCode(tc.child, tc.lost); got != tc.want || from != tc.wantFrom {
			t.Errorf("exitCode(%d, %d) = %d %s, want %d %s", tc.child, tc.lost, got, from, tc.want, tc.wantFrom)
		}
	}
	for _, v := range []struct{ integrity, claims, want string }{
		{"PASS", "PASS", "PASS"}, {"PASS", "N/A", "PASS"}, {"FAIL", "PASS", "HONEST_FAIL"}, {"PASS", "FAIL", "HONEST_FAIL"},
	} {
		if got, _ := Verdict(v.integrity, v.claims); got != v.want {
			t.Errorf("Verdict(%s, %s) = %s, want %s", v.integrity, v.claims, got, v.want)
		}
	}
}
