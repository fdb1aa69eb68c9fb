package main

import (
	"os"

	"github.com/assay-dev/assay/core/exit"
)

// The one rule for commands that write files (README, "Files, prompts and
// exit codes"): an existing output is replaced only with --force; --json
// never stands in for --yes; a declined prompt changes nothing and exits
// non-zero saying so.

// refuseOverwrite is bad input (exit 3) when path exists and force is not
// set. It runs before anything is written, so nothing has changed.
func refuseOverwrite(path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return exit.Bad("pass --force to replace it, or -o another file", "%s already exists; nothing was changed", path)
	}
	return nil
}
