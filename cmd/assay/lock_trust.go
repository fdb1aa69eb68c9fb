package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/lock"
)

// anySignerWarning is printed (always, whatever --log-level says) when a
// lock is written with signer policy "any" (DECISIONS 20).
const anySignerWarning = "WARNING: signer policy \"any\": verify-pack --lock will accept a pack signed by anyone. Pin signers with --signer FP|ID (or drop --any-signer to pin the active signer)."

// pinnedSigners decides the signer allowlist of a lock being written
// (DECISIONS 20): the --signer values when given; nothing (policy "any")
// only when --any-signer was asked for; otherwise the active signer's
// fingerprint, creating the active key first when there is none, as the
// signing commands do, so the lock pins the key the next pack is signed with.
func pinnedSigners(cmd *cobra.Command, signers []string, anySigner bool) ([]string, error) {
	if anySigner {
		if len(signers) > 0 {
			return nil, exit.Bad("give either --signer (pin these) or --any-signer (pin none)", "--any-signer and --signer contradict each other")
		}
		fmt.Fprintln(cmd.ErrOrStderr(), anySignerWarning)
		return nil, nil
	}
	if len(signers) > 0 {
		return resolveSigners(envOf(cmd), signers)
	}
	ks, _, err := openKeystore(envOf(cmd))
	if err != nil {
		return nil, err
	}
	sg, made, err := ks.ActiveSigner(true)
	if err != nil {
		return nil, err
	}
	fp := keys.Fingerprint(sg.Public())
	if made {
		logOf(cmd).Warn().Msgf("created signing key %s (the active signer; packs are signed with it)", ks.Active())
	}
	logOf(cmd).Info().Msgf("pinning the active signer %s (fingerprint %s)", ks.Active(), fp)
	return []string{fp}, nil
}

// pinSigners applies pinnedSigners to l.
func pinSigners(cmd *cobra.Command, l *lock.Lock, signers []string, anySigner bool) error {
	fps, err := pinnedSigners(cmd, signers, anySigner)
	if err != nil {
		return err
	}
	for _, fp := range fps {
		if err := l.Allow(fp); err != nil {
			return err
		}
	}
	return nil
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
