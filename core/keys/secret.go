package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"strings"

	"github.com/assay-dev/assay/core/exit"
)

// A key secret is the base64 Ed25519 seed (the content of an exported
// <id>.key.b64), the form a CI secret holds: the pipeline imports it from an
// environment variable or stdin, so no key file is ever left in the checkout.

// Secret returns the base64 seed of signer id.
func (s *Store) Secret(id string) (string, error) {
	sg, err := s.Load(id)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sg.Private.Seed()), nil
}

// ParseSecret decodes a key secret (surrounding whitespace ignored). Errors
// never echo the value: it is a private key. where names its source.
func ParseSecret(text, where string) ([]byte, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, exit.Bad("put the output of 'assay key export --secret' there", "%s is empty", where)
	}
	seed, err := base64.StdEncoding.DecodeString(t)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, exit.Bad("put the output of 'assay key export --secret' there", "%s does not hold a key secret (base64 of a 32-byte Ed25519 seed)", where)
	}
	return seed, nil
}

// ImportSeed stores the key pair of seed under id; an empty id becomes
// "imported-" and the first 12 hex of its fingerprint. Importing the same
// key again is a no-op; a different key under an existing id is refused.
func (s *Store) ImportSeed(id string, seed []byte) (string, error) {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	if id == "" {
		id = "imported-" + Fingerprint(pub)[:12]
	}
	if err := ValidID(id); err != nil {
		return "", err
	}
	if fileExists(s.keyPath(id)) || fileExists(s.pubPath(id)) {
		have, err := s.LoadPublic(id)
		if err == nil && bytes.Equal(have, pub) && fileExists(s.keyPath(id)) {
			return id, nil
		}
		return "", exit.Bad("pick another id with --signer", "signer %q already exists in %s with a different key", id, s.Dir)
	}
	if _, err := s.Write(id, seed); err != nil {
		return "", err
	}
	return id, nil
}
