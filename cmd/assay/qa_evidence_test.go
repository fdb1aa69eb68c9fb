package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/assay-dev/assay/core/bundle"
	"github.com/assay-dev/assay/core/packs"
	"github.com/assay-dev/assay/core/packs/packstest"
)

// The human diff ends with its exit line (the report path comes before it)
// and claim details read "expected X; actual: Y", never "got found N".
func TestQADiffTextLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := packstest.DiffFixture(t, dir, "base")
	b := packstest.DiffFixture(t, dir, "claim_regression")
	report := filepath.Join(dir, "d.html")
	code, out, errs := ckRun(t, "diff", a, b, "--report", report)
	if code != 1 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "exit 1" {
		t.Fatalf("last line %q, want the exit line:\n%s", last, out)
	}
	if !strings.Contains(out, "report: "+report+"\nexit 1") {
		t.Fatalf("report line not right before the exit line:\n%s", out)
	}
	if strings.Contains(out, "got found") || !strings.Contains(out, "; actual: found ") {
		t.Fatalf("claim detail wording:\n%s", out)
	}
}

// --min-coverage alone gates nothing; it is refused rather than ignored
// (a silently skipped gate reads as a passed one).
func TestQAMinCoverageNeedsContract(t *testing.T) {
	t.Parallel()
	p := packstest.DiffFixture(t, t.TempDir(), "base")
	for _, args := range [][]string{{"verify-pack", p, "--min-coverage", "0.9"}, {"verify-pack", p, "--min-coverage", "2", "--json"}} {
		code, out, errs := ckRun(t, args...)
		if code != 3 || !noResult(args, out) || !strings.Contains(errs, "--coverage-contract") {
			t.Fatalf("%v: exit %d stdout %q stderr %q", args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
}

// A verdict panel has no doubled blank line when the only note is one
// that is not shown (the unpinned-signer note on a non-PASS verdict).
func TestQAVerdictPanelSpacing(t *testing.T) {
	t.Parallel()
	p := packstest.DiffFixture(t, t.TempDir(), "claim_regression")
	code, out, _ := ckRun(t, "verify-pack", p)
	if code != 1 || strings.Contains(out, "\n\n\n") {
		t.Fatalf("exit %d, panel:\n%q", code, out)
	}
}

// A bundle given to a command that needs the pack directory (prove) says so and
// how to extract it (it used to say "give ... an audit bundle .tar.gz" to
// a command that refuses bundles); a plain file is neither; a manifest
// that is a directory is named once, without Go's doubled path.
func TestQAPackPathMessages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := packstest.DiffFixture(t, dir, "base")
	b := filepath.Join(dir, "b.tar.gz")
	if _, err := bundle.Create(p, b); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "notes.txt")
	os.WriteFile(plain, []byte("hi"), 0o644)
	odd := filepath.Join(dir, "odd")
	os.MkdirAll(filepath.Join(odd, "pack_manifest.json"), 0o755)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"prove", b, "r_x"}, "is a gzip archive; this command needs the pack directory (extract an audit bundle first: mkdir pack && tar xzf"},
		{[]string{"verify-pack", plain}, "not a pack directory or audit bundle: " + plain + " (give the pack directory, or an audit bundle .tar.gz)"},
		{[]string{"verify-pack", plain, "--json"}, "not a pack directory or audit bundle"},
		{[]string{"prove", plain, "r_x"}, "not a pack directory: " + plain + " (give the pack directory)"},
		{[]string{"verify-pack", odd}, "cannot read " + filepath.Join(odd, "pack_manifest.json") + ": is a directory ("},
	} {
		code, out, errs := ckRun(t, c.args...)
		if code != 3 || !noResult(c.args, out) || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d stdout %q stderr %q, want %q", c.args, code, out, errs, c.want)
		}
		oneLineErr(t, errs)
	}
	// verify-pack, explain and verify-signer take the bundle itself.
	for _, args := range [][]string{{"verify-pack", b}, {"explain", b}, {"verify-signer", b}} {
		if code, _, errs := ckRun(t, args...); code != 0 {
			t.Errorf("%v: exit %d %s", args, code, errs)
		}
	}
}

