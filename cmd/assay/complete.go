package main

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/claims"
	"github.com/assay-dev/assay/core/packs"
	"github.com/assay-dev/assay/flows"
)

// Shell completion ('assay completion bash|zsh|fish|powershell') of the
// names a user would otherwise look up: card ids, flow names, signer ids
// and pack directories (found by manifest under the working directory).

func completeCards(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return claims.BuiltinIDs(), cobra.ShellCompDirectiveDefault // card files complete as files
}

func completeCardList(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	// --cards a,b: complete the last element after the commas given.
	prefix := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix = toComplete[:i+1]
	}
	var out []string
	for _, id := range claims.BuiltinIDs() {
		out = append(out, prefix+id)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

func completeFlows(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return flows.Names(), cobra.ShellCompDirectiveNoFileComp
}

func completeSigners(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	ks, _, err := openKeystore(envOf(cmd))
	if err != nil || len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ids, _ := ks.List()
	return ids, cobra.ShellCompDirectiveNoFileComp
}

func completePacks(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	found, err := packs.Find(".")
	if err != nil || len(found) == 0 {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	var out []string
	for _, f := range found {
		out = append(out, filepath.ToSlash(f.Path))
	}
	return out, cobra.ShellCompDirectiveDefault // bundles (.tar.gz) complete as files
}

// registerCompletions attaches the completions to the commands that take
// these names.
func registerCompletions(root *cobra.Command) {
	find := func(path ...string) *cobra.Command {
		c, _, err := root.Find(path)
		if err != nil || c == root {
			return nil
		}
		return c
	}
	args := map[string]cobra.CompletionFunc{
		"cards show":      completeCards,
		"flow":            completeFlows,
		"key set-active":  completeSigners,
		"key info":        completeSigners,
		"key export":      completeSigners,
		"key revoke":      completeSigners,
		"verify-pack":     completePacks,
		"verify-signer":   completePacks,
		"explain":         completePacks,
		"audit bundle":    completePacks,
		"packs show":      completePacks,
		"baseline set":    completePacks,
		"score":           completePacks,
		"incident replay": completePacks,
		"diff":            completePacks,
		"prove":           completePacks,
	}
	for path, fn := range args {
		if c := find(strings.Fields(path)...); c != nil && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = fn
		}
	}
	flagsFn := map[string]map[string]cobra.CompletionFunc{
		"lock write": {"cards": completeCardList, "signer": completeSigners},
		"lock init":  {"signer": completeSigners, "from-pack": completePacks},
		"run":        {"run-card": completeCards},
		"proof-pack": {"run-card": completeCards},
		"ci init":    {"cards": completeCardList},
		"doctor":     {"pack": completePacks},
		"key rotate": {"signer": completeSigners},
	}
	for path, fl := range flagsFn {
		c := find(strings.Fields(path)...)
		if c == nil {
			continue
		}
		for name, fn := range fl {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
	}
}
