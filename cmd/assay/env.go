package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/store"
)

// cliEnv is everything the CLI takes from its process: the environment
// variables and the working directory. main resolves it once
// (processEnv); commands read it from their context (envOf), never from
// os.Getenv or os.Getwd, so a test states its environment and runs in
// parallel with the others.
type cliEnv struct {
	// Vars is the environment as KEY=VALUE lines (os.Environ's form); a
	// child process inherits exactly these, plus what the command sets.
	Vars []string
	// Dir is the working directory: where default outputs go, what a
	// child process starts in and what a baseline belongs to. "" means the
	// process's own. Path arguments are taken as given: a caller with a Dir
	// passes absolute ones.
	Dir string
}

// processEnv is the environment of this process, read once at the edge.
// Dir stays "": relative paths keep meaning what the user typed (and read
// back the same in messages).
func processEnv() *cliEnv { return &cliEnv{Vars: os.Environ()} }

// Getenv returns the value of key ("" when unset); the last definition wins,
// as in a process environment built by appending.
func (e *cliEnv) Getenv(key string) string {
	v, _ := e.Lookup(key)
	return v
}

// Lookup reports the value of key and whether it is set.
func (e *cliEnv) Lookup(key string) (string, bool) {
	for i := len(e.Vars) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e.Vars[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Home is the assay home this environment names ($ASSAY_HOME, else
// $HOME/.assay).
func (e *cliEnv) Home() (string, error) { return store.HomeFrom(e.Getenv) }

// OpenStore opens the trace store at Home.
func (e *cliEnv) OpenStore() (*store.Store, error) { return store.OpenFrom(e.Getenv) }

// Wd returns the working directory.
func (e *cliEnv) Wd() (string, error) {
	if e.Dir != "" {
		return e.Dir, nil
	}
	return os.Getwd()
}

// Abs resolves path against the working directory.
func (e *cliEnv) Abs(path string) string {
	if path == "" || filepath.IsAbs(path) || e.Dir == "" {
		return path
	}
	return filepath.Join(e.Dir, path)
}

// invocation is one run of the CLI: its environment and its logger (set by
// the root's --log-level), carried in the command's context so that two
// runs in one process (tests) never share either.
type invocation struct {
	env *cliEnv
	log zerolog.Logger
}

type invocationKey struct{}

func withInvocation(ctx context.Context, inv *invocation) context.Context {
	return context.WithValue(ctx, invocationKey{}, inv)
}

// invocationOf returns the run cmd belongs to; a command executed outside
// run (none in the CLI) gets the process's environment.
func invocationOf(cmd *cobra.Command) *invocation {
	if cmd != nil && cmd.Context() != nil {
		if inv, ok := cmd.Context().Value(invocationKey{}).(*invocation); ok {
			return inv
		}
	}
	return &invocation{env: processEnv(), log: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)}
}

// envOf returns the environment of the run cmd belongs to.
func envOf(cmd *cobra.Command) *cliEnv { return invocationOf(cmd).env }

// logOf returns the logger of the run cmd belongs to (stderr only).
func logOf(cmd *cobra.Command) *zerolog.Logger { return &invocationOf(cmd).log }
