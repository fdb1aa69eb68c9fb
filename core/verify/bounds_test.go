package verify

// Verifier bounds (issue 13): memory does not grow with the number of bad
// receipts, no per-name work for huge expected_files lists, no Merkle work
// for a file of newlines, and pack entries that are FIFOs, devices or links
// out of the pack are never read.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/verify/verifytest"
)

// childEnv names the pack a child test process verifies (see TestMain).
const childEnv = "ASSAY_VERIFY_BOUNDS_CHILD"

// TestMain lets a test re-run this binary as a child that verifies one pack
// and prints its result as JSON (what verify-pack --json does), so the
// parent can read the child's peak RSS from its rusage.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		r, err := Verify(dir, Options{Now: verifytest.Now})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		b, err := json.Marshal(r)
		if err != nil {
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "%d\n", len(b))
		os.Exit(r.ExitCode)
	}
	os.Exit(m.Run())
}

func hostile(t *testing.T, rc verifytest.Receipts) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pack")
	if err := verifytest.Build(dir, 3, verifytest.Attacker); err != nil {
		t.Fatal(err)
	}
	if err := verifytest.Replace(dir, rc, verifytest.Attacker); err != nil {
		t.Fatal(err)
	}
	return dir
}

// 50,000 receipts "{}", validly signed and honestly attested as FAIL: every
// one has a disallowed type. The first MaxErrors are listed, all are
// counted, and the JSON document stays small.
func TestManyBadReceiptsListFirstErrorsCountAll(t *testing.T) {
	t.Parallel()
	dir := hostile(t, verifytest.EmptyReceipts(50_000))
	r, err := Verify(dir, Options{Now: verifytest.Now})
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != exit.Tampered || len(r.Errors) != MaxErrors || r.ErrorCount != 50_000 || r.ErrorsOmitted != 50_000-MaxErrors {
		t.Fatalf("exit %d listed %d count %d omitted %d", r.ExitCode, len(r.Errors), r.ErrorCount, r.ErrorsOmitted)
	}
	if r.FailureMechanisms["schema_mismatch"] != 50_000 {
		t.Fatalf("failure mechanisms %v", r.FailureMechanisms)
	}
	last := r.Errors[MaxErrors-1]
	if last.Code != ESchemaUnknown || last.ReceiptIndex == nil || *last.ReceiptIndex != MaxErrors-1 {
		t.Fatalf("last listed error %+v", last)
	}
	b, _ := json.Marshal(r)
	if len(b) > 256<<10 {
		t.Fatalf("--json document is %d bytes", len(b))
	}
}

// maxRSS verifies dir in a child process and returns its exit code, the
// size of its JSON result and its peak resident set in bytes.
func maxRSS(t *testing.T, dir string) (int, int, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "GOMAXPROCS=2")
	out, _ := cmd.Output()
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the child")
	}
	var size int
	fmt.Sscan(string(out), &size)
	return cmd.ProcessState.ExitCode(), size, ru.Maxrss * 1024 // Linux reports KiB
}

// Peak memory of a whole verification (and its JSON) of 50,000 bad
// receipts stays far below what listing them all took (200 MB).
func TestManyBadReceiptsPeakMemoryBounded(t *testing.T) {
	t.Parallel()
	dir := hostile(t, verifytest.EmptyReceipts(50_000))
	code, size, rss := maxRSS(t, dir)
	t.Logf("50,000 bad receipts: exit %d, JSON %d bytes, peak RSS %.1f MiB", code, size, float64(rss)/(1<<20))
	if code != exit.Tampered || size == 0 {
		t.Fatalf("child exit %d, JSON %d bytes", code, size)
	}
	if rss > 100<<20 {
		t.Fatalf("peak RSS %d bytes, want under 100 MiB", rss)
	}
}

// A signed manifest listing 100,000 expected names is refused at the
// schema stage: the verifier never walks the list.
func TestHugeExpectedFilesRefusedAtSchema(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pack")
	if err := verifytest.Build(dir, 3, verifytest.Attacker); err != nil {
		t.Fatal(err)
	}
	if err := verifytest.ExpectedNames(dir, 100_000, verifytest.Attacker); err != nil {
		t.Fatal(err)
	}
	r := check(t, dir, Options{Now: verifytest.Now}, expect{exit: 2, code: EManifestTamper, field: pack.FileManifest, stage: StageSchema})
	if len(r.Stages) != 1 || !strings.Contains(r.Errors[0].Message, "expected_files: has 100005 items") {
		t.Fatalf("stages %+v errors %+v", r.Stages, r.Errors)
	}
	// At the bound itself the pack still verifies (extra names warn only
	// when present; absent ones are missing files).
	dir2 := filepath.Join(t.TempDir(), "pack")
	verifytest.Build(dir2, 3, verifytest.Attacker)
	if err := verifytest.ExpectedNames(dir2, maxListed-len(pack.KernelFiles), verifytest.Attacker); err != nil {
		t.Fatal(err)
	}
	r = check(t, dir2, Options{Now: verifytest.Now}, expect{exit: 2, code: EManifestTamper, stage: StageFileHashes})
	if r.ErrorCount != maxListed-len(pack.KernelFiles) {
		t.Fatalf("want one missing-file error per extra name, got %d", r.ErrorCount)
	}
}

