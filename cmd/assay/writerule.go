package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

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

// confirm asks question on stderr and reads the answer from stdin; only
// "y" or "yes" consents (an empty or closed stdin declines).
func confirm(cmd *cobra.Command, question string) bool {
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// declined is the outcome of a declined prompt: exit 1 (nothing done, not
// bad input) with a line saying nothing was changed.
func declined(fix string) error {
	return exit.New(exit.HonestFail, fix, "declined: nothing was changed")
}
