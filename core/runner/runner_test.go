package runner

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		script string
		code   int
		sig    syscall.Signal
	}{
		{"clean", "exit 0", 0, 0},
		{"failing", "exit 7", 7, 0},
		{"sigkill", "kill -KILL $$", 128 + 9, syscall.SIGKILL},
		{"sigterm", "kill -TERM $$", 128 + 15, syscall.SIGTERM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Run(Spec{Args: []string{"sh", "-c", c.script}})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != c.code || res.Signal != c.sig || res.Signaled() != (c.sig != 0) {
				t.Fatalf("got code %d signal %v, want %d %v", res.ExitCode, res.Signal, c.code, c.sig)
			}
		})
	}
}

func TestInheritsStdioAndEnv(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	res, err := Run(Spec{
		Args:   []string{"sh", "-c", `read line; echo "got:$line:$ASSAY_X"; echo err >&2`},
		Env:    append(os.Environ(), "ASSAY_X=42"),
		Stdin:  strings.NewReader("hello\n"),
		Stdout: &out,
		Stderr: io.Discard,
	})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("res %+v err %v", res, err)
	}
	if out.String() != "got:hello:42\n" {
		t.Fatalf("stdout %q", out.String())
	}
}

// notForeground pretends we are not a terminal's foreground group (as
// under CI or a supervisor), whatever terminal the tests run in.
func notForeground(t *testing.T) {
	old := inForeground
	inForeground = func() bool { return false }
	t.Cleanup(func() { inForeground = old })
}

func TestForwardsSignals(t *testing.T) {
	notForeground(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			pr, pw := io.Pipe()
			p, err := Start(Spec{
				// The child traps the signal and exits 42 only if it arrives.
				Args:   []string{"sh", "-c", `trap 'exit 42' INT TERM HUP; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 5`},
				Stdout: pw,
			})
			if err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(pr).ReadString('\n')
			if line != "ready\n" {
				t.Fatalf("child said %q", line)
			}
			go io.Copy(io.Discard, pr)
			// Signal ourselves: the runner catches it and passes it on.
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			res := p.Wait()
			pw.Close()
			if res.ExitCode != 42 {
				t.Fatalf("child exit %d, want 42 (signal not forwarded)", res.ExitCode)
			}
			if len(res.Forwarded) != 1 || res.Forwarded[0] != sig {
				t.Fatalf("forwarded %v", res.Forwarded)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"assay-no-such-command-xyz", "./no/such/file", ""} {
		_, err := Run(Spec{Args: []string{name}})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("%q: err %v, want ErrNotFound", name, err)
		}
	}
	// A file that exists but is not executable is not a command either.
	f := filepath.Join(t.TempDir(), "script.sh")
	os.WriteFile(f, []byte("echo hi\n"), 0o644)
	if _, err := Resolve(f, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("non-executable: %v", err)
	}
	if _, err := Run(Spec{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no args: %v", err)
	}
}

func TestPythonFallsBackToPython3(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	py3 := filepath.Join(dir, "python3")
	os.WriteFile(py3, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	env := []string{"PATH=" + dir}
	got, err := Resolve("python", env)
	if err != nil || got != py3 {
		t.Fatalf("Resolve(python) = %q, %v; want %q", got, err, py3)
	}
	if _, err := Resolve("python2", env); !errors.Is(err, ErrNotFound) {
		t.Fatalf("python2 resolved: %v", err)
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	res, err := Run(Spec{Args: []string{"sh", "-c", "sleep 0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duration < 100*time.Millisecond {
		t.Fatalf("duration %v", res.Duration)
	}
}

// In a terminal's foreground group a typed Ctrl-C reaches the child by
// itself, so SIGINT is not sent a second time; SIGTERM still is.
func TestTerminalSignalsNotRepeated(t *testing.T) {
	old := inForeground
	inForeground = func() bool { return true }
	t.Cleanup(func() { inForeground = old })
	pr, pw := io.Pipe()
	p, err := Start(Spec{
		Args:   []string{"sh", "-c", `trap 'echo int' INT; trap 'exit 43' TERM; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 5`},
		Stdout: pw,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(pr)
	if line, _ := r.ReadString('\n'); line != "ready\n" {
		t.Fatalf("child said %q", line)
	}
	rest := make(chan string)
	go func() { b, _ := io.ReadAll(r); rest <- string(b) }()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	time.Sleep(150 * time.Millisecond) // the child would have trapped it by now
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	res := p.Wait()
	pw.Close()
	if out := <-rest; res.ExitCode != 43 || out != "" || len(res.Forwarded) != 1 || res.Forwarded[0] != syscall.SIGTERM {
		t.Fatalf("exit %d, output %q, forwarded %v", res.ExitCode, out, res.Forwarded)
	}
}
