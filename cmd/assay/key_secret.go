package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/ciinit"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
)

// SecretName is the repository secret the generated CI workflow imports the
// team's signing key from.
const SecretName = ciinit.DefaultSecret

// exportSecret prints signer id's key secret on stdout. A private key is not
// printed to a terminal (where it would end up in scrollback); pipe it into
// the secret store instead.
func exportSecret(cmd *cobra.Command, ks *keys.Store, id string, otherFlags bool) error {
	if otherFlags {
		return exit.Bad("use --secret alone (it writes no file and prints no JSON)", "--secret does not combine with --private, -o or --json")
	}
	out := cmd.OutOrStdout()
	if isTerminal(out) {
		return exit.Bad("pipe it into your secret store: assay key export --secret | gh secret set "+SecretName, "refusing to print a private key to a terminal")
	}
	sec, err := ks.Secret(id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, sec)
	return err
}

// importSecret imports a key secret from the environment variable env, or
// from stdin when env is empty.
func importSecret(cmd *cobra.Command, id, env string, setActive, asJSON bool) error {
	var text, where string
	if env != "" {
		where = "environment variable " + env
		text = envOf(cmd).Getenv(env)
		if text == "" {
			return exit.Bad("set the secret "+env+" (create it with: assay key export --secret | gh secret set "+env+")", "%s is empty or unset", where)
		}
	} else {
		where = "stdin"
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
		if err != nil {
			return exit.Bad("pipe the key secret into it", "cannot read stdin: %v", err)
		}
		text = string(b)
	}
	seed, err := keys.ParseSecret(text, where)
	if err != nil {
		return err
	}
	ks, _, err := openKeystore(envOf(cmd))
	if err != nil {
		return err
	}
	got, err := ks.ImportSeed(id, seed)
	if err != nil {
		return err
	}
	if setActive {
		if err := ks.SetActive(got); err != nil {
			return err
		}
	}
	fp, err := ks.FingerprintOf(got)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(cmd.OutOrStdout(), map[string]any{"signer_id": got, "fingerprint": fp, "private": true, "active": ks.Active() == got})
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Imported key pair %s from %s (fingerprint %s)\n", got, where, fp)
	return nil
}

// exportFiles are the file names 'key export' writes for id.
func exportFiles(id string, private bool) []string {
	fs := []string{id + ".pub.b64", id + ".fingerprint"}
	if private {
		fs = append(fs, id+".key.b64")
	}
	return fs
}
