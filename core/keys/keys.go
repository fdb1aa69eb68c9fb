// Package keys is the Ed25519 keystore, laid out as the reference's:
// <home>/keys/<id>.key (raw 32-byte seed, 0600), <id>.pub (raw 32 bytes),
// and .active_signer naming the signer that builds use.
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/internal/lazyre"
)

// DefaultSigner is the signer id used when none is configured.
const DefaultSigner = "assay-local"

var idPattern = lazyre.New(`^[A-Za-z0-9._-]+$`)

// ValidID reports whether id is a usable signer id.
func ValidID(id string) error {
	if !idPattern().MatchString(id) || strings.HasPrefix(id, ".") {
		return exit.Bad("use letters, digits, '.', '_' or '-', not starting with '.'", "invalid signer id %q", id)
	}
	return nil
}

// Store is a keystore directory.
type Store struct{ Dir string }

// Open returns the keystore under an assay home directory.
func Open(home string) *Store { return &Store{Dir: filepath.Join(home, "keys")} }

// Signer is a loaded private key.
type Signer struct {
	ID      string
	Private ed25519.PrivateKey
}

// Public returns the raw 32-byte public key.
func (s *Signer) Public() ed25519.PublicKey { return s.Private.Public().(ed25519.PublicKey) }

// Sign signs msg with pure Ed25519.
func (s *Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.Private, msg) }

// Fingerprint is sha256hex of the raw public key.
func Fingerprint(pub []byte) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:])
}

// PubB64 is the standard base64 (padded) of the raw public key, as the
// manifest's signer_pubkey.
func PubB64(pub []byte) string { return base64.StdEncoding.EncodeToString(pub) }

// DecodeB64 decodes a manifest's base64 field (signer_pubkey, signature)
// strictly: standard alphabet, padded, zero padding bits, and nothing else
// (no whitespace or newlines, which Go's decoder would otherwise skip, nor
// other characters, which Python's would). Each value has exactly one
// encoding, so every command that reads a pack decodes it alike.
func DecodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' {
			return nil, fmt.Errorf("base64 text contains a line break at offset %d", i)
		}
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

func (s *Store) keyPath(id string) string { return filepath.Join(s.Dir, id+".key") }
func (s *Store) pubPath(id string) string { return filepath.Join(s.Dir, id+".pub") }

// KeyPath and PubPath name a signer's files.
func (s *Store) KeyPath(id string) string { return s.keyPath(id) }
func (s *Store) PubPath(id string) string { return s.pubPath(id) }

// Exists reports whether both key files of id exist.
func (s *Store) Exists(id string) bool {
	return fileExists(s.keyPath(id)) && fileExists(s.pubPath(id))
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// ErrExists is returned when generating over an existing key.
var ErrExists = errors.New("signer already exists")

// Generate creates a new key pair for id. It refuses to overwrite.
func (s *Store) Generate(id string) (*Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return s.Write(id, priv.Seed())
}

// Write stores a key pair from a 32-byte seed, refusing to overwrite.
func (s *Store) Write(id string, seed []byte) (*Signer, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, exit.Bad("a private key is a 32-byte Ed25519 seed", "private key for %q has %d bytes", id, len(seed))
	}
	if fileExists(s.keyPath(id)) {
		return nil, &exit.Error{Code: exit.BadInput, Msg: fmt.Sprintf("signer %q already exists in %s", id, s.Dir), Fix: "pick another id or use the existing key", Err: ErrExists}
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keystore: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if err := fsutil.WriteFileAtomic(s.keyPath(id), seed, 0o600); err != nil {
		return nil, fmt.Errorf("write private key: %w", err)
	}
	if err := fsutil.WriteFileAtomic(s.pubPath(id), priv.Public().(ed25519.PublicKey), 0o644); err != nil {
		return nil, fmt.Errorf("write public key: %w", err)
	}
	return &Signer{ID: id, Private: priv}, nil
}

// Load reads the private key of id.
func (s *Store) Load(id string) (*Signer, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	seed, err := os.ReadFile(s.keyPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, exit.Bad("create it with 'assay key generate "+id+"'", "no signing key %q in %s", id, s.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read signing key %q: %w", id, err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, exit.Bad("the .key file must hold a raw 32-byte Ed25519 seed", "signing key %q is %d bytes", id, len(seed))
	}
	return &Signer{ID: id, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// LoadPublic reads the public key of id (the .pub file).
func (s *Store) LoadPublic(id string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(s.pubPath(id))
	if err != nil {
		return nil, err
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q is %d bytes, want 32", id, len(b))
	}
	return b, nil
}

// List returns the signer ids that have both key files, sorted.
func (s *Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".key")
		if ok && ValidID(id) == nil && s.Exists(id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func (s *Store) activePath() string { return filepath.Join(s.Dir, ".active_signer") }

// Active returns the signer builds use: the .active_signer file if that key
// exists, else assay-local if it exists, else the alphabetically first
// complete signer, else assay-local.
func (s *Store) Active() string {
	if b, err := os.ReadFile(s.activePath()); err == nil {
		id := strings.TrimSpace(string(b))
		if ValidID(id) == nil && s.Exists(id) {
			return id
		}
	}
	if s.Exists(DefaultSigner) {
		return DefaultSigner
	}
	if ids, _ := s.List(); len(ids) > 0 {
		return ids[0]
	}
	return DefaultSigner
}

// SetActive makes id the active signer; the key must exist.
func (s *Store) SetActive(id string) error {
	if err := ValidID(id); err != nil {
		return err
	}
	if !s.Exists(id) {
		return exit.Bad("list keys with 'assay key list'", "no signer %q in %s", id, s.Dir)
	}
	return fsutil.WriteFileAtomic(s.activePath(), []byte(id+"\n"), 0o644)
}

// ActiveSigner loads the active signer, generating it first when it is
// missing and generate is true. The bool reports whether a key was made.
func (s *Store) ActiveSigner(generate bool) (*Signer, bool, error) {
	id := s.Active()
	if s.Exists(id) {
		sg, err := s.Load(id)
		return sg, false, err
	}
	if !generate {
		return nil, false, exit.Bad("create one with 'assay key generate'", "no signing key %q in %s", id, s.Dir)
	}
	sg, err := s.Generate(id)
	if err != nil {
		return nil, false, err
	}
	return sg, true, nil
}
