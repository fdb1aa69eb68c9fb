// Package childtest runs the current test binary again as a child process
// that does one job, so a test can measure that job alone: its output and
// its peak resident memory (rusage maxrss), which an in-process test
// cannot separate from the rest of the suite.
//
//	func TestMain(m *testing.M) {
//		childtest.Main(envName, func(arg string) int { ...; return 0 })
//		os.Exit(m.Run())
//	}
//
// and in a test: out, peakMB := childtest.Run(t, envName, arg, dir, env).
package childtest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Main runs job(arg) and exits with its code when the variable name is
// set to arg (this process is a child); otherwise it returns.
func Main(name string, job func(arg string) int) {
	if arg := os.Getenv(name); arg != "" {
		os.Exit(job(arg))
	}
}

// Run starts this test binary as a child with name=arg, in dir ("": the
// current directory), with env and PATH as its only other variables (the
// configuration is explicit), runs no tests in it, and returns its stdout
// and peak resident memory in MB. A child that fails fails the test.
func Run(t testing.TB, name, arg, dir string, env ...string) ([]byte, float64) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), name + "=" + arg}, env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("child: %v\nstdout %s\nstderr %s", err, out, stderr)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return out, float64(ru.Maxrss) / 1024 // Linux reports KiB
}
