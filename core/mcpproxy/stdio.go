package mcpproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/assay-dev/assay/core/runner"
)

// StdioOptions start an MCP server as a child process.
type StdioOptions struct {
	Argv   []string  // the server command and its arguments
	Env    []string  // its environment (nil: ours)
	Dir    string    // its working directory ("" = ours)
	Stderr io.Writer // where its stderr goes (nil: discarded)
	// MaxMessage bounds one line or frame of its output (0:
	// DefaultMaxServerMessage).
	MaxMessage int
}

// StdioUpstream is an MCP server spoken to over its stdin and stdout. It
// runs in its own process group so that the proxy can end it, and whatever
// it started, as a whole.
type StdioUpstream struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	r      *Reader

	done     chan struct{} // closed when the process has been reaped
	waitErr  error
	stopOnce sync.Once
	exit     Exit
	closeIn  sync.Once
	closedAt time.Time // when its stdin was closed
}

// StartStdio starts the server. A command that cannot be found or run is
// an error wrapping runner.ErrNotFound.
func StartStdio(o StdioOptions) (*StdioUpstream, error) {
	if len(o.Argv) == 0 {
		return nil, fmt.Errorf("%w: no server command", runner.ErrNotFound)
	}
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	path, err := runner.Resolve(o.Argv[0], env)
	if err != nil {
		return nil, err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(path, o.Argv[1:]...)
	cmd.Env = env
	cmd.Dir = o.Dir
	cmd.Stdin = inR
	cmd.Stdout = outW
	if o.Stderr != nil {
		cmd.Stderr = o.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild holding a copied stderr must not keep Wait forever.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
		return nil, fmt.Errorf("%w: %s: %w", runner.ErrNotFound, o.Argv[0], err)
	}
	inR.Close()
	outW.Close()
	max := o.MaxMessage
	if max <= 0 {
		max = DefaultMaxServerMessage
	}
	u := &StdioUpstream{cmd: cmd, stdin: inW, stdout: outR, r: NewReaderLimit(outR, max), done: make(chan struct{})}
	go func() {
		u.waitErr = cmd.Wait()
		close(u.done)
	}()
	return u, nil
}

// Transport implements Upstream.
func (u *StdioUpstream) Transport() string { return "stdio" }

// Pid is the server's process id.
func (u *StdioUpstream) Pid() int { return u.cmd.Process.Pid }

// Send writes the message's bytes unchanged.
func (u *StdioUpstream) Send(_ context.Context, m Message) error {
	b := m.Raw
	if len(b) == 0 {
		b = Frame(m.Body, m.Framing)
	}
	_, err := u.stdin.Write(b)
	return err
}

// Recv reads the server's next message from its stdout.
func (u *StdioUpstream) Recv() (Message, error) {
	m, err := u.r.Next()
	if errors.Is(err, os.ErrClosed) {
		// Stop closed the pipe: the end of the server's output.
		err = io.EOF
	}
	return m, err
}

// CloseSend closes the server's stdin: the MCP way to ask a stdio server
// to shut down.
func (u *StdioUpstream) CloseSend() error {
	var err error
	u.closeIn.Do(func() {
		u.closedAt = time.Now()
		err = u.stdin.Close()
	})
	return err
}

// Signal sends sig to the server's process group.
func (u *StdioUpstream) Signal(sig syscall.Signal) {
	select {
	case <-u.done:
		return
	default:
	}
	_ = syscall.Kill(-u.cmd.Process.Pid, sig)
}

// Exited is closed once the server process has ended.
func (u *StdioUpstream) Exited() <-chan struct{} { return u.done }

// termGrace is how long a server gets between SIGTERM and SIGKILL.
const termGrace = 2 * time.Second

// Stop waits up to grace for the server to exit, then sends its process
// group SIGTERM, and SIGKILL termGrace later.
func (u *StdioUpstream) Stop(grace time.Duration) Exit {
	u.stopOnce.Do(func() {
		_ = u.CloseSend()
		killed := false
		var termAt time.Time
		select {
		case <-u.done:
		case <-time.After(grace):
			killed = true
			termAt = time.Now()
			u.Signal(syscall.SIGTERM)
			select {
			case <-u.done:
			case <-time.After(termGrace):
				u.Signal(syscall.SIGKILL)
				<-u.done
			}
		}
		// Whatever is left of the group (a grandchild) goes too.
		_ = syscall.Kill(-u.cmd.Process.Pid, syscall.SIGKILL)
		u.stdout.Close()
		// How long it had since its input closed (the proxy may have
		// waited before calling Stop), not just this call's grace.
		u.exit = exitOf(u.cmd.ProcessState, u.waitErr, killed, termAt.Sub(u.closedAt))
	})
	return u.exit
}

func exitOf(ps *os.ProcessState, waitErr error, killed bool, grace time.Duration) Exit {
	e := Exit{Code: -1, Killed: killed}
	if ps == nil {
		e.Detail = fmt.Sprintf("unknown (%v)", waitErr)
		return e
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Code = 128 + int(ws.Signal())
		e.Detail = "killed by " + ws.Signal().String()
	} else {
		e.Code = ps.ExitCode()
		e.Detail = fmt.Sprintf("exited %d", e.Code)
	}
	if killed {
		e.Detail = fmt.Sprintf("did not exit within %s after its input closed; terminated (%s)", grace.Round(10*time.Millisecond), e.Detail)
	}
	if waitErr != nil && !errors.As(waitErr, new(*exec.ExitError)) && e.Code == 0 {
		e.Detail += fmt.Sprintf(" (%v)", waitErr)
	}
	return e
}
