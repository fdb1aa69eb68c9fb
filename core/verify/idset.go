package verify

// idSet is an open-addressing set of 64-bit receipt-id hashes. The merger
// fills it while workers are still scanning, so finding duplicate ids costs
// no serial sort at the end; equal hashes are kept for exact confirmation.
type idSet struct {
	slots    []uint64 // 0 marks an empty slot
	n        int
	zero     bool // the hash 0 itself was added
	collided []uint64
}

// reserve sizes the table for about n hashes, sparing the rehashing of
// growth (n is a guess; add still grows past it).
func (s *idSet) reserve(n int) {
	size := 1024
	for size < 2*n {
		size *= 2
	}
	if size > len(s.slots) && s.n == 0 {
		s.slots = make([]uint64, size)
	}
}

func (s *idSet) add(h uint64) {
	if h == 0 {
		if s.zero {
			s.collide(0)
		}
		s.zero = true
		return
	}
	if (s.n+1)*2 > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			s.n++
			return
		case h:
			s.collide(h)
			return
		}
	}
}

func (s *idSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(1024, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// collide keeps a colliding hash for exact confirmation, up to maxCollided
// of them: one true duplicate is enough to fail the pack.
func (s *idSet) collide(h uint64) {
	if len(s.collided) < maxCollided {
		s.collided = append(s.collided, h)
	}
}
