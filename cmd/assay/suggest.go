package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/assay-dev/assay/core/suggest"
	"github.com/assay-dev/assay/internal/lazyre"
)

var (
	unknownCommand = lazyre.New(`^unknown command "([^"]*)"`)
	unknownFlag    = lazyre.New(`^unknown flag: --([^\s=]+)`)
)

// commandSuggestion is "did you mean X? " for a mistyped subcommand of cmd.
func commandSuggestion(cmd *cobra.Command, msg string) string {
	m := unknownCommand().FindStringSubmatch(msg)
	if m == nil || cmd == nil {
		return ""
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return suggest.Hint(m[1], names)
}

// flagSuggestion is "did you mean --X? " for a mistyped long flag of cmd.
func flagSuggestion(cmd *cobra.Command, msg string) string {
	m := unknownFlag().FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	var names []string
	add := func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	if h := suggest.Hint(m[1], names); h != "" {
		return strings.Replace(h, "mean ", "mean --", 1)
	}
	return ""
}
