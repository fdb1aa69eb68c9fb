package merkle

import (
	"errors"
	"fmt"
)

// Prover computes, in one pass over the leaf hashes in order, the root of a
// tree whose size is known in advance and the audit path of one leaf chosen
// while streaming, in O(log n) memory: the left siblings of the leaf are
// the perfect subtrees completed before it (a Stack holds them), and each
// right sibling is the root of a range of leaves after it.
type Prover struct {
	size  uint64
	all   Stack
	found bool
	index uint64
	left  [][32]byte // perfect subtrees before the leaf, largest first
	right []rightRange
	cur   int
}

type rightRange struct {
	start, end uint64
	st         Stack
	root       []byte
}

// NewProver returns a Prover for a tree of size leaves.
func NewProver(size uint64) *Prover { return &Prover{size: size} }

// Add appends the next leaf hash; target marks the leaf to prove (the first
// one marked wins).
func (p *Prover) Add(leafHash *[32]byte, target bool) {
	j := p.all.Size()
	if target && !p.found && j < p.size {
		p.found, p.index = true, j
		p.left = append([][32]byte(nil), p.all.nodes[:p.all.depth]...)
		for _, r := range pathRanges(j, 0, p.size) {
			if !r.left {
				p.right = append(p.right, rightRange{start: r.start, end: r.end})
			}
		}
	}
	p.all.AddLeafHash(leafHash)
	if p.found && j > p.index && p.cur < len(p.right) {
		r := &p.right[p.cur]
		r.st.AddLeafHash(leafHash)
		if j+1 == r.end {
			r.root = r.st.Root()
			p.cur++
		}
	}
}

// Size returns the number of leaves added.
func (p *Prover) Size() uint64 { return p.all.Size() }

// Found reports whether a leaf was marked, and its index.
func (p *Prover) Found() (uint64, bool) { return p.index, p.found }

// Root returns the root of the leaves added.
func (p *Prover) Root() []byte { return p.all.Root() }

// Path returns the audit path of the marked leaf (bottom-up, as
// InclusionProof). It fails unless exactly size leaves were added and one
// was marked.
func (p *Prover) Path() ([][]byte, error) {
	if p.all.Size() != p.size {
		return nil, fmt.Errorf("tree has %d leaves, expected %d", p.all.Size(), p.size)
	}
	if !p.found {
		return nil, errors.New("no leaf was marked")
	}
	rs := pathRanges(p.index, 0, p.size)
	out := make([][]byte, 0, len(rs))
	li, ri := len(p.left)-1, 0
	for _, r := range rs {
		if r.left {
			if li < 0 {
				return nil, errors.New("merkle: left siblings exhausted")
			}
			h := p.left[li]
			out = append(out, h[:])
			li--
			continue
		}
		if ri >= len(p.right) || p.right[ri].root == nil {
			return nil, errors.New("merkle: right sibling incomplete")
		}
		out = append(out, p.right[ri].root)
		ri++
	}
	return out, nil
}

type sibling struct {
	start, end uint64
	left       bool
}

// pathRanges lists the leaf ranges whose roots form PATH(m, D[lo:hi])
// (RFC 6962 §2.1.1), bottom-up.
func pathRanges(m, lo, hi uint64) []sibling {
	if hi-lo <= 1 {
		return nil
	}
	k := largestPow2Below(hi - lo)
	if m < lo+k {
		return append(pathRanges(m, lo, lo+k), sibling{lo + k, hi, false})
	}
	return append(pathRanges(m, lo+k, hi), sibling{lo, lo + k, true})
}
