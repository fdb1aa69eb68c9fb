package tlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fproof "github.com/transparency-dev/formats/proof"

	"github.com/assay-dev/assay/core/pack"
)

func mustVerify(t *testing.T, dir string, o VerifyOptions) *Verification {
	t.Helper()
	v, err := VerifyAnchor(dir, o)
	if err != nil {
		t.Fatalf("anchor of %s does not verify: %v", dir, err)
	}
	return v
}

func mustBeInvalid(t *testing.T, dir string, o VerifyOptions, want string) {
	t.Helper()
	_, err := VerifyAnchor(dir, o)
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("want an invalid anchor, got %v", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not mention %q", err, want)
	}
}

// editAnchor rewrites the pack's anchor through f.
func editAnchor(t *testing.T, dir string, f func(a *Anchor)) {
	t.Helper()
	a, err := ReadAnchor(dir)
	if err != nil {
		t.Fatal(err)
	}
	f(a)
	if err := WriteAnchor(dir, a); err != nil {
		t.Fatal(err)
	}
}

func TestAnchorRoundTripAndTamper(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	logDir := filepath.Join(tmp, "log")
	packs := []string{buildPack(t, tmp, "a"), buildPack(t, tmp, "b"), buildPack(t, tmp, "c")}
	ps := anchorPacks(t, logDir, AppendOptions{Origin: "test.example/log"}, packs...)
	vkeyRaw, _ := os.ReadFile(filepath.Join(logDir, FileLogVKey))
	vkey := strings.TrimSpace(string(vkeyRaw))
	pinned := VerifyOptions{LogKey: vkey}
	for i, p := range packs {
		v := mustVerify(t, p, pinned)
		if v.LeafIndex != ps[i].Index || v.TreeSize != 3 || v.Origin != "test.example/log" || !v.LogKeyPinned {
			t.Fatalf("pack %d: %+v", i, v)
		}
	}

	copyPack := func(name string) string {
		d := filepath.Join(tmp, name)
		if err := os.CopyFS(d, os.DirFS(packs[1])); err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Run("pack byte flipped", func(t *testing.T) {
		d := copyPack("flip-pack")
		m := filepath.Join(d, pack.FileManifest)
		b, _ := os.ReadFile(m)
		i := bytes.Index(b, []byte(`"pack_id"`)) + 15
		b[i] ^= 0x01
		os.WriteFile(m, b, 0o644)
		mustBeInvalid(t, d, pinned, "inclusion proof")
	})
	t.Run("proof hash flipped", func(t *testing.T) {
		d := copyPack("flip-proof")
		editAnchor(t, d, func(a *Anchor) {
			var tp fproof.TLogProof
			if err := tp.Unmarshal([]byte(a.TLogProof)); err != nil || len(tp.Hashes) == 0 {
				t.Fatalf("%v %d", err, len(tp.Hashes))
			}
			tp.Hashes[0][3] ^= 0x01
			a.TLogProof = string(tp.Marshal())
		})
		mustBeInvalid(t, d, pinned, "inclusion proof")
	})
	t.Run("checkpoint byte flipped", func(t *testing.T) {
		d := copyPack("flip-cp")
		editAnchor(t, d, func(a *Anchor) {
			// The root hash line of the checkpoint: one base64 character.
			lines := strings.Split(a.TLogProof, "\n")
			for i, l := range lines {
				if len(l) == 44 && strings.HasSuffix(l, "=") && i > 3 && lines[i-1] == "3" {
					lines[i] = flipB64(l)
					break
				}
			}
			a.TLogProof = strings.Join(lines, "\n")
		})
		mustBeInvalid(t, d, pinned, "checkpoint")
	})
	t.Run("checkpoint size changed", func(t *testing.T) {
		d := copyPack("flip-size")
		editAnchor(t, d, func(a *Anchor) { a.TLogProof = strings.Replace(a.TLogProof, "\n3\n", "\n4\n", 1) })
		mustBeInvalid(t, d, pinned, "checkpoint")
	})
	t.Run("index changed", func(t *testing.T) {
		d := copyPack("flip-index")
		editAnchor(t, d, func(a *Anchor) {
			to := (a.LeafIndex + 1) % 3
			a.TLogProof = strings.Replace(a.TLogProof, fmt.Sprintf("index %d\n", a.LeafIndex), fmt.Sprintf("index %d\n", to), 1)
			a.LeafIndex = to
		})
		mustBeInvalid(t, d, pinned, "inclusion proof")
	})
	t.Run("another log key pinned", func(t *testing.T) {
		other := filepath.Join(tmp, "other-log")
		k, err := OpenKeys(other, "test.example/log")
		if err != nil {
			t.Fatal(err)
		}
		mustBeInvalid(t, packs[0], VerifyOptions{LogKey: k.VKey}, "checkpoint")
	})
	t.Run("anchor re-signed by a forger, key not pinned", func(t *testing.T) {
		// Without a pinned key the anchor proves only "some log with the
		// key written in the pack": the result says so.
		v := mustVerify(t, packs[0], VerifyOptions{})
		if v.LogKeyPinned || !strings.Contains(v.Summary(), "not pinned") {
			t.Fatalf("%+v", v)
		}
	})
	t.Run("absent", func(t *testing.T) {
		d := buildPack(t, tmp, "bare")
		if _, err := VerifyAnchor(d, pinned); !errors.Is(err, ErrNoAnchor) {
			t.Fatalf("want ErrNoAnchor, got %v", err)
		}
	})
	t.Run("malformed anchor", func(t *testing.T) {
		d := copyPack("garbage")
		os.WriteFile(filepath.Join(d, filepath.FromSlash(AnchorFile)), []byte("{not json"), 0o644)
		mustBeInvalid(t, d, pinned, "not a valid anchor")
	})
}

// flipB64 changes one character of a base64 line, keeping it valid base64.
func flipB64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	b[0] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}
