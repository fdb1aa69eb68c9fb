// Package verifytest builds hostile packs for the verifier's tests and
// benchmarks. The embedded public key makes a pack self-certifying, so an
// attacker can sign anything with a key of their own: these packs are
// validly signed, and only the verifier's deeper checks (and its bounds)
// stand between them and a PASS.
package verifytest

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// Now is the build time of the packs (their timestamps lie around it).
var Now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// Attacker is the key the hostile packs are signed with.
var Attacker = &keys.Signer{ID: "attacker", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}

// Build writes an honest pack of n model_call receipts to dir, signed by s.
func Build(dir string, n int, s *keys.Signer) error {
	recs := make([]*receipt.Receipt, n)
	for i := range recs {
		r := &receipt.Receipt{}
		r.Set("receipt_id", fmt.Sprintf("r%06d", i))
		r.Set("type", "model_call")
		r.Set("timestamp", Now.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000000+00:00"))
		r.Set("seq", i)
		recs[i] = r
	}
	_, err := pack.Build(pack.Options{RunID: "run-1", Receipts: recs, Signer: s, OutDir: dir, Now: Now})
	return err
}

// Receipts describes the receipt file a hostile pack is given: Write
// streams it; Count, Integrity and Head are what the attestation will say
// (Head "" means the head hash of the last line Write wrote, computed by
// Reseal; for 0 receipts, the empty sentinel).
type Receipts struct {
	Write     func(w io.Writer) error
	Count     int
	Integrity string
	Head      string
	// Merkle recomputes the report's Merkle root over the new lines (it
	// holds every leaf hash in memory: leave it off for huge files).
	Merkle bool
}

// Replace gives the pack in dir a new receipt file and reseals it.
func Replace(dir string, rc Receipts, s *keys.Signer) error {
	p := filepath.Join(dir, pack.FileReceipts)
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := rc.Write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	head := rc.Head
	var leaves [][]byte
	if head == "" || rc.Merkle {
		last, hs, err := scanLines(p, rc.Merkle)
		if err != nil {
			return err
		}
		leaves = hs
		if head == "" {
			head = receipt.EmptyHeadHash
			if last != nil {
				v, err := canon.Decode(last)
				if err != nil {
					return err
				}
				if head, err = receipt.Digest(v.(*canon.Object)); err != nil {
					return err
				}
			}
		}
	}
	if rc.Merkle {
		b := merkle.NewBuilder()
		for _, h := range leaves {
			b.AddLeafHash(h)
		}
		if err := editReport(dir, func(m *canon.Object) {
			m.Set("root", b.RootHex())
			m.Set("tree_size", len(leaves))
		}); err != nil {
			return err
		}
	}
	return Reseal(dir, s, func(man, att *canon.Object) {
		man.Set("receipt_count_expected", rc.Count)
		att.Set("n_receipts", rc.Count)
		att.Set("receipt_integrity", rc.Integrity)
		att.Set("head_hash", head)
	})
}

func scanLines(p string, leaves bool) ([]byte, [][]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	var last []byte
	var hs [][]byte
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			last = append(last[:0], sc.Bytes()...)
		}
		if leaves {
			hs = append(hs, merkle.LeafHash(sc.Bytes()))
		}
	}
	return last, hs, sc.Err()
}

func editReport(dir string, edit func(m *canon.Object)) error {
	p := filepath.Join(dir, pack.FileReport)
	raw, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	v, err := canon.Decode(raw)
	if err != nil {
		return err
	}
	o := v.(*canon.Object)
	m, ok := o.Get("merkle")
	if !ok {
		return fmt.Errorf("%s records no merkle object", p)
	}
	edit(m.(*canon.Object))
	out, err := canon.Marshal(o)
	if err != nil {
		return err
	}
	return os.WriteFile(p, out, 0o644)
}

// Reseal plays the attacker after files changed: it rewrites the file
// hashes, lets edit adjust the manifest and attestation, recomputes the
// attestation hash and pack root, and signs with s (embedding s's key).
func Reseal(dir string, s *keys.Signer, edit func(man, att *canon.Object)) error {
	raw, err := os.ReadFile(filepath.Join(dir, pack.FileManifest))
	if err != nil {
		return err
	}
	v, err := canon.Decode(raw)
	if err != nil {
		return err
	}
	man := v.(*canon.Object)
	files, _ := man.Get("files")
	for _, f := range files.([]any) {
		fe := f.(*canon.Object)
		sum, n, err := hashFile(filepath.Join(dir, fe.String("path")))
		if err == nil {
			fe.Set("sha256", sum)
			fe.Set("bytes", n)
		}
	}
	a, _ := man.Get("attestation")
	att := a.(*canon.Object)
	pub := s.Private.Public().(ed25519.PublicKey)
	man.Set("signer_id", s.ID)
	man.Set("signer_pubkey", base64.StdEncoding.EncodeToString(pub))
	man.Set("signer_pubkey_sha256", keys.Fingerprint(pub))
	if edit != nil {
		edit(man, att)
	}
	h, err := pack.AttestationHash(att)
	if err != nil {
		return err
	}
	man.Set("attestation_sha256", h)
	man.Set("pack_root_sha256", h)
	msg, err := pack.SigningBytes(man)
	if err != nil {
		return err
	}
	sig := ed25519.Sign(s.Private, msg)
	man.Set("signature", base64.StdEncoding.EncodeToString(sig))
	out, err := canon.Marshal(man)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, pack.FileManifest), out, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, pack.FileSignature), sig, 0o644)
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// EmptyReceipts writes n receipts "{}": each fails the receipt checks (no
// id, type or timestamp) and has a type the allowlist refuses. The
// attestation honestly says FAIL, so every one of them reaches step 7.
func EmptyReceipts(n int) Receipts {
	return Receipts{Count: n, Integrity: "FAIL", Merkle: true, Write: func(w io.Writer) error {
		for i := 0; i < n; i++ {
			if _, err := io.WriteString(w, "{}\n"); err != nil {
				return err
			}
		}
		return nil
	}}
}

// Newlines writes size bytes of "\n": no receipts at all, attested as an
// empty pack (count 0, PASS, the empty head hash).
func Newlines(size int) Receipts {
	return Receipts{Count: 0, Integrity: "PASS", Head: receipt.EmptyHeadHash, Write: func(w io.Writer) error {
		buf := make([]byte, 1<<20)
		for i := range buf {
			buf[i] = '\n'
		}
		for size > 0 {
			n := min(size, len(buf))
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			size -= n
		}
		return nil
	}}
}

// ExpectedNames reseals the pack with n extra expected_files names.
func ExpectedNames(dir string, n int, s *keys.Signer) error {
	return Reseal(dir, s, func(man, _ *canon.Object) {
		exp, _ := man.Get("expected_files")
		list := exp.([]any)
		for i := 0; i < n; i++ {
			list = append(list, fmt.Sprintf("extra_%06d.json", i))
		}
		man.Set("expected_files", list)
	})
}
