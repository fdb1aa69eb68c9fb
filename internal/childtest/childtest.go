// Package childtest runs the current test binary again as a child process
// that does one job, so a test can measure that job alone: its output and
// its peak resident memory, which an in-process test cannot separate from
// the rest of the suite.
//
//	func TestMain(m *testing.M) {
//		childtest.Main(envName, func(arg string) int { ...; return 0 })
//		os.Exit(m.Run())
//	}
//
// and in a test: out, peakMB := childtest.Run(t, envName, arg, dir, env...).
//
// The peak is the child's own (VmHWM of its address space, which the child
// reports when its job is done), not rusage's maxrss: on Linux a child
// started by os/exec (clone with CLONE_VM, then execve) carries the
// parent's high-water mark into its maxrss, so a test process that holds
// a lot at the time would be counted as the child's.
package childtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// peakPrefix starts the stderr line the child reports its peak on.
const peakPrefix = "childtest: VmHWM kB "

// Main runs job(arg) and exits with its code when the variable name is
// set to arg (this process is a child); otherwise it returns.
func Main(name string, job func(arg string) int) {
	if arg := os.Getenv(name); arg != "" {
		code := job(arg)
		fmt.Fprintf(os.Stderr, "\n%s%d\n", peakPrefix, vmHWM())
		os.Exit(code)
	}
}

// vmHWM is this process's peak resident set in kB (0 when unknown).
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// Run starts this test binary as a child with name=arg, in dir ("": the
// current directory), with env and PATH as its only other variables (the
// configuration is explicit), runs no tests in it, and returns its stdout
// and its peak resident memory in MB. A child that fails, or does not
// report its peak, fails the test.
func Run(t testing.TB, name, arg, dir string, env ...string) ([]byte, float64) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), name + "=" + arg}, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\nstdout %s\nstderr %s", err, out, stderr.String())
	}
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), peakPrefix); ok {
			if kb, err := strconv.ParseInt(v, 10, 64); err == nil && kb > 0 {
				return out, float64(kb) / 1024
			}
		}
	}
	t.Fatalf("the child reported no peak memory\nstderr %s", stderr.String())
	return nil, 0
}
