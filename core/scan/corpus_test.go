package scan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// The Python corpus (testdata/scan/python) has one file per positive,
// negative, instrumentation, ordering and skip case of scanner.md §5 and
// §6, plus pruned and ignored directories. expected.json, written by hand
// from the spec, lists for each file its findings as
// [line, call, confidence, framework, instrumented], "skip" for files the
// reference skips, or null for files that must not be scanned at all.
func TestPythonCorpus(t *testing.T) {
	t.Parallel()
	dir := "../../testdata/scan/python"
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]any
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	res, err := Scan(dir, Options{NoGo: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][][]any{}
	for _, f := range res.Findings {
		got[f.Path] = append(got[f.Path], []any{float64(f.Line), f.Call, f.Confidence, f.Framework, f.Instrumented})
		if f.Instrumented != (f.Fix == "") {
			t.Errorf("%s:%d fix %q with instrumented=%v", f.Path, f.Line, f.Fix, f.Instrumented)
		}
	}
	skipped := map[string]string{}
	for _, s := range res.Skipped {
		skipped[s.Path] = s.Reason
	}
	for path, want := range expected {
		path = filepath.FromSlash(path)
		switch w := want.(type) {
		case nil:
			if len(got[path]) > 0 {
				t.Errorf("%s: must not be scanned, got %v", path, got[path])
			}
		case string:
			if _, ok := skipped[path]; !ok || len(got[path]) > 0 {
				t.Errorf("%s: want skipped, got findings %v (skipped: %v)", path, got[path], skipped)
			}
		case []any:
			var g []any
			for _, x := range got[path] {
				g = append(g, any(x))
			}
			if len(w) == 0 && len(g) == 0 {
				continue
			}
			wb, _ := json.Marshal(w)
			gb, _ := json.Marshal(g)
			if string(wb) != string(gb) {
				t.Errorf("%s:\n got %s\nwant %s", path, gb, wb)
			}
		}
		delete(got, path)
	}
	for p, fs := range got {
		t.Errorf("unexpected findings in %s: %v", p, fs)
	}
	// Findings are sorted by (path, line).
	for i := 1; i < len(res.Findings); i++ {
		a, b := res.Findings[i-1], res.Findings[i]
		if a.Path > b.Path || (a.Path == b.Path && a.Line > b.Line) {
			t.Fatalf("out of order: %v then %v", a, b)
		}
	}
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, s := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func paths(r *Result) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, filepath.ToSlash(f.Path))
	}
	return out
}

func TestIncludeExclude(t *testing.T) {
	t.Parallel()
	call := "client.chat.completions.create()\n"
	root := writeTree(t, map[string]string{"app.py": call, "test_app.py": call, "vendor/v.py": call, "src/tests/t.py": call})
	for _, tc := range []struct {
		name string
		opt  Options
		want []string
	}{
		{"all", Options{}, []string{"app.py", "src/tests/t.py", "test_app.py", "vendor/v.py"}},
		{"include", Options{Include: []string{"app.py"}}, []string{"app.py"}},
		{"exclude test_*", Options{Exclude: []string{"test_*"}}, []string{"app.py", "src/tests/t.py", "vendor/v.py"}},
		{"exclude dir prunes", Options{Exclude: []string{"vendor"}}, []string{"app.py", "src/tests/t.py", "test_app.py"}},
		{"star crosses slash", Options{Exclude: []string{"src*"}}, []string{"app.py", "test_app.py", "vendor/v.py"}},
		{"double star is star", Options{Exclude: []string{"src/**"}}, []string{"app.py", "test_app.py", "vendor/v.py"}},
		{"include set", Options{Include: []string{"[at]*.py"}}, []string{"app.py", "test_app.py"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Scan(root, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(r); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v want %v", got, tc.want)
			}
		})
	}
	if got := SplitList([]string{" a, b ,,", "c"}); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("SplitList = %v", got)
	}
}

func TestFnmatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"tests/*", "tests/a/b.py", true},
		{"tests/**", "tests/x.py", true},
		{"tests/*", "src/tests/x.py", false},
		{"*.py", "a/b.py", true},
		{"?.py", "a.py", true},
		{"?.py", "ab.py", false},
		{"[!a]*.py", "b.py", true},
		{"[!a]*.py", "a.py", false},
		{"[]]x", "]x", true},
		{"[abc", "[abc", true},
		{"a.b", "axb", false},
		{"App.py", "app.py", false},
		{"[]", "[]", true},
	} {
		if got := Compile(tc.pat).Match(tc.s); got != tc.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", tc.s, tc.pat, got, tc.want)
		}
	}
}