// packs list keeps its columns aligned for default pack names (41
// characters) and a baseline mark.
func TestQAPacksListColumns(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "proof_pack_trace_20261125T220000_aaaabbbb")
	packstest.Build(t, long, packstest.Generic(3), nil)
	short := filepath.Join(dir, "proof_pack_a")
	packstest.Build(t, short, packstest.Generic(2), nil)
	t.Chdir(dir)
	if code, _, errs := ckRun(t, "baseline", "set", "proof_pack_a"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := ckRun(t, "packs", "list")
	if code != 0 {
		t.Fatal(errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || lines[3] != packs.ListNote {
		t.Fatalf("want header, 2 rows and the unverified note:\n%s", out)
	}
	col := strings.Index(lines[0], "RECEIPTS")
	for _, l := range lines[1:3] {
		if len(l) <= col || l[col-1] != ' ' || l[col] < '0' || l[col] > '9' {
			t.Fatalf("RECEIPTS column (at %d) misaligned:\n%s", col, out)
		}
	}
}

// Fix hints name only things that exist; missing files are named plainly.
func TestQAMissingInputsHints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckHome(t, filepath.Join(dir, "home"))
	a := packstest.DiffFixture(t, dir, "base")
	plain := filepath.Join(dir, "notes.txt")
	os.WriteFile(plain, []byte("hi"), 0o644)
	for _, c := range []struct {
		args    []string
		want    string
		notWant string
	}{
		{[]string{"proof-pack", "trace_20260101T000000_deadbeef"}, "no trace \"trace_20260101T000000_deadbeef\"", "assay traces"},
		{[]string{"diff", a, a, "--prices", filepath.Join(dir, "nope.json")}, "price file not found: " + filepath.Join(dir, "nope.json"), "open "},
		{[]string{"packs", "list", "-d", plain}, plain + " is not a directory", "open "},
	} {
		code, out, errs := ckRun(t, c.args...)
		if code != 3 || !noResult(c.args, out) || !strings.Contains(errs, c.want) || strings.Contains(errs, c.notWant) {
			t.Errorf("%v: exit %d stdout %q stderr %q", c.args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
}

// --json means the same on every command that prints results: explain and
// key set-active take it too (explain --json is --format json).
func TestQAJSONFlagEverywhere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckHome(t, filepath.Join(dir, "home"))
	p := packstest.DiffFixture(t, dir, "base")
	_, viaFormat, _ := ckRun(t, "explain", p, "--format", "json")
	code, viaJSON, errs := ckRun(t, "explain", p, "--json")
	if code != 0 || viaJSON != viaFormat || !strings.HasPrefix(viaJSON, "{") {
		t.Fatalf("explain --json: exit %d %s\n%s", code, errs, viaJSON)
	}
	if code, out, errs := ckRun(t, "explain", p, "--json", "--format", "md"); code != 3 || !noResult([]string{"--json"}, out) {
		t.Fatalf("--json with --format md: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := ckRun(t, "key", "generate", "qa"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := ckRun(t, "key", "set-active", "qa", "--json")
	var r struct {
		Active string `json:"active_signer"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Active != "qa" {
		t.Fatalf("key set-active --json: exit %d %q %q", code, out, errs)
	}
}

// lock write without cards says what to give, in one line, and writes
// nothing.
func TestQALockWriteNeedsCards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "assay.lock")
	for _, args := range [][]string{{"lock", "write", "-o", out}, {"lock", "write", "--cards", "", "-o", out}, {"lock", "write", "--cards", " , ", "-o", out, "--json"}} {
		code, stdout, errs := ckRun(t, args...)
		if code != 3 || !noResult(args, stdout) || !strings.Contains(errs, "lock write needs --cards (name built-in cards") {
			t.Errorf("%v: exit %d %q %q", args, code, stdout, errs)
		}
		oneLineErr(t, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a lock was written: %v", err)
	}
}

// An intact pack refused by the lock is exit 2, but the panel must not
// claim it "changed after it was signed".
func TestQALockMismatchHeadline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := packstest.DiffFixture(t, dir, "base")
	l := filepath.Join(dir, "assay.lock")
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "no_breakglass", "-o", l); code != 0 {
		t.Fatal(errs)
	}
	code, out, _ := ckRun(t, "verify-pack", p, "--lock", l)
	if code != 2 || !strings.HasPrefix(out, "TAMPERED  the pack is intact but does not satisfy the lock\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	packstest.FlipByte(t, filepath.Join(p, "receipt_pack.jsonl"), 20)
	code, out, _ = ckRun(t, "verify-pack", p, "--lock", l)
	if code != 2 || !strings.HasPrefix(out, "TAMPERED  this pack changed after it was signed\n") {
		t.Fatalf("tampered and locked: exit %d:\n%s", code, out)
	}
}

// A directory given where a file is expected is named once, without Go's
// "read X: is a directory" repeating the path.
func TestQADirectoryForFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := packstest.DiffFixture(t, dir, "base")
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	for _, args := range [][]string{
		{"verify-pack", p, "--coverage-contract", sub},
		{"verify-signer", p, "--allowed-signers", sub},
		{"verify-pack", p, "--lock", sub},
	} {
		code, out, errs := ckRun(t, args...)
		if code != 3 || !noResult(args, out) || strings.Count(errs, sub) != 1 || !strings.Contains(errs, "is a directory") {
			t.Errorf("%v: exit %d %q %q", args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
}

// Demos refuse an empty or impossible -o in one line, and try says what to
// do when it cannot make its temp directory.
func TestQADemoOutputs(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "notes.txt")
	os.WriteFile(plain, []byte("hi"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"demo-challenge", "-o", ""}, "-o must not be empty (give a directory name with -o)"},
		{[]string{"demo-incident", "-o", "", "--json"}, "-o must not be empty"},
		{[]string{"demo-incident", "-o", filepath.Join(plain, "x")}, "cannot create " + filepath.Join(plain, "x") + ": not a directory (check the -o path)"},
	} {
		code, out, errs := ckRun(t, c.args...)
		if code != 3 || !noResult(c.args, out) || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d %q %q", c.args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
	t.Setenv("TMPDIR", filepath.Join(dir, "missing"))
	code, out, errs := ckRun(t, "try", "--json")
	if code != 3 || !noResult([]string{"--json"}, out) || !strings.Contains(errs, "(set TMPDIR to a writable directory)") {
		t.Errorf("try with a missing TMPDIR: exit %d %q %q", code, out, errs)
	}
	oneLineErr(t, errs)
}

// A gate flag given an empty value (a script's unset $LOCK) is bad input,
// never a silently skipped gate; an empty -o never reaches the file system.
func TestQAEmptyFlagValues(t *testing.T) {
	dir := t.TempDir()
	ckHome(t, filepath.Join(dir, "home"))
	t.Chdir(dir)
	p := packstest.DiffFixture(t, dir, "base")
	for _, args := range [][]string{
		{"verify-pack", p, "--lock="},
		{"verify-pack", p, "--coverage-contract=", "--json"},
		{"verify-pack", p, "--expected-commit-sha="},
		{"verify-signer", p, "--allowed-signers="},
		{"lock", "write", "--cards", "no_breakglass", "--output="},
		{"lock", "init", "--output="},
		{"lock", "init", "--from-pack="},
		{"key", "export", "--output="},
		{"key", "rotate", "--lock="},
		{"key", "revoke", "x", "--lock="},
	} {
		code, out, errs := ckRun(t, args...)
		if code != 3 || !noResult(args, out) || !strings.Contains(errs, "is empty (give a value, or leave the flag out)") {
			t.Errorf("%v: exit %d %q %q", args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 { // only the pack
		t.Fatalf("something was written: %v", ents)
	}
}

// A typed flag with a bad value says what the value should be, without
// strconv's internals; completion refuses an unknown shell like every other
// group refuses an unknown subcommand.
func TestQAFlagValueMessages(t *testing.T) {
	t.Parallel()
	p := packstest.DiffFixture(t, t.TempDir(), "base")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"diff", p, p, "--gate-cost-pct", "abc"}, `--gate-cost-pct: "abc" is not a number (see 'assay diff --help')`},
		{[]string{"diff", p, p, "--gate-errors", "1.5", "--json"}, `--gate-errors: "1.5" is not a whole number`},
		{[]string{"verify-pack", p, "--require-claim-pass=maybe"}, `--require-claim-pass: "maybe" is not true or false`},
		{[]string{"completion", "nope"}, `unknown command "nope" for "assay completion"`},
	} {
		code, out, errs := ckRun(t, c.args...)
		if code != 3 || !noResult(c.args, out) || !strings.Contains(errs, c.want) || strings.Contains(errs, "strconv") {
			t.Errorf("%v: exit %d %q %q", c.args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
	if got := flagError(`invalid argument "x" for "-m, --min" flag: strconv.ParseFloat: parsing "x": invalid syntax`); got != `--min: "x" is not a number` {
		t.Errorf("shorthand flag: %q", got)
	}
}

// lock init --from-pack names a missing path and a file plainly.
func TestQALockFromPackPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "notes.txt")
	os.WriteFile(plain, []byte("hi"), 0o644)
	for _, c := range []struct{ from, want string }{
		{filepath.Join(dir, "nope"), "pack not found: " + filepath.Join(dir, "nope")},
		{plain, "not a pack directory: " + plain},
	} {
		code, out, errs := ckRun(t, "lock", "init", "--from-pack", c.from, "-o", filepath.Join(dir, "x.lock"))
		if code != 3 || !noResult(nil, out) || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d %q %q", c.from, code, out, errs)
		}
		oneLineErr(t, errs)
	}
}

// A reference-built pack (no Merkle root) says so in the panel, so a later
// 'assay prove' refusal is no surprise.
func TestQAReferencePackMerkleRow(t *testing.T) {
	t.Parallel()
	code, out, _ := ckRun(t, "verify-pack", "../../testdata/vectors/pack/golden_minimal")
	if code != 0 || !strings.Contains(out, "Merkle root  not recorded (reference-built packs have none; 'assay prove' needs one)") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// packs show of a pack whose manifest is not JSON is exit 2 (tampering)
// with one line that says what to run next.
func TestQAPacksShowBrokenManifest(t *testing.T) {
	t.Parallel()
	p := packstest.DiffFixture(t, t.TempDir(), "base")
	os.WriteFile(filepath.Join(p, "pack_manifest.json"), []byte("{"), 0o644)
	code, out, errs := ckRun(t, "packs", "show", p)
	if code != 2 || !noResult(nil, out) || !strings.Contains(errs, p+": pack_manifest.json is not valid JSON") || !strings.HasSuffix(errs, "(run 'assay verify-pack "+p+"' for details)\n") {
		t.Fatalf("exit %d %q %q", code, out, errs)
	}
	oneLineErr(t, errs)
}

// Deleting the active signer says (on stderr) which key signs from now on.
func TestQARevokeActiveSigner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	ckHome(t, home)
	if code, _, errs := ckRun(t, "key", "generate", "ci"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := ckRun(t, "lock", "write", "--cards", "no_breakglass", "--signer", "ci", "-o", filepath.Join(dir, "assay.lock")); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs := ckRun(t, "key", "revoke", "ci", "--delete", "--lock", filepath.Join(dir, "assay.lock"))
	if code != 0 || !strings.Contains(errs, "ci was the active signer: proof-pack and run now sign with \"assay-local\"") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(home, "keys", "ci.key")); !os.IsNotExist(err) {
		t.Fatalf("key not deleted: %v", err)
	}
}

// demo-challenge names what it wrote relative to -o, and its "try it
// yourself" commands really give the exit codes they promise.
func TestQAChallengeSummary(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "ch")
	code, stdout, errs := ckRun(t, "demo-challenge", "-o", out)
	if code != 0 || !strings.HasPrefix(stdout, "Wrote "+out+": good/, tampered/, SHA256SUMS.txt and CHALLENGE.md\n") {
		t.Fatalf("exit %d %q\n%s", code, errs, stdout)
	}
	for _, f := range []string{"good", "tampered", "SHA256SUMS.txt", "CHALLENGE.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for dir, want := range map[string]int{"good": 0, "tampered": 2} {
		if !strings.Contains(stdout, "assay verify-pack "+filepath.Join(out, dir)) {
			t.Errorf("no command for %s:\n%s", dir, stdout)
		}
		if code, _, _ := ckRun(t, "verify-pack", filepath.Join(out, dir)); code != want {
			t.Errorf("verify-pack %s: exit %d, want %d", dir, code, want)
		}
	}
}

// noResult reports whether stdout is right for a refused command: nothing
// in text mode; with --json nothing or one JSON document carrying the
// same non-zero exit code (the CLI may report errors as JSON there).
func noResult(args []string, out string) bool {
	if out == "" {
		return true
	}
	if !slices.Contains(args, "--json") {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var doc struct {
		ExitCode int `json:"exit_code"`
	}
	if dec.Decode(&doc) != nil || doc.ExitCode == 0 {
		return false
	}
	_, err := dec.Token()
	return err == io.EOF
}

// ASSAY_HOME pointing at a file is named as such, with the fix, for key
// commands and for proof-pack's trace lookup.
func TestQAHomeIsAFile(t *testing.T) {
	t.Parallel()
	plain := filepath.Join(t.TempDir(), "home")
	os.WriteFile(plain, []byte("x"), 0o644)
	ckHome(t, plain)
	for _, args := range [][]string{{"key", "list"}, {"key", "info", "--json"}, {"proof-pack", "trace_20260101T000000_deadbeef"}} {
		code, out, errs := ckRun(t, args...)
		if code != 3 || !noResult(args, out) || !strings.Contains(errs, "(point ASSAY_HOME at a directory (or unset it for ~/.assay))") || strings.Contains(errs, "open ") {
			t.Errorf("%v: exit %d %q %q", args, code, out, errs)
		}
		oneLineErr(t, errs)
	}
}
