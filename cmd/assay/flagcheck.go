package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
)

// refuseEmpty is bad input for the first of the named string flags that was
// given with an empty value. An empty --lock "$LOCK" in a script must not
// silently drop the gate it asked for, nor an empty -o reach the file system.
func refuseEmpty(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		f := cmd.Flags().Lookup(n)
		if f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
			return exit.Bad("give a value, or leave the flag out", "--%s is empty", n)
		}
	}
	return nil
}