func TestBadTargets(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"a.py": "x()\n", "real/b.py": "client.chat.completions.create()\n"})
	// A symlinked root is followed (symlinked directories inside are not).
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(root, "real"), link); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "real", "loop"))
	r, err := Scan(link, Options{})
	if err != nil || len(r.Findings) != 1 || r.Findings[0].Path != "b.py" {
		t.Fatalf("symlinked root: %v %+v", err, r)
	}
	for _, tc := range []struct {
		path, msg string
	}{
		{filepath.Join(root, "missing"), "Directory not found"},
		{filepath.Join(root, "a.py"), "Not a directory"},
	} {
		_, err := Scan(tc.path, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err %v", tc.path, err)
		}
		if code := exitCode(err); code != 3 {
			t.Errorf("%s: exit %d", tc.path, code)
		}
	}
}

// Unreadable, binary and huge minified files are reported as skipped or
// scanned without a crash.
func TestBadFiles(t *testing.T) {
	t.Parallel()
	call := "client.chat.completions.create()\n"
	// 10 MB on one line: a 9 MB generated data literal plus 1 MB of calls.
	const nCalls = 1 << 20 / 56
	big := "D='" + strings.Repeat("x", 9<<20) + "';" + strings.Repeat("x=client.chat.completions.create(a=[1,2,3],b={'k':'v'});", nCalls) + "\n"
	root := writeTree(t, map[string]string{
		"ok.py": call, "locked.py": call, "bin.py": "\x00\x01\x02\xff\xfe", "min.py": big,
	})
	if err := os.Chmod(filepath.Join(root, "locked.py"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "sealed"), 0); err != nil {
		t.Fatal(err)
	}
	// Unreadable even for root: a dangling symlink and a FIFO (which would
	// block a reader forever).
	os.Symlink(filepath.Join(root, "gone.py"), filepath.Join(root, "dangling.py"))
	if err := syscall.Mkfifo(filepath.Join(root, "pipe.py"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(root, "sealed"), 0o755)
	r, err := Scan(root, Options{MaxFileSize: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	sk := map[string]string{}
	for _, s := range r.Skipped {
		sk[s.Path] = s.Reason
	}
	if !strings.Contains(sk["dangling.py"], "cannot read") || sk["pipe.py"] != "not a regular file" {
		t.Errorf("dangling symlink / FIFO: %v", sk)
	}
	if !strings.Contains(sk["bin.py"], "NUL") {
		t.Errorf("binary file: %v", sk)
	}
	if os.Geteuid() != 0 { // root reads anything
		if !strings.Contains(sk["locked.py"], "cannot read") || !strings.Contains(sk["sealed"], "cannot read") {
			t.Errorf("unreadable: %v", sk)
		}
	}
	n := 0
	for _, f := range r.Findings {
		if f.Path == "min.py" {
			n++
		}
	}
	if want := nCalls; n != want {
		t.Errorf("minified file: %d findings, want %d", n, want)
	}
	// With a size cap the big file is skipped with a reason.
	r, _ = Scan(root, Options{MaxFileSize: 1 << 20})
	found := false
	for _, s := range r.Skipped {
		if s.Path == "min.py" && strings.Contains(s.Reason, "larger than") {
			found = true
		}
	}
	if !found {
		t.Errorf("size cap not applied: %v", r.Skipped)
	}
	_ = fmt.Sprint()
}

func exitCode(err error) int { return exitpkgCode(err) }

// The Go corpus (testdata/scan/golang): SDK calls per framework, clients
// built with and without the capture middleware (directly, through a
// variable, through a helper in another file, in a struct field),
// look-alikes without an SDK import, and a file that does not parse.
func TestGoCorpus(t *testing.T) {
	t.Parallel()
	dir := "../../testdata/scan/golang"
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]any
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	res, err := Scan(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]any{}
	for _, f := range res.Findings {
		if f.Lang != "go" {
			t.Errorf("%s: lang %q", f.Path, f.Lang)
		}
		got[filepath.ToSlash(f.Path)] = append(got[filepath.ToSlash(f.Path)], []any{float64(f.Line), f.Call, f.Confidence, f.Framework, f.Instrumented})
	}
	skipped := map[string]bool{}
	for _, s := range res.Skipped {
		skipped[filepath.ToSlash(s.Path)] = true
	}
	for path, want := range expected {
		if s, ok := want.(string); ok && s == "skip" {
			if !skipped[path] {
				t.Errorf("%s: want skipped", path)
			}
			continue
		}
		w := want.([]any)
		if len(w) == 0 && len(got[path]) == 0 {
			continue
		}
		wb, _ := json.Marshal(w)
		gb, _ := json.Marshal(got[path])
		if string(wb) != string(gb) {
			t.Errorf("%s:\n got %s\nwant %s", path, gb, wb)
		}
		delete(got, path)
	}
	for p, fs := range got {
		t.Errorf("unexpected findings in %s: %v", p, fs)
	}
	// A Go-only tree gets Go commands in its next steps.
	steps := res.NextSteps()
	if len(steps) != 3 || steps[0].Commands[0] != "assay patch ." || steps[1].Commands[0] != "assay run -c receipt_completeness -- go run ." {
		t.Errorf("next steps for Go: %+v", steps)
	}
}
