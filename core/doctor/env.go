package doctor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/version"
)

// env is what the probes read, resolved once per run.
type env struct {
	o       Options
	dir     string
	lock    string
	lockSet bool // --lock given
	// cards lists the built-in card ids CARD_001 loads (a test seam).
	cards func() []string
	// cached lock document
	lockDoc    map[string]any
	lockErr    error
	lockLoaded bool
}

func newEnv(o Options) (*env, error) {
	e := &env{o: o, cards: claims.BuiltinIDs}
	if e.o.Getenv == nil {
		e.o.Getenv = os.Getenv
	}
	if e.o.Dial == nil {
		e.o.Dial = defaultDial
	}
	if e.o.LookPath == nil {
		e.o.LookPath = exec.LookPath
	}
	if e.o.Version == "" {
		e.o.Version = version.Version
	}
	if e.o.WriteLock == nil {
		home := o.Home
		e.o.WriteLock = func(path string) error { return WritePinnedLock(path, home) }
	}
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	e.dir = abs
	e.lock, e.lockSet = o.Lock, o.Lock != ""
	if !e.lockSet {
		e.lock = filepath.Join(abs, ciinit.DefaultLock)
	}
	return e, nil
}

func (e *env) reset() { e.lockDoc, e.lockErr, e.lockLoaded = nil, nil, false }

// rel shows a path relative to the project when it is inside it.
func (e *env) rel(p string) string {
	if r, err := filepath.Rel(e.dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// Helpers shared by the probes.

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// shq quotes a path for a copy-pasteable fix command.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%~", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