// A receipt file of newlines, validly signed as an empty pack: a pack
// that records a Merkle root holds no blank line, so it is tampered, and
// the leaves of the lines are never hashed.
func TestNewlinesPackRejected(t *testing.T) {
	t.Parallel()
	dir := hostile(t, verifytest.Newlines(8<<20))
	r := check(t, dir, Options{Now: verifytest.Now}, expect{exit: 2, code: EManifestTamper, field: "merkle", stage: StageReceipts})
	if r.Merkle == nil || r.Merkle.TreeSize != 0 || r.ReceiptCount != 0 {
		t.Fatalf("merkle %+v count %d", r.Merkle, r.ReceiptCount)
	}
	if !strings.Contains(r.Errors[0].Message, "blank line (line 1)") {
		t.Fatalf("message %q", r.Errors[0].Message)
	}
	code, _, rss := maxRSS(t, dir)
	t.Logf("8 MiB of newlines: exit %d, peak RSS %.1f MiB", code, float64(rss)/(1<<20))
	if code != exit.Tampered || rss > 100<<20 {
		t.Fatalf("child exit %d, peak RSS %d bytes", code, rss)
	}
}

// verifyOrHang runs Verify with a guard: a reader blocked on a FIFO
// would never return.
func verifyOrHang(t *testing.T, dir string) (*Result, error) {
	t.Helper()
	type out struct {
		r   *Result
		err error
	}
	done := make(chan out, 1)
	go func() { r, err := Verify(dir, Options{Now: verifytest.Now}); done <- out{r, err} }()
	select {
	case o := <-done:
		return o.r, o.err
	case <-time.After(20 * time.Second):
		t.Fatal("verify blocked: it opened a FIFO")
	}
	return nil, nil
}

// A FIFO in place of any pack file is bad input (exit 3), refused without
// opening it for read (which would block).
func TestFIFOInPackIsBadInput(t *testing.T) {
	t.Parallel()
	for _, name := range pack.KernelFiles {
		t.Run(name, func(t *testing.T) {
			dir := buildPack(t, sampleReceipts(), nil)
			p := filepath.Join(dir, name)
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := verifyOrHang(t, dir)
			if exit.Code(err) != exit.BadInput || r != nil {
				t.Fatalf("err %v (code %d), result %+v", err, exit.Code(err), r)
			}
			if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "named pipe") {
				t.Fatalf("message %q", err)
			}
		})
	}
	// A FIFO named only in expected_files is refused too.
	dir := buildPack(t, sampleReceipts(), nil)
	if err := syscall.Mkfifo(filepath.Join(dir, "extra.fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	verifytest.Reseal(dir, testSigner, func(man, _ *canon.Object) {
		exp, _ := man.Get("expected_files")
		man.Set("expected_files", append(exp.([]any), "extra.fifo"))
	})
	if _, err := verifyOrHang(t, dir); exit.Code(err) != exit.BadInput {
		t.Fatalf("FIFO in expected_files: %v", err)
	}
}

// A manifest that is a link out of the pack is never read: bad input, and
// the outside file's content does not appear.
func TestManifestLinkOutIsNotRead(t *testing.T) {
	t.Parallel()
	dir := buildPack(t, sampleReceipts(), nil)
	outside := filepath.Join(t.TempDir(), "secret.json")
	raw, _ := os.ReadFile(filepath.Join(dir, pack.FileManifest))
	os.WriteFile(outside, raw, 0o600)
	os.Remove(filepath.Join(dir, pack.FileManifest))
	if err := os.Symlink(outside, filepath.Join(dir, pack.FileManifest)); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(dir, Options{Now: fixtureNow})
	if exit.Code(err) != exit.BadInput || r != nil || strings.Contains(err.Error(), "pack_id") {
		t.Fatalf("linked manifest: %v %+v", err, r)
	}
	// A link that stays inside the pack is followed, as the reference does.
	dir2 := buildPack(t, sampleReceipts(), nil)
	os.Rename(filepath.Join(dir2, pack.FileTranscript), filepath.Join(dir2, "t.md"))
	os.Symlink("t.md", filepath.Join(dir2, pack.FileTranscript))
	if r, err := Verify(dir2, Options{Now: fixtureNow}); err != nil || r.Integrity != "PASS" {
		t.Fatalf("inside link: %v %+v", err, r)
	}
}
