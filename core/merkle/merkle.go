// Package merkle computes RFC 6962 Merkle tree roots and inclusion proofs
// over receipt lines (leaf = the line's bytes without its newline), the
// root every pack records in verify_report.json (DECISIONS 9). It is a thin
// layer over github.com/transparency-dev/merkle, which implements RFC 6962.
package merkle

import (
	"crypto"
	_ "crypto/sha256" // registers SHA-256 for rfc6962.New
	"encoding/hex"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Algorithm names the tree recipe recorded in packs.
const Algorithm = "rfc6962-sha256"

var hasher = rfc6962.New(crypto.SHA256)

// LeafHash returns SHA-256(0x00 || line).
func LeafHash(line []byte) []byte { return hasher.HashLeaf(line) }

// EmptyRoot is the root of a tree with no leaves: SHA-256 of nothing.
func EmptyRoot() []byte { return hasher.EmptyRoot() }

// Builder computes a root from leaf hashes appended in order, in O(log n)
// memory.
type Builder struct {
	r *compact.Range
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	f := &compact.RangeFactory{Hash: hasher.HashChildren}
	return &Builder{r: f.NewEmptyRange(0)}
}

// AddLeafHash appends one leaf hash.
func (b *Builder) AddLeafHash(h []byte) {
	_ = b.r.Append(h, nil) // only fails on a malformed range, which NewEmptyRange never is
}

// AddLine hashes a line as a leaf and appends it.
func (b *Builder) AddLine(line []byte) { b.AddLeafHash(LeafHash(line)) }

// Size returns the number of leaves so far.
func (b *Builder) Size() uint64 { return b.r.End() }

// Root returns the current root (EmptyRoot for no leaves).
func (b *Builder) Root() []byte {
	if b.r.End() == 0 {
		return EmptyRoot()
	}
	root, _ := b.r.GetRootHash(nil)
	return root
}

// RootHex returns Root as lowercase hex.
func (b *Builder) RootHex() string { return hex.EncodeToString(b.Root()) }

// Root computes the root over whole lines.
func Root(lines [][]byte) []byte {
	b := NewBuilder()
	for _, l := range lines {
		b.AddLine(l)
	}
	return b.Root()
}

// InclusionProof returns the RFC 6962 audit path for leaf index in the tree
// of the given leaf hashes.
func InclusionProof(leafHashes [][]byte, index uint64) ([][]byte, error) {
	n := uint64(len(leafHashes))
	if index >= n {
		return nil, fmt.Errorf("leaf index %d out of range for tree of size %d", index, n)
	}
	return path(index, leafHashes), nil
}

// path is RFC 6962 §2.1.1 PATH(m, D[n]).
func path(m uint64, d [][]byte) [][]byte {
	n := uint64(len(d))
	if n == 1 {
		return nil
	}
	k := largestPow2Below(n)
	if m < k {
		return append(path(m, d[:k]), subtreeRoot(d[k:]))
	}
	return append(path(m-k, d[k:]), subtreeRoot(d[:k]))
}

func subtreeRoot(d [][]byte) []byte {
	if len(d) == 1 {
		return d[0]
	}
	k := largestPow2Below(uint64(len(d)))
	return hasher.HashChildren(subtreeRoot(d[:k]), subtreeRoot(d[k:]))
}

// largestPow2Below returns the largest power of two strictly less than n (n > 1).
func largestPow2Below(n uint64) uint64 {
	k := uint64(1)
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// VerifyInclusion checks that leafHash sits at index in a tree of size
// whose root is root.
func VerifyInclusion(index, size uint64, leafHash []byte, auditPath [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, index, size, leafHash, auditPath, root)
}
