// Package runner supervises one child process the way `assay run` needs:
// stdio inherited, SIGINT/SIGTERM/SIGHUP/SIGQUIT forwarded to the child,
// and the outcome reported as an exit code (128+signal when the child was
// killed by a signal, as shells do). It never prints.
package runner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Forwarded are the signals passed on to the child while it runs.
var Forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// ErrNotFound is returned (wrapped) when the command cannot be found or is
// not executable; nothing was started.
var ErrNotFound = errors.New("command not found")

// Spec describes the child.
type Spec struct {
	Args   []string // command and arguments; Args[0] is looked up on PATH
	Env    []string // full environment; nil means the parent's
	Dir    string   // working directory; empty means the parent's
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Result is how the child ended.
type Result struct {
	ExitCode int            // exit status, or 128+signal when killed
	Signal   syscall.Signal // the killing signal, 0 when the child exited
	Duration time.Duration
	// Forwarded lists the signals passed on to the child, in order.
	Forwarded []os.Signal
}

// Signaled reports whether the child was killed by a signal.
func (r Result) Signaled() bool { return r.Signal != 0 }

// Resolve finds the executable for args[0] the way the child would be
// started, so callers can refuse a missing command before doing anything
// else. A bare `python` falls back to `python3` when only that exists (the
// reference falls back to its own interpreter). The returned path is what
// Start will execute.
func Resolve(name string, env []string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty command", ErrNotFound)
	}
	path, err := lookPath(name, env)
	if err != nil && name == "python" {
		if p3, err3 := lookPath("python3", env); err3 == nil {
			return p3, nil
		}
	}
	if err != nil {
		// Keep the cause: fs.ErrPermission (not executable, or a
		// directory) reads differently from "no such command".
		return "", fmt.Errorf("%w: %s: %w", ErrNotFound, name, err)
	}
	return path, nil
}

// lookPath is exec.LookPath against the child's PATH (which may differ from
// ours when the caller passes an environment).
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		st, err := os.Stat(name)
		if err != nil {
			return "", err
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fs.ErrPermission
		}
		return name, nil
	}
	pathEnv, ok := envLookup(env, "PATH")
	if !ok {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func envLookup(env []string, key string) (string, bool) {
	if env == nil {
		return os.LookupEnv(key)
	}
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Process is a started child.
type Process struct {
	cmd     *exec.Cmd
	sigs    chan os.Signal
	started time.Time
	done    chan struct{} // closed when the child has been reaped
	exited  chan struct{} // closed when forward has returned
	fwd     []os.Signal   // owned by forward until exited is closed
}

// Start resolves and starts the child with the given stdio and begins
// forwarding signals to it. Wait must be called.
func Start(s Spec) (*Process, error) {
	if len(s.Args) == 0 {
		return nil, fmt.Errorf("%w: no command given", ErrNotFound)
	}
	path, err := Resolve(s.Args[0], s.Env)
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: path, Args: s.Args, Env: s.Env, Dir: s.Dir, Stdin: s.Stdin, Stdout: s.Stdout, Stderr: s.Stderr}
	// Subscribe before starting so a signal arriving between start and
	// subscription cannot kill us and orphan the child.
	p := &Process{cmd: cmd, sigs: make(chan os.Signal, 8), done: make(chan struct{}), exited: make(chan struct{})}
	signal.Notify(p.sigs, Forwarded...)
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		signal.Stop(p.sigs)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: %s: %v", ErrNotFound, s.Args[0], err)
		}
		return nil, fmt.Errorf("start %s: %w", s.Args[0], err)
	}
	go p.forward()
	return p, nil
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

func (p *Process) forward() {
	defer close(p.exited)
	for {
		select {
		case sig := <-p.sigs:
			// Forwarding covers kill(1), CI runners and supervisors that
			// signal only us. A Ctrl-C or Ctrl-\ typed at the terminal
			// already reached the child (it shares our foreground process
			// group); sending it again would interrupt the child's own
			// cleanup, so those are not repeated.
			if (sig == syscall.SIGINT || sig == syscall.SIGQUIT) && inForeground() {
				continue
			}
			_ = p.cmd.Process.Signal(sig)
			p.fwd = append(p.fwd, sig)
		case <-p.done:
			return
		}
	}
}

// inForeground reports whether our process group is the foreground group
// of a controlling terminal, i.e. whether terminal-generated signals reach
// the child without our help.
var inForeground = func() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal (CI, daemons)
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}

// Wait waits for the child to end, stops forwarding and reports how it
// ended. Signals that reached us keep being forwarded until then, so a
// child that handles SIGINT gets to finish its own cleanup.
func (p *Process) Wait() Result {
	err := p.cmd.Wait()
	signal.Stop(p.sigs)
	close(p.done)
	<-p.exited
	res := Result{Duration: time.Since(p.started)}
	st := p.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = ws.Signal()
		res.ExitCode = 128 + int(ws.Signal())
	} else {
		res.ExitCode = st.ExitCode()
		if res.ExitCode < 0 && err != nil {
			res.ExitCode = 1
		}
	}
	res.Forwarded = append([]os.Signal(nil), p.fwd...)
	return res
}

// Run starts the child and waits for it.
func Run(s Spec) (Result, error) {
	p, err := Start(s)
	if err != nil {
		return Result{}, err
	}
	return p.Wait(), nil
}

// WithEnv returns env with the given variables set (replacing any
// inherited value); the set ones come last, sorted, for a stable order.
func WithEnv(env []string, set map[string]string) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}
