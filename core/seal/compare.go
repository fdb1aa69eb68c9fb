package seal

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// lines reads lines with a two-line lookahead, keeping only their hashes.
type lines struct {
	br    *bufio.Reader
	buf   [][32]byte
	eof   bool
	limit uint64 // lines still allowed to be read (^0: no limit)
}

func newLines(r io.Reader, limit uint64) *lines {
	return &lines{br: bufio.NewReaderSize(r, 1<<20), limit: limit}
}

// peek returns the hash of the k-th next line (k < 2).
func (l *lines) peek(k int) ([32]byte, bool) {
	for len(l.buf) <= k && !l.eof {
		if l.limit == 0 {
			l.eof = true
			break
		}
		line, err := readLine(l.br)
		if line != nil {
			l.buf = append(l.buf, sha256.Sum256(line))
			l.limit--
		}
		if err != nil {
			l.eof = true
		}
	}
	if len(l.buf) <= k {
		return [32]byte{}, false
	}
	return l.buf[k], true
}

func (l *lines) next() { l.buf = l.buf[1:] }

// Diff is what Compare found.
type Diff struct {
	Alterations []Alteration // the first MaxListed
	Total       int
	// StoreLines is how many store lines were matched against the seal;
	// the store lines after them are not sealed.
	StoreLines uint64
}

func (d *Diff) add(a Alteration) {
	d.Total++
	if len(d.Alterations) < MaxListed {
		d.Alterations = append(d.Alterations, a)
	}
}

// Compare reads the first n entries of a seal log and the store file they
// were sealed from, in order, and lists each difference: a sealed line
// changed, removed, or swapped with its neighbour, a line inserted among
// them, or the store cut short. Store lines after the last one matched are
// left alone (they are not sealed). Only hashes are held.
func Compare(sealLog, store io.Reader, n uint64) Diff {
	s := newLines(sealLog, n)
	f := newLines(store, ^uint64(0))
	var d Diff
	var entry, line uint64 // 1-based numbers of the current sealed entry and store line
	for {
		s0, ok := s.peek(0)
		if !ok {
			break
		}
		entry++
		f0, fok := f.peek(0)
		if !fok {
			rest := uint64(1)
			for s.next(); ; s.next() {
				if _, more := s.peek(0); !more {
					break
				}
				rest++
			}
			d.add(Alteration{Kind: "truncated", Entry: entry, Line: line + 1, Sealed: hex.EncodeToString(s0[:]),
				Detail: fmt.Sprintf("the store ends after line %d; %d sealed receipt(s) from sealed receipt %d on are gone", line, rest, entry)})
			break
		}
		line++
		if s0 == f0 {
			s.next()
			f.next()
			continue
		}
		s1, s1ok := s.peek(1)
		f1, f1ok := f.peek(1)
		switch {
		case s1ok && f1ok && s1 == f0 && s0 == f1:
			d.add(Alteration{Kind: "reordered", Entry: entry, Line: line, Sealed: hex.EncodeToString(s0[:]), Found: hex.EncodeToString(f0[:]),
				Detail: fmt.Sprintf("sealed receipts %d and %d are swapped in the store (lines %d and %d)", entry, entry+1, line, line+1)})
			s.next()
			s.next()
			f.next()
			f.next()
			entry++
			line++
		case s1ok && s1 == f0:
			d.add(Alteration{Kind: "removed", Entry: entry, Line: line, Sealed: hex.EncodeToString(s0[:]),
				Detail: fmt.Sprintf("sealed receipt %d is no longer in the store (expected at line %d)", entry, line)})
			s.next()
			line--
		case f1ok && s0 == f1:
			d.add(Alteration{Kind: "inserted", Line: line, Found: hex.EncodeToString(f0[:]),
				Detail: fmt.Sprintf("store line %d was inserted before sealed receipt %d", line, entry)})
			f.next()
			entry--
		default:
			d.add(Alteration{Kind: "changed", Entry: entry, Line: line, Sealed: hex.EncodeToString(s0[:]), Found: hex.EncodeToString(f0[:]),
				Detail: fmt.Sprintf("sealed receipt %d was changed in the store (line %d)", entry, line)})
			s.next()
			f.next()
		}
	}
	d.StoreLines = line
	return d
}
