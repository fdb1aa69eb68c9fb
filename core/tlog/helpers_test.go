package tlog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	fproof "github.com/transparency-dev/formats/proof"
	"golang.org/x/mod/sumdb/note"

	"github.com/assay-dev/assay/core/keys"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
)

// buildPack builds a real signed pack with one receipt under dir/name.
func buildPack(t testing.TB, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	r := &receipt.Receipt{}
	for _, kv := range [][2]any{{"receipt_id", "r-" + name}, {"type", "model_call"}, {"timestamp", "2026-01-15T11:59:00Z"}, {"seq", 0}, {"model_id", "m"}} {
		r.Set(kv[0].(string), kv[1])
	}
	s := &keys.Signer{ID: "tlog-test", Private: ed25519.NewKeyFromSeed(make([]byte, 32))}
	if _, err := pack.Build(pack.Options{RunID: "run-" + name, Receipts: []*receipt.Receipt{r}, Signer: s, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// anchorPacks appends the packs to the log in logDir and writes their anchors.
func anchorPacks(t testing.TB, logDir string, o AppendOptions, packs ...string) []*Proof {
	t.Helper()
	ctx := context.Background()
	leaves := make([][]byte, len(packs))
	for i, p := range packs {
		l, err := PackLeaf(p)
		if err != nil {
			t.Fatal(err)
		}
		leaves[i] = l.Bytes()
	}
	if o.BatchSize == 0 {
		o.BatchSize = uint(len(packs))
	}
	a, err := OpenAppender(ctx, logDir, o)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Append(ctx, leaves)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for i, p := range packs {
		if err := WriteAnchor(p, NewAnchor(ps[i], time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// cosigner is a witness key pair (Ed25519 cosignature, type 0x04).
type cosigner struct {
	name, vkey string
	signer     note.Signer
}

func newCosigner(t testing.TB, name string) cosigner {
	t.Helper()
	skey, vkey01, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := fnote.VKeyToCosignatureV1(vkey01)
	if err != nil {
		t.Fatal(err)
	}
	return cosigner{name: name, signer: s, vkey: vkey}
}

// cosign adds the cosigners' signatures to a checkpoint signed by logVKey,
// as a witness's add-checkpoint answer would.
func cosign(t testing.TB, cp []byte, logVKey string, cs ...cosigner) []byte {
	t.Helper()
	v, err := note.NewVerifier(logVKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(cp, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	var signers []note.Signer
	for _, c := range cs {
		signers = append(signers, c.signer)
	}
	out, err := note.Sign(n, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func policyText(threshold string, cs ...cosigner) string {
	var b strings.Builder
	names := []string{}
	for _, c := range cs {
		fmt.Fprintf(&b, "witness %s %s\n", c.name, c.vkey)
		names = append(names, c.name)
	}
	fmt.Fprintf(&b, "group g %s %s\nquorum g\n", threshold, strings.Join(names, " "))
	return b.String()
}

func writeFile(t testing.TB, p, s string) string {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// editAnchorTB cosigns the checkpoint in the pack's anchor.
func editAnchorTB(t testing.TB, dir, logVKey string, cs ...cosigner) {
	t.Helper()
	a, err := ReadAnchor(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tp fproof.TLogProof
	if err := tp.Unmarshal([]byte(a.TLogProof)); err != nil {
		t.Fatal(err)
	}
	tp.Checkpoint = cosign(t, tp.Checkpoint, logVKey, cs...)
	a.TLogProof = string(tp.Marshal())
	if err := WriteAnchor(dir, a); err != nil {
		t.Fatal(err)
	}
}
