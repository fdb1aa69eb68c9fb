package flows

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// TailBytes is how much of a step's stdout and stderr an outcome keeps.
const TailBytes = 4096

// RunResult is what a Runner reports for one command.
type RunResult struct {
	ExitCode int
	Stdout   string // tail
	Stderr   string // tail
	// Err is set when the command could not be started at all (not found,
	// not executable); ExitCode is then 127.
	Err error
}

// Runner executes one command as argv in dir. argv[0] may be AssayArg0.
type Runner interface {
	Run(ctx context.Context, dir string, argv []string) RunResult
}

// ExecRunner runs steps as child processes, without a shell.
type ExecRunner struct {
	// Assay is the assay binary that replaces argv[0] "assay"; empty means
	// $ASSAY_BIN of Env (of this process when Env is nil), else this
	// executable.
	Assay string
	// Env is the child's environment; nil means the current one.
	Env []string
	// Stream, when set, receives the child's stdout and stderr as they are
	// written (the tails are kept either way).
	Stream io.Writer
}

// EnvAssayBin names the variable that overrides the assay binary steps run.
const EnvAssayBin = "ASSAY_BIN"

// AssayBinary is the binary that steps calling "assay" run: $ASSAY_BIN, else
// this executable. It reads the process environment: AssayBinaryIn takes
// the environment from its caller.
func AssayBinary() string { return AssayBinaryIn(os.Environ()) }

// AssayBinaryIn is AssayBinary for the environment env (KEY=VALUE lines).
func AssayBinaryIn(env []string) string {
	if b := lookupEnv(env, EnvAssayBin); b != "" {
		return b
	}
	if exe, err := os.Executable(); err == nil {
		return exe
	}
	return AssayArg0
}

// Run implements Runner.
func (r *ExecRunner) Run(ctx context.Context, dir string, argv []string) RunResult {
	if len(argv) == 0 {
		return RunResult{ExitCode: 127, Err: errors.New("empty command")}
	}
	name := argv[0]
	if name == AssayArg0 {
		name = r.Assay
		if name == "" {
			env := r.Env
			if env == nil {
				env = os.Environ()
			}
			name = AssayBinaryIn(env)
		}
	}
	cmd := exec.CommandContext(ctx, name, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = r.Env
	cmd.Stdin = nil // steps never read our stdin (an agent's protocol stream may be on it)
	var out, errb tail
	var sw io.Writer = io.Discard
	if r.Stream != nil {
		sw = &lockedWriter{w: r.Stream}
	}
	cmd.Stdout = io.MultiWriter(&out, sw)
	cmd.Stderr = io.MultiWriter(&errb, sw)
	// On cancellation ask the step to stop (assay run then still builds its
	// pack from what was recorded); kill it only if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res := RunResult{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode = 128 + int(ws.Signal()) // the shell's convention
			res.Err = err
		}
	default:
		res.ExitCode, res.Err = 127, err
	}
	return res
}

// Outcome is the result of applying a plan.
type Outcome struct {
	Flow   string        `json:"flow"`
	Dir    string        `json:"dir"`
	Status string        `json:"status"` // ok or failed
	Steps  []StepOutcome `json:"steps"`
	// FailedStep is the 1-based number of the step that failed, 0 if none.
	FailedStep int `json:"failed_step,omitempty"`
	// FailedCommand and FailedExitCode repeat the failing step's command and
	// exit code so a reader does not have to search for them.
	FailedCommand  string `json:"failed_command,omitempty"`
	FailedExitCode *int   `json:"failed_exit_code,omitempty"`
	// Blocked says why nothing ran: the plan still had a placeholder.
	Blocked string `json:"blocked,omitempty"`
}

// StepOutcome is one step's result.
type StepOutcome struct {
	Number     int      `json:"step"`
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Command    string   `json:"command"`
	Argv       []string `json:"argv"`
	Status     string   `json:"status"`
	ExitCode   *int     `json:"exit_code,omitempty"`
	OKCodes    []int    `json:"ok_codes"`
	DurationMS float64  `json:"duration_ms"`
	SkipReason string   `json:"skip_reason,omitempty"`
	StdoutTail string   `json:"stdout_tail,omitempty"`
	StderrTail string   `json:"stderr_tail,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// Apply runs plan's steps in order in plan.Dir and stops at the first step
// whose exit code is not accepted; later steps are reported as not_run.
// Skip rules are evaluated again just before each step, because earlier
// steps change the directory. A cancelled ctx fails the running step.
func Apply(ctx context.Context, plan *Plan, r Runner) *Outcome {
	out := &Outcome{Flow: plan.Flow, Dir: plan.Dir, Status: StatusOK}
	if plan.Blocked != "" {
		// A placeholder plan runs nothing: every step is not_run.
		out.Status, out.Blocked = StatusFailed, plan.Blocked+" ("+plan.BlockedFix+")"
		for _, ps := range plan.Steps {
			out.Steps = append(out.Steps, StepOutcome{Number: ps.Number, ID: ps.ID, Title: ps.Title, Command: ps.Command, Argv: ps.Argv, OKCodes: ps.OKCodes, Status: StatusNotRun})
		}
		return out
	}
	for _, ps := range plan.Steps {
		so := StepOutcome{Number: ps.Number, ID: ps.ID, Title: ps.Title, Command: ps.Command, Argv: ps.Argv, OKCodes: ps.OKCodes}
		switch {
		case out.FailedStep != 0:
			so.Status = StatusNotRun
		case ps.PrintOnly:
			so.Status = StatusPrintOnly
		default:
			if ps.skip != nil {
				if why, ok := ps.skip(plan.Dir); ok {
					so.Status, so.SkipReason = StatusSkipped, why
					break
				}
			}
			start := time.Now()
			res := r.Run(ctx, plan.Dir, ps.Argv)
			so.DurationMS = float64(time.Since(start).Microseconds()) / 1000
			code := res.ExitCode
			so.ExitCode = &code
			so.StdoutTail, so.StderrTail = res.Stdout, res.Stderr
			if res.Err != nil {
				so.Error = res.Err.Error()
			}
			if res.Err == nil && slices.Contains(ps.OKCodes, code) {
				so.Status = StatusOK
			} else {
				so.Status = StatusFailed
				out.Status = StatusFailed
				out.FailedStep, out.FailedCommand, out.FailedExitCode = ps.Number, ps.Command, &code
			}
		}
		out.Steps = append(out.Steps, so)
	}
	return out
}

// tail keeps the last TailBytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*TailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-TailBytes:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > TailBytes {
		b = b[len(b)-TailBytes:]
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Executes reports whether applying the plan would run any command (some
// step is planned, not skipped or print-only). Callers that gate execution
// (the MCP server without --allow-exec) check this before Apply.
func (p *Plan) Executes() bool {
	for _, s := range p.Steps {
		if s.Status == StatusPlanned {
			return true
		}
	}
	return false
}

// ExitCode is the exit code of an applied flow: 0 when every step passed,
// 1 when one failed (the step's own code is in FailedExitCode).
func (o *Outcome) ExitCode() int {
	if o.Status == StatusOK {
		return 0
	}
	return 1
}

// lookupEnv returns the last value of key in env ("" when unset).
func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}
