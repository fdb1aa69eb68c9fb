package seal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/assay-dev/assay/core/merkle"
)

// maxLine bounds a line read from a seal or store file (as the store does).
const maxLine = 64 << 20

// Sealed is a seal read back from its directory (after the recorder closed
// it, or after it was killed).
type Sealed struct {
	Dir  string
	Cert Cert
	// Last is the last checkpoint whose signature and root check out;
	// Checkpoints counts them.
	Last        Checkpoint
	Checkpoints int
	Good        []Checkpoint // the checkpoints that hold, in order
	// Entries is how many lines log.jsonl holds (it may run past Last).
	Entries uint64
	// Problems are alterations of the seal itself (a checkpoint that does
	// not verify, a log that no longer matches its checkpoints); Alterations
	// are those the recorder recorded while the run was live.
	Problems    []Alteration
	Alterations []Alteration
}

// Complete reports whether the recorder closed the seal itself.
func (s *Sealed) Complete() bool { return s.Last.Final }

// Open reads a seal directory and checks it against itself: the
// certification (against signerPub when given), every checkpoint's
// signature and root over the log's prefix.
func Open(dir string, signerPub []byte) (*Sealed, error) {
	s := &Sealed{Dir: dir}
	cb, err := os.ReadFile(filepath.Join(dir, FileCert))
	if err != nil {
		return nil, fmt.Errorf("read the seal's certification: %w", err)
	}
	if err := json.Unmarshal(cb, &s.Cert); err != nil {
		return nil, fmt.Errorf("the seal's certification is not JSON: %w", err)
	}
	if signerPub != nil {
		if err := VerifyCert(s.Cert, s.Cert.RunID, signerPub); err != nil {
			return nil, fmt.Errorf("the seal's certification does not hold: %w", err)
		}
	}
	cps, err := readCheckpoints(filepath.Join(dir, FileCheckpoints))
	if err != nil {
		return nil, err
	}
	lf, err := os.Open(filepath.Join(dir, FileLog))
	if err != nil {
		return nil, fmt.Errorf("read the seal log: %w", err)
	}
	defer lf.Close()
	good, entries, probs := CheckLog(lf, cps, s.Cert)
	s.Entries, s.Problems = entries, probs
	s.Good = good
	for _, cp := range good {
		s.Last = cp
		s.Checkpoints++
	}
	s.Alterations, err = readAlterations(filepath.Join(dir, FileAlterations))
	if err != nil {
		return nil, err
	}
	if s.Last.Alterations > len(s.Alterations) {
		s.Problems = append(s.Problems, Alteration{Kind: "seal_log_altered",
			Detail: fmt.Sprintf("the last checkpoint counts %d alterations, %s holds %d", s.Last.Alterations, FileAlterations, len(s.Alterations))})
	}
	return s, nil
}

func readCheckpoints(path string) ([]Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the seal's checkpoints: %w", err)
	}
	defer f.Close()
	return ParseCheckpoints(f), nil
}

// ParseCheckpoints reads checkpoints.jsonl; a line that is not a
// checkpoint is returned as a zero Checkpoint (which fails its check).
func ParseCheckpoints(r io.Reader) []Checkpoint {
	var out []Checkpoint
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var cp Checkpoint
		_ = json.Unmarshal(line, &cp)
		out = append(out, cp)
	}
	return out
}

func readAlterations(path string) ([]Alteration, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the seal's alterations: %w", err)
	}
	defer f.Close()
	var out []Alteration
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var a Alteration
		if json.Unmarshal(sc.Bytes(), &a) == nil && a.Kind != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

// CheckLog streams a seal log and checks each checkpoint (in order of
// tree size) against the root of the log's prefix of that size and the run
// key. It returns the checkpoints that hold, the number of log entries, and
// a problem for each checkpoint that does not.
func CheckLog(log io.Reader, cps []Checkpoint, c Cert) (good []Checkpoint, entries uint64, probs []Alteration) {
	lc := newLogChecker(cps, c)
	br := bufio.NewReaderSize(log, 1<<20)
	for {
		line, err := readLine(br)
		if line != nil {
			lc.add(line)
		}
		if err != nil {
			break
		}
	}
	return lc.finish()
}

// logChecker grows the seal's Merkle tree line by line and checks each
// checkpoint when the tree reaches its size.
type logChecker struct {
	tree     merkle.Stack
	lh       *merkle.LeafHasher
	h        [32]byte
	cps      []Checkpoint
	i        int
	prevSize uint64
	c        Cert
	good     []Checkpoint
	probs    []Alteration
}

func newLogChecker(cps []Checkpoint, c Cert) *logChecker {
	lc := &logChecker{lh: merkle.NewLeafHasher(), cps: cps, c: c}
	lc.check()
	return lc
}

func (lc *logChecker) add(line []byte) {
	lc.lh.Sum(&lc.h, line)
	lc.tree.AddLeafHash(&lc.h)
	lc.check()
}

func (lc *logChecker) check() {
	for lc.i < len(lc.cps) && lc.cps[lc.i].TreeSize <= lc.tree.Size() {
		cp := lc.cps[lc.i]
		lc.i++
		n := lc.i
		if cp.TreeSize < lc.prevSize {
			lc.probs = append(lc.probs, Alteration{Kind: "seal_log_altered", Detail: fmt.Sprintf("checkpoint %d goes back from size %d to %d", n, lc.prevSize, cp.TreeSize)})
			continue
		}
		if cp.TreeSize != lc.tree.Size() {
			lc.probs = append(lc.probs, Alteration{Kind: "seal_log_altered", Detail: fmt.Sprintf("checkpoint %d (size %d) is out of order", n, cp.TreeSize)})
			continue
		}
		if err := VerifyCheckpoint(cp, lc.c); err != nil {
			lc.probs = append(lc.probs, Alteration{Kind: "seal_log_altered", Detail: fmt.Sprintf("checkpoint %d (size %d): %v", n, cp.TreeSize, err)})
			continue
		}
		if cp.Root != lc.tree.RootHex() {
			lc.probs = append(lc.probs, Alteration{Kind: "seal_log_altered", Detail: fmt.Sprintf("the seal log no longer matches checkpoint %d (size %d)", n, cp.TreeSize)})
			continue
		}
		lc.good = append(lc.good, cp)
		lc.prevSize = cp.TreeSize
	}
}

func (lc *logChecker) finish() ([]Checkpoint, uint64, []Alteration) {
	for ; lc.i < len(lc.cps); lc.i++ {
		lc.probs = append(lc.probs, Alteration{Kind: "seal_log_altered", Detail: fmt.Sprintf("checkpoint %d covers %d entries, the seal log holds %d", lc.i+1, lc.cps[lc.i].TreeSize, lc.tree.Size())})
	}
	return lc.good, lc.tree.Size(), lc.probs
}

// readLine returns the next line without its newline; a last line without
// one is returned too (with io.EOF). Blank lines are skipped.
func readLine(br *bufio.Reader) ([]byte, error) {
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A long line: gather it whole.
			buf := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull && len(buf) <= maxLine {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		line = bytes.TrimRight(line, "\n")
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		return line, err
	}
}

// EachLine calls fn with each non-blank line of r, without its newline,
// split exactly as the seal splits the store (on '\n' only).
func EachLine(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := readLine(br)
		if line != nil {
			fn(line)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
