// Package lazyre compiles a package-level regular expression on first use
// rather than at package init: every assay command links most packages,
// and compiling all their patterns at start-up cost each run milliseconds
// for patterns it never uses.
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function that compiles expr on its first call (panicking,
// like regexp.MustCompile, if expr is invalid) and returns the same
// *regexp.Regexp on every call, from any goroutine.
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
