package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/doctor"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/runner"
)

// doctorFlags are shared by `assay doctor` and `assay ci doctor`.
type doctorFlags struct {
	profile, pack, lock string
	strict, fix, asJSON bool
	only                []string
}

func (f *doctorFlags) register(c *cobra.Command, withProfile bool) {
	if withProfile {
		c.Flags().StringVar(&f.profile, "profile", doctor.ProfileLocal, "check set: local, ci or release")
	}
	c.Flags().StringVar(&f.pack, "pack", "", "pack directory to check (default: the newest proof_pack_* here)")
	c.Flags().StringVar(&f.lock, "lock", "", "lock file to check (default: assay.lock)")
	c.Flags().BoolVar(&f.strict, "strict", false, "warnings fail too (exit 1)")
	c.Flags().BoolVar(&f.fix, "fix", false, "apply the safe fixes (create the home and the key, write a missing lock), then check again")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print one JSON document")
	c.Flags().StringArrayVar(&f.only, "check", nil, "run only this check id (repeatable)")
}

func (f *doctorFlags) run(cmd *cobra.Command) error {
	env := envOf(cmd)
	home, err := env.Home()
	if err != nil {
		return err
	}
	r, err := doctor.Run(doctor.Options{Profile: f.profile, Home: home, Pack: f.pack, Lock: f.lock,
		Strict: f.strict, Fix: f.fix, Only: f.only, Dir: env.Dir, Getenv: env.Getenv,
		LookPath: func(name string) (string, error) { return runner.Resolve(name, env.Vars) }})
	if err != nil {
		return err
	}
	if f.asJSON {
		if err := writeJSON(cmd.OutOrStdout(), r); err != nil {
			return err
		}
	} else {
		renderDoctor(cmd.OutOrStdout(), r)
	}
	if r.ExitCode != 0 {
		return exit.Silent{Code: r.ExitCode}
	}
	return nil
}

func renderDoctor(w io.Writer, r *doctor.Report) {
	st := newStyle(w)
	label := map[string]string{doctor.Pass: st.Green("PASS"), doctor.Warn: st.Yellow("WARN"), doctor.Fail: st.Red("FAIL"), doctor.Skip: st.Dim("SKIP")}
	fmt.Fprintf(w, "assay doctor (profile %s, assay %s)\n", r.Profile, r.Version)
	for _, f := range r.Fixed {
		if f.Applied {
			fmt.Fprintf(w, "  FIXED %s: %s\n", f.ID, f.Detail)
		} else {
			fmt.Fprintf(w, "  NOT FIXED %s: %s\n", f.ID, f.Detail)
		}
	}
	for _, c := range r.Probes {
		fmt.Fprintf(w, "  %s  %-19s %s\n", label[c.Status], c.ID, c.Message)
		if c.Fix != "" && (c.Status == doctor.Fail || c.Status == doctor.Warn) {
			auto := ""
			if c.Fixable {
				auto = "   (assay doctor --fix does this)"
			}
			fmt.Fprintf(w, "        Fix: %s%s\n", c.Fix, auto)
		}
	}
	var parts []string
	for _, s := range []string{doctor.Pass, doctor.Warn, doctor.Fail, doctor.Skip} {
		parts = append(parts, fmt.Sprintf("%d %s", r.Summary[s], s))
	}
	fmt.Fprintf(w, "\n%s\n", strings.Join(parts, ", "))
	if r.NextCommand != "" {
		fmt.Fprintf(w, "Next: %s\n", r.NextCommand)
	}
}

func init() {
	commands = append(commands, func() *cobra.Command {
		var f doctorFlags
		c := &cobra.Command{
			Use:   "doctor",
			Short: "Check this machine and project are ready to record and verify evidence",
			Long: `Runs offline preflight checks and prints, for each, its id, status, what is
wrong and the exact command that fixes it. Profiles: local (default: home,
key, cards, newest pack, gateway env, MCP client config), ci (adds the lock
and the GitHub workflow), release (home, key, cards, lock). A --lock or
--pack given explicitly is checked whatever the profile.

--fix applies the safe fixes (create the assay home and the signing key,
write a missing assay.lock) and checks again.

Exit codes: 0 no check failed, 1 a check failed (or warned, with --strict),
3 bad input (unknown profile or check id).`,
			GroupID: "setup",
			Args:    cobra.NoArgs,
			RunE:    func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
		}
		f.register(c, true)
		return c
	})
}
