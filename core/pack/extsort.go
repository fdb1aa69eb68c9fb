package pack

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// sorter sorts byte records under a memory budget: records gather in one
// arena; when it is full they are sorted and spilled to a temporary run
// file; iteration k-way merges the runs with what is still in memory. A
// sorter fed records already in order never sorts.
type sorter struct {
	cmp    func(a, b []byte) int
	budget int
	dir    string

	arena  []byte
	spans  []span
	sorted bool // the in-memory records are in order
	runs   []*os.File
	n      int
}

type span struct{ off, n uint32 }

func newSorter(cmp func(a, b []byte) int, budget int, dir string) *sorter {
	return &sorter{cmp: cmp, budget: budget, dir: dir, sorted: true}
}

// add appends a copy of rec.
func (s *sorter) add(rec []byte) error {
	if s.arena == nil {
		// Sized once, never grown: growing would briefly hold the old and
		// the new array. Pages untouched stay unallocated.
		s.spans = make([]span, 0, max(16, s.budget/64))
		s.arena = make([]byte, 0, max(len(rec), s.budget-8*cap(s.spans)))
	}
	if (len(s.arena)+len(rec) > cap(s.arena) || len(s.spans) == cap(s.spans)) && len(s.spans) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if s.sorted && len(s.spans) > 0 && s.cmp(s.rec(len(s.spans)-1), rec) > 0 {
		s.sorted = false
	}
	s.spans = append(s.spans, span{uint32(len(s.arena)), uint32(len(rec))})
	s.arena = append(s.arena, rec...)
	s.n++
	return nil
}

func (s *sorter) rec(i int) []byte {
	sp := s.spans[i]
	return s.arena[sp.off : sp.off+sp.n]
}

func (s *sorter) sortMem() {
	if !s.sorted {
		slices.SortFunc(s.spans, func(a, b span) int {
			return s.cmp(s.arena[a.off:a.off+a.n], s.arena[b.off:b.off+b.n])
		})
		s.sorted = true
	}
}

// spill writes the in-memory records, sorted, to a new run file.
func (s *sorter) spill() error {
	s.sortMem()
	f, err := os.CreateTemp(s.dir, "assay-sort-*.run")
	if err != nil {
		return fmt.Errorf("sort spill: %w", err)
	}
	_ = os.Remove(f.Name()) // unlinked: nothing to clean up, even after a crash
	w := bufio.NewWriterSize(f, 256<<10)
	var lb [binary.MaxVarintLen64]byte
	for i := range s.spans {
		r := s.rec(i)
		w.Write(lb[:binary.PutUvarint(lb[:], uint64(len(r)))])
		w.Write(r)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("sort spill: %w", err)
	}
	s.runs = append(s.runs, f)
	s.arena, s.spans = s.arena[:0], s.spans[:0]
	return nil
}

// source is one sorted input of the merge.
type source struct {
	cur  []byte
	next func() ([]byte, error) // nil record at the end
}

type mergeHeap struct {
	srcs []*source
	cmp  func(a, b []byte) int
}

func (h *mergeHeap) Len() int           { return len(h.srcs) }
func (h *mergeHeap) Less(i, j int) bool { return h.cmp(h.srcs[i].cur, h.srcs[j].cur) < 0 }
func (h *mergeHeap) Swap(i, j int)      { h.srcs[i], h.srcs[j] = h.srcs[j], h.srcs[i] }
func (h *mergeHeap) Push(x any)         { h.srcs = append(h.srcs, x.(*source)) }
func (h *mergeHeap) Pop() any {
	x := h.srcs[len(h.srcs)-1]
	h.srcs = h.srcs[:len(h.srcs)-1]
	return x
}

// each calls fn with every record in order. The slice is valid only during
// the call. each may be called more than once.
func (s *sorter) each(fn func(rec []byte) error) error {
	s.sortMem()
	if len(s.runs) == 0 { // the common case: everything fit in memory
		for i := range s.spans {
			if err := fn(s.rec(i)); err != nil {
				return err
			}
		}
		return nil
	}
	h := &mergeHeap{cmp: s.cmp}
	for _, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r := bufio.NewReaderSize(f, 64<<10)
		var buf []byte
		src := &source{next: func() ([]byte, error) {
			n, err := binary.ReadUvarint(r)
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("sort run: %w", err)
			}
			buf = slices.Grow(buf[:0], int(n))[:n]
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, fmt.Errorf("sort run: %w", err)
			}
			return buf, nil
		}}
		h.srcs = append(h.srcs, src)
	}
	i := 0
	h.srcs = append(h.srcs, &source{next: func() ([]byte, error) {
		if i >= len(s.spans) {
			return nil, nil
		}
		i++
		return s.rec(i - 1), nil
	}})
	live := h.srcs[:0]
	for _, src := range h.srcs {
		rec, err := src.next()
		if err != nil {
			return err
		}
		if rec != nil {
			src.cur = rec
			live = append(live, src)
		}
	}
	h.srcs = live
	heap.Init(h)
	for h.Len() > 0 {
		src := h.srcs[0]
		if err := fn(src.cur); err != nil {
			return err
		}
		rec, err := src.next()
		if err != nil {
			return err
		}
		if rec == nil {
			heap.Pop(h)
			continue
		}
		src.cur = rec
		heap.Fix(h, 0)
	}
	return nil
}

// close releases the run files.
func (s *sorter) close() {
	for _, f := range s.runs {
		f.Close()
	}
	s.runs = nil
}

// compareBytes is the plain byte order.
func compareBytes(a, b []byte) int { return bytes.Compare(a, b) }
