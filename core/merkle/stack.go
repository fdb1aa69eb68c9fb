package merkle

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// LeafHasher computes leaf hashes into caller-owned arrays without
// allocating; one per goroutine.
type LeafHasher struct {
	h hash.Hash
}

// NewLeafHasher returns a LeafHasher.
func NewLeafHasher() *LeafHasher { return &LeafHasher{h: sha256.New()} }

var leafPrefix = []byte{0}

// Sum writes SHA-256(0x00 || line) into dst, as LeafHash does.
func (l *LeafHasher) Sum(dst *[32]byte, line []byte) {
	l.h.Reset()
	l.h.Write(leafPrefix)
	l.h.Write(line)
	l.h.Sum(dst[:0])
}

// Stack computes the same root as Builder from leaf hashes appended in
// order, keeping only the O(log n) perfect-subtree roots in fixed arrays, so
// appending never allocates.
type Stack struct {
	n     uint64
	nodes [64][32]byte
	depth int
	buf   [65]byte
}

// AddLeafHash appends one leaf hash.
func (s *Stack) AddLeafHash(h *[32]byte) {
	s.nodes[s.depth] = *h
	s.depth++
	// Each trailing one bit of the old size closes a perfect subtree.
	for n := s.n; n&1 == 1; n >>= 1 {
		s.depth--
		s.children(&s.nodes[s.depth-1], &s.nodes[s.depth-1], &s.nodes[s.depth])
	}
	s.n++
}

// children sets dst = SHA-256(0x01 || l || r).
func (s *Stack) children(dst, l, r *[32]byte) {
	s.buf[0] = 1
	copy(s.buf[1:33], l[:])
	copy(s.buf[33:], r[:])
	*dst = sha256.Sum256(s.buf[:])
}

// Size returns the number of leaves so far.
func (s *Stack) Size() uint64 { return s.n }

// Root returns the RFC 6962 root (EmptyRoot for no leaves).
func (s *Stack) Root() []byte {
	if s.depth == 0 {
		return EmptyRoot()
	}
	r := s.nodes[s.depth-1]
	for i := s.depth - 2; i >= 0; i-- {
		s.children(&r, &s.nodes[i], &r)
	}
	return r[:]
}

// RootHex returns Root as lowercase hex.
func (s *Stack) RootHex() string { return hex.EncodeToString(s.Root()) }
