package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/packs"
)

func init() { commands = append(commands, newBaselineCmd) }

func newBaselineCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "baseline",
		Short:   "Set or show the baseline pack that 'diff --against-previous' compares with",
		GroupID: "standards",
		Long: `The baseline is recorded in .assay/baseline.json ({"pack_path": ...}) in the
working directory, as the reference does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit.Bad("use 'assay baseline set PACK' or 'assay baseline get'", "baseline needs a subcommand")
		},
	}
	var asJSON bool
	set := &cobra.Command{
		Use:   "set PACK",
		Short: "Record PACK as the baseline",
		Args:  exactArgs(1, "give the pack directory"),
		RunE:  func(cmd *cobra.Command, args []string) error { return setBaseline(cmd, args[0], asJSON) },
	}
	get := &cobra.Command{
		Use:   "get",
		Short: "Show the baseline pack",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wd, err := envOf(cmd).Wd()
			if err != nil {
				return exit.Bad("", "cannot read the working directory: %v", err)
			}
			b, err := packs.GetBaseline(wd)
			if err != nil {
				return err
			}
			exists := packs.IsPack(b.PackPath)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"pack_path": b.PackPath, "baseline_file": packs.BaselinePath(wd), "exists": exists})
			}
			fmt.Fprintln(cmd.OutOrStdout(), b.PackPath)
			if !exists {
				logOf(cmd).Warn().Msgf("the baseline %s is no longer a pack directory", b.PackPath)
			}
			return nil
		},
	}
	for _, s := range []*cobra.Command{set, get} {
		s.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		c.AddCommand(s)
	}
	return c
}

// setBaseline records pack as the baseline of the working directory
// (`baseline set` and `packs pin-baseline`).
func setBaseline(cmd *cobra.Command, pack string, asJSON bool) error {
	wd, err := envOf(cmd).Wd()
	if err != nil {
		return exit.Bad("", "cannot read the working directory: %v", err)
	}
	b, err := packs.SetBaseline(wd, pack)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(cmd.OutOrStdout(), map[string]any{"pack_path": b.PackPath, "baseline_file": packs.BaselinePath(wd)})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "baseline set: %s\n  (recorded in %s)\n", b.PackPath, packs.BaselineFile)
	return nil
}
