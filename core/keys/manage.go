package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// Key management beyond generate/list: rotate, export, import and revoke
// (pack-format.md §9.2). Private key bytes are only ever written to 0600
// files, never returned in texts.

// RotatedID is the reference's default id for a rotated key:
// <old>-YYYYMMDDHHMMSS (UTC).
func RotatedID(old string, at time.Time) string {
	return old + "-" + at.UTC().Format("20060102150405")
}

// Rotate creates a new key to replace old (which must exist and stays in
// the keystore: packs it signed still verify). newID defaults to
// RotatedID(old, now).
func (s *Store) Rotate(old, newID string, now time.Time) (*Signer, error) {
	if err := ValidID(old); err != nil {
		return nil, err
	}
	if !s.Exists(old) {
		return nil, exit.Bad("list keys with 'assay key list'", "no signer %q to rotate in %s", old, s.Dir)
	}
	if newID == "" {
		newID = RotatedID(old, now)
	}
	if newID == old {
		return nil, exit.Bad("give --new-signer a different id", "the new signer id is the old one (%q)", old)
	}
	return s.Generate(newID)
}

// Fingerprint of a signer in the keystore, from its .pub file (or its .key
// when only that exists).
func (s *Store) FingerprintOf(id string) (string, error) {
	if err := ValidID(id); err != nil {
		return "", err
	}
	if pub, err := s.LoadPublic(id); err == nil {
		return Fingerprint(pub), nil
	}
	sg, err := s.Load(id)
	if err != nil {
		return "", err
	}
	return Fingerprint(sg.Public()), nil
}

// Exported names the files Export wrote.
type Exported struct {
	SignerID    string `json:"signer_id"`
	Fingerprint string `json:"fingerprint"`
	PubPath     string `json:"pub_b64_path"`
	FPPath      string `json:"fingerprint_path"`
	KeyPath     string `json:"key_b64_path,omitempty"`
}

// Export writes <id>.pub.b64 and <id>.fingerprint into dir and, with
// private, <id>.key.b64 (the base64 seed, mode 0600). Each file is the text
// plus "\n".
func (s *Store) Export(id, dir string, private bool) (*Exported, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	pub, err := s.LoadPublic(id)
	if err != nil {
		if !private || !fileExists(s.keyPath(id)) {
			return nil, exit.Bad("list keys with 'assay key list'", "no public key for signer %q in %s", id, s.Dir)
		}
	}
	var seed []byte
	if private {
		sg, err := s.Load(id)
		if err != nil {
			return nil, err
		}
		seed = sg.Private.Seed()
		if pub == nil {
			pub = sg.Public()
		} else if !bytes.Equal(pub, sg.Public()) {
			return nil, exit.Bad("regenerate or re-import the key pair", "signer %q: .pub does not match .key", id)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, exit.Bad("give a writable directory with -o", "cannot create %s: %v", dir, unwrapPath(err))
	}
	e := &Exported{SignerID: id, Fingerprint: Fingerprint(pub),
		PubPath: filepath.Join(dir, id+".pub.b64"), FPPath: filepath.Join(dir, id+".fingerprint")}
	if err := writeText(e.PubPath, PubB64(pub), 0o644); err != nil {
		return nil, err
	}
	if err := writeText(e.FPPath, e.Fingerprint, 0o644); err != nil {
		return nil, err
	}
	if private {
		e.KeyPath = filepath.Join(dir, id+".key.b64")
		if err := writeText(e.KeyPath, base64.StdEncoding.EncodeToString(seed), 0o600); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func writeText(path, text string, perm os.FileMode) error {
	if err := fsutil.WriteFileAtomic(path, []byte(text+"\n"), perm); err != nil {
		return exit.Bad("give a writable directory with -o", "cannot write %s: %v", path, unwrapPath(err))
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ImportID is the default id for an imported public key file: its name
// without .pub.b64 (or without its extension).
func ImportID(pubPath string) string {
	base := filepath.Base(pubPath)
	if id, ok := strings.CutSuffix(base, ".pub.b64"); ok {
		return id
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// readB64File reads a base64 text file of want raw bytes. It never echoes
// the content in errors (it may be a private key).
func readB64File(path, what string, want int) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, exit.Bad("check the path", "cannot read %s file %s: %v", what, path, unwrapPath(err))
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, exit.Bad("export keys with 'assay key export'", "%s file %s is not base64", what, path)
	}
	if len(raw) != want {
		return nil, exit.Bad("export keys with 'assay key export'", "%s file %s holds %d bytes, want %d", what, path, len(raw), want)
	}
	return raw, nil
}

// Import adds a key from exported files. With only a public key it writes
// only <id>.pub (list does not show it, but verification falls back to it);
// with a private key it writes both files after checking they are a pair.
// It refuses to overwrite a different existing key.
func (s *Store) Import(pubPath, privPath, id string) (string, error) {
	if id == "" {
		id = ImportID(pubPath)
	}
	if err := ValidID(id); err != nil {
		return "", err
	}
	pub, err := readB64File(pubPath, "public key", ed25519.PublicKeySize)
	if err != nil {
		return "", err
	}
	if privPath != "" {
		seed, err := readB64File(privPath, "private key", ed25519.SeedSize)
		if err != nil {
			return "", err
		}
		derived := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		if !bytes.Equal(derived, pub) {
			return "", exit.Bad("import the .pub.b64 and .key.b64 exported together", "private key %s does not belong to public key %s", privPath, pubPath)
		}
		if s.Exists(id) {
			if have, err := s.LoadPublic(id); err == nil && bytes.Equal(have, pub) {
				return id, nil // already imported
			}
		}
		if fileExists(s.pubPath(id)) && !fileExists(s.keyPath(id)) {
			// A public-only import of the same key is completed by its seed.
			if have, err := s.LoadPublic(id); err != nil || !bytes.Equal(have, pub) {
				return "", exit.Bad("pick another id with --signer", "signer %q already has a different public key in %s", id, s.Dir)
			}
			if err := os.Remove(s.pubPath(id)); err != nil {
				return "", fmt.Errorf("replace public key: %w", err)
			}
		}
		if _, err := s.Write(id, seed); err != nil {
			return "", err
		}
		return id, nil
	}
	if fileExists(s.pubPath(id)) {
		if have, err := s.LoadPublic(id); err == nil && bytes.Equal(have, pub) {
			return id, nil
		}
		return "", exit.Bad("pick another id with --signer", "signer %q already exists in %s with a different key", id, s.Dir)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", fmt.Errorf("create keystore: %w", err)
	}
	if err := fsutil.WriteFileAtomic(s.pubPath(id), pub, 0o644); err != nil {
		return "", fmt.Errorf("write public key: %w", err)
	}
	return id, nil
}

// Delete removes a signer's key files (and the active-signer pointer when it
// names it). Removing a key that does not exist is bad input.
func (s *Store) Delete(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	found := false
	for _, p := range []string{s.keyPath(id), s.pubPath(id)} {
		err := os.Remove(p)
		if err == nil {
			found = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", p, err)
		}
	}
	if !found {
		return exit.Bad("list keys with 'assay key list'", "no signer %q in %s", id, s.Dir)
	}
	if b, err := os.ReadFile(s.activePath()); err == nil && strings.TrimSpace(string(b)) == id {
		if err := os.Remove(s.activePath()); err != nil {
			return fmt.Errorf("clear active signer: %w", err)
		}
	}
	return nil
}
