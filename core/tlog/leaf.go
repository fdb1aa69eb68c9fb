// Package tlog anchors proof packs in a transparency log: it defines the log
// entry (the leaf) a pack commits to, appends it to a tessera tlog-tiles log
// (local POSIX directory or a team log over HTTP), writes the offline proof
// into the pack at _unsigned/anchor.json (DECISIONS 22) and verifies it:
// leaf, inclusion proof, log signature and witness cosignatures under a
// policy (docs/anchoring.md).
package tlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/assay-dev/assay/core/pack"
)

// LeafFormat is the first line of every leaf this package writes.
const LeafFormat = "assay-proofpack/v1"

// MaxEntry is the largest entry a tlog-tiles entry bundle can hold.
const MaxEntry = 65535

// packIDOK bounds what a pack id may contain in a leaf: one printable
// token of 1 to 256 bytes, so a crafted id cannot add lines to the leaf.
// (A plain loop: the regexp ^[\x21-\x7e]{1,256}$ cost about 2 ms and
// 180 KB at every start of the CLI, compiled at package init.)
func packIDOK(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// hex64 reports whether s is 64 lowercase hex digits.
func hex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Leaf is the parsed log entry of one pack.
type Leaf struct {
	PackID         string
	PackRootSHA256 string
	ManifestSHA256 string
}

// Bytes renders the leaf: four lines, each ending in "\n".
//
//	assay-proofpack/v1
//	pack_id <pack_id>
//	pack_root_sha256 <64 hex>
//	manifest_sha256 <64 hex of the pack_manifest.json bytes>
func (l Leaf) Bytes() []byte {
	return fmt.Appendf(nil, "%s\npack_id %s\npack_root_sha256 %s\nmanifest_sha256 %s\n", LeafFormat, l.PackID, l.PackRootSHA256, l.ManifestSHA256)
}

// LeafFromManifest derives the leaf from the exact bytes of a pack's
// pack_manifest.json. The manifest carries the hash of every kernel file
// (receipts included) and the pack signature, so its hash commits to the
// whole signed pack; pack_id and pack_root_sha256 make the leaf readable.
func LeafFromManifest(raw []byte) (Leaf, error) {
	m, err := pack.ParseManifest(raw)
	if err != nil {
		return Leaf{}, err
	}
	if !packIDOK(m.PackID) {
		return Leaf{}, fmt.Errorf("pack_manifest.json: pack_id %q is not one printable token", m.PackID)
	}
	if !hex64(m.PackRootSHA256) {
		return Leaf{}, fmt.Errorf("pack_manifest.json: pack_root_sha256 is not 64 lowercase hex digits")
	}
	h := sha256.Sum256(raw)
	return Leaf{PackID: m.PackID, PackRootSHA256: m.PackRootSHA256, ManifestSHA256: hex.EncodeToString(h[:])}, nil
}

// PackLeaf reads the manifest of the pack in dir and returns its leaf.
func PackLeaf(dir string) (Leaf, error) {
	p, err := pack.OpenDir(dir)
	if err != nil {
		return Leaf{}, err
	}
	defer p.Close()
	return LeafOf(p)
}

// LeafOf is the leaf of an opened pack, from the manifest bytes it read
// (the ones a verifier just checked, when it did).
func LeafOf(p *pack.Pack) (Leaf, error) { return LeafFromManifest(p.ManifestBytes) }

// ParseLeaf parses leaf bytes written by Bytes, refusing anything else
// (the team log accepts only leaves of this shape).
func ParseLeaf(b []byte) (Leaf, error) {
	if len(b) > 1024 {
		return Leaf{}, fmt.Errorf("leaf is %d bytes, more than an %s leaf can be", len(b), LeafFormat)
	}
	var l Leaf
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) != 5 || len(lines[4]) != 0 || string(lines[0]) != LeafFormat {
		return Leaf{}, fmt.Errorf("not an %s leaf", LeafFormat)
	}
	fields := []struct {
		key string
		dst *string
		ok  func(string) bool
	}{{"pack_id ", &l.PackID, packIDOK}, {"pack_root_sha256 ", &l.PackRootSHA256, hex64}, {"manifest_sha256 ", &l.ManifestSHA256, hex64}}
	for i, f := range fields {
		v, ok := bytes.CutPrefix(lines[i+1], []byte(f.key))
		if !ok || !f.ok(string(v)) {
			return Leaf{}, fmt.Errorf("%s leaf line %d is not %q followed by a valid value", LeafFormat, i+2, f.key)
		}
		*f.dst = string(v)
	}
	return l, nil
}
