package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keyops"
)

func init() {
	keySubcommands = append(keySubcommands, newKeyRotateCmd, newKeyExportCmd, newKeyImportCmd, newKeyRevokeCmd)
}

// keyNow is the clock for rotated key ids (tests pin it).
var keyNow = time.Now

func newKeyRotateCmd() *cobra.Command {
	var old, newID, lockPath string
	var setActive, asJSON bool
	c := &cobra.Command{
		Use:   "rotate [--signer OLD] [--new-signer NEW] [--set-active] [--lock assay.lock]",
		Short: "Create a successor key (default id OLD-YYYYMMDDHHMMSS); with --lock pin both fingerprints",
		Long: `rotate generates a new key to replace --signer (default: the active signer).
The old key stays, so packs it signed still verify. With --lock, both the old
and the new fingerprint are added to the lock's allowlist (and the lock
switches to allowlist mode), so packs from either key pass verify-pack --lock
until you revoke the old one with 'assay key revoke OLD --lock'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseEmpty(cmd, "output", "lock", "private", "signer", "new-signer"); err != nil {
				return err
			}
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			r, err := keyops.Rotate(ks, keyops.RotateRequest{Old: old, NewID: newID, SetActive: setActive, LockPath: envOf(cmd).Abs(lockPath), Now: keyNow()})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Rotated %s -> %s\n  new fingerprint: %s\n  active signer:   %s\n", r.OldSigner, r.NewSigner, r.NewFingerprint, r.ActiveSigner)
			if r.Lock != nil {
				fmt.Fprintf(out, "  %s now allows %d signer(s), including %s and %s\n", lockPath, r.Allowed, r.OldFingerprint[:16], r.NewFingerprint[:16])
			}
			if !setActive {
				fmt.Fprintf(out, "Make it the active signer with: assay key set-active %s\n", r.NewSigner)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&old, "signer", "", "key to rotate (default: the active signer)")
	f.StringVar(&newID, "new-signer", "", "id of the new key (default: OLD-YYYYMMDDHHMMSS)")
	f.BoolVar(&setActive, "set-active", false, "make the new key the active signer")
	f.StringVar(&lockPath, "lock", "", "add both fingerprints to this lock file's allowlist")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newKeyExportCmd() *cobra.Command {
	var dir string
	var private, asJSON, secret, force bool
	c := &cobra.Command{
		Use:   "export [SIGNER_ID] [--private] [-o DIR] | export [SIGNER_ID] --secret",
		Short: "Write <id>.pub.b64 and <id>.fingerprint (and, with --private, <id>.key.b64, mode 0600)",
		Long: `export writes the public key (base64) and its fingerprint (hex) as text files,
for verifiers and allowlists. The private key is written only with --private,
to <id>.key.b64 with mode 0600; it is never printed.

--secret prints the private key (base64 seed) to stdout for a CI secret and
writes no file; it refuses a terminal, so pipe it:
  assay key export --secret | gh secret set ASSAY_SIGNING_KEY`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseEmpty(cmd, "output", "lock", "private", "signer", "new-signer"); err != nil {
				return err
			}
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			id := ks.Active()
			if len(args) == 1 {
				id = args[0]
			}
			if secret {
				return exportSecret(cmd, ks, id, private || asJSON || cmd.Flags().Changed("output"))
			}
			dir := envOf(cmd).Abs(dir)
			for _, f := range exportFiles(id, private) {
				if err := refuseOverwrite(filepath.Join(dir, f), force); err != nil {
					return err
				}
			}
			e, err := ks.Export(id, dir, private)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), e)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Exported %s (fingerprint %s)\n  %s\n  %s\n", id, e.Fingerprint, e.PubPath, e.FPPath)
			if e.KeyPath != "" {
				fmt.Fprintf(out, "  %s (PRIVATE KEY, mode 0600: keep it secret)\n", e.KeyPath)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&dir, "output", "o", ".", "directory to write the files into")
	c.Flags().BoolVar(&private, "private", false, "also export the private key (to a 0600 file)")
	c.Flags().BoolVar(&force, "force", false, "replace existing exported files")
	c.Flags().BoolVar(&secret, "secret", false, "print the private key for a CI secret (pipe it; no file is written)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newKeyImportCmd() *cobra.Command {
	var priv, id, privEnv string
	var setActive, asJSON bool
	c := &cobra.Command{
		Use:   "import PUB.b64 [--private KEY.b64] [--signer ID] [--set-active] | import --private-env VAR|--private - [--signer ID] [--set-active]",
		Short: "Import an exported key (public only, or a full key pair)",
		Long: `import adds a key exported with 'assay key export'. The id defaults to the file
name without .pub.b64. A public key alone is stored as <id>.pub: 'key list'
does not show it, but verify-pack uses it for packs that carry no embedded
key. With --private the pair is checked and stored (the seed with mode 0600).

A key secret (the output of 'assay key export --secret') is imported from an
environment variable with --private-env VAR, or from stdin with --private -,
so CI never leaves a key file in the checkout:
  assay key import --private-env ASSAY_SIGNING_KEY --signer ci --set-active`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseEmpty(cmd, "output", "lock", "private", "signer", "new-signer", "private-env"); err != nil {
				return err
			}
			if privEnv != "" || priv == "-" {
				if len(args) > 0 || (privEnv != "" && priv != "") {
					return exit.Bad("give the key secret alone: --private-env VAR or --private -", "a key secret carries its public key; drop the extra argument")
				}
				return importSecret(cmd, id, privEnv, setActive, asJSON)
			}
			if len(args) == 0 {
				return exit.Bad("give the exported PUB.b64 file, or --private-env VAR for a key secret", "key import needs a public key file")
			}
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			r, err := keyops.Import(ks, keyops.ImportRequest{PubPath: envOf(cmd).Abs(args[0]), PrivPath: absUnlessStdin(envOf(cmd), priv), ID: id, SetActive: setActive})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			kind := "public key"
			if r.Private {
				kind = "key pair"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Imported %s %s (fingerprint %s)\n", kind, r.SignerID, r.Fingerprint)
			return nil
		},
	}
	c.Flags().StringVar(&priv, "private", "", "the exported private key file (<id>.key.b64), or - to read a key secret from stdin")
	c.Flags().StringVar(&privEnv, "private-env", "", "read a key secret ('assay key export --secret') from this environment variable")
	c.Flags().StringVar(&id, "signer", "", "signer id to store it under (default: from the file name)")
	c.Flags().BoolVar(&setActive, "set-active", false, "make the imported key the active signer (needs --private)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newKeyRevokeCmd() *cobra.Command {
	var lockPath string
	var del, asJSON bool
	c := &cobra.Command{
		Use:   "revoke SIGNER_ID|FINGERPRINT [--lock assay.lock] [--delete]",
		Short: "Remove a signer from a lock's allowlist and/or delete its key files",
		Long: `revoke takes a signer out of use: --lock removes its fingerprint from the
lock's allowlist (so verify-pack --lock refuses its packs), --delete removes its
key files. There is no revocation list: packs it signed still verify without
--lock. Revoking the last pinned signer leaves an empty allowlist, which
'lock check' reports.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseEmpty(cmd, "output", "lock", "private", "signer", "new-signer"); err != nil {
				return err
			}
			ks, _, err := openKeystore(envOf(cmd))
			if err != nil {
				return err
			}
			r, err := keyops.Revoke(ks, keyops.RevokeRequest{Target: args[0], LockPath: envOf(cmd).Abs(lockPath), Delete: del})
			if err != nil {
				return err
			}
			if r.WasActive {
				logOf(cmd).Warn().Msgf("%s was the active signer: proof-pack and run now sign with %q (choose one with 'assay key set-active ID')", args[0], r.NowActive)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			out := cmd.OutOrStdout()
			if r.RemovedFromLock {
				fmt.Fprintf(out, "Removed %s from the allowlist of %s (%d left)\n", r.Fingerprint[:16], lockPath, r.AllowlistRemaining)
				if r.AllowlistRemaining == 0 {
					logOf(cmd).Warn().Msgf("%s now has an empty allowlist: verify-pack --lock will refuse every pack until you pin a signer", lockPath)
				}
			}
			if del {
				fmt.Fprintf(out, "Deleted the key files of %s\n", args[0])
			}
			return nil
		},
	}
	c.Flags().StringVar(&lockPath, "lock", "", "remove the fingerprint from this lock file's allowlist")
	c.Flags().BoolVar(&del, "delete", false, "delete the signer's key files")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// absUnlessStdin resolves a file argument against the run's working
// directory, leaving "-" (stdin) as it is.
func absUnlessStdin(env *cliEnv, path string) string {
	if path == "-" {
		return path
	}
	return env.Abs(path)
}
