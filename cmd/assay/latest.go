package main

import (
	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs"
)

// latestArgs accepts one PACK argument, or none with --latest.
func latestArgs(latest *bool) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case *latest && len(args) > 0:
			return exit.Bad("give either PACK or --latest", "--latest picks the pack itself; drop the %q argument", args[0])
		case !*latest && len(args) != 1:
			return exit.Bad("give the pack directory, or --latest for the newest pack here", "%s needs one pack, got %d arguments", cmd.CommandPath(), len(args))
		}
		return nil
	}
}

// packArg is the pack a command works on: its argument, or with latest the
// newest pack under dir (the shared finder, core/packs). info reports the
// choice on stderr.
func packArg(args []string, latest bool, dir string, info func(string, ...any)) (string, error) {
	if !latest {
		return args[0], nil
	}
	if dir == "" {
		return "", exit.Bad("give a directory, e.g. --dir .", "--dir is empty")
	}
	p, err := packs.Latest(dir)
	if err != nil {
		return "", err
	}
	info("--latest: %s", p)
	return p, nil
}
