package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/keyops"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

// anySignerWarning is printed (always, whatever --log-level says) when a
// lock is written with signer policy "any" (DECISIONS 20).
const anySignerWarning = "WARNING: signer policy \"any\": verify-pack --lock will accept a pack signed by anyone. Pin signers with --signer FP|ID (or drop --any-signer to pin the active signer)."

// pinSigners pins the signers of a lock being written (keyops.PinSigners)
// and says what it did: the "any" warning always, a created key as a
// warning.
func pinSigners(cmd *cobra.Command, l *lock.Lock, signers []string, anySigner bool) error {
	open := func() (*keys.Store, error) { ks, _, err := openKeystore(envOf(cmd)); return ks, err }
	p, err := keyops.PinSigners(open, signers, anySigner)
	if err != nil {
		return err
	}
	switch {
	case p.Any:
		fmt.Fprintln(cmd.ErrOrStderr(), anySignerWarning)
	case p.Active != "":
		if p.Created {
			logOf(cmd).Warn().Msgf("created signing key %s (the active signer; packs are signed with it)", p.Active)
		}
		logOf(cmd).Info().Msgf("pinning the active signer %s (fingerprint %s)", p.Active, p.Fingerprints[0])
	}
	return p.Apply(l)
}

// lockWarnings are what 'lock check' flags on a valid lock: a signer policy
// of "any" accepts a pack signed by anyone.
func lockWarnings(l *lock.Lock) []string {
	w := []string{}
	if l.SignerPolicy.Mode == lock.ModeAny {
		w = append(w, `signer policy "any": verify-pack --lock accepts a pack signed by anyone; pin the active signer with 'assay lock write --cards ... --force' or 'assay key rotate --lock'`)
	}
	return w
}
