package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/receipt"
)

// LineProblem is a store line that could not be read as a receipt. Readers
// report these loudly: evidence is never dropped in silence.
type LineProblem struct {
	Line int
	Err  string
}

// Read returns the receipts of a trace in file order, plus the lines that
// were not JSON objects. A trace with no file is a bad-input error.
func (s *Store) Read(traceID string) ([]*receipt.Receipt, []LineProblem, error) {
	path, err := s.TracePath(traceID)
	if err != nil {
		return nil, nil, err
	}
	return ReadFile(path)
}

// TracePath returns the file of a stored trace; a trace with no file is a
// bad-input error, as for Read.
func (s *Store) TracePath(traceID string) (string, error) {
	path, ok, err := s.Find(traceID)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", exit.Bad("traces are stored as <home>/<UTC date>/<trace_id>.jsonl; check the id (ASSAY_TRACE_ID of the run) and ASSAY_HOME", "no trace %q in %s", traceID, s.Home)
	}
	return path, nil
}

// ReadFile reads a JSONL trace file.
func ReadFile(path string) ([]*receipt.Receipt, []LineProblem, error) {
	var out []*receipt.Receipt
	probs, err := EachFile(path, func(r *receipt.Receipt) error {
		out = append(out, r)
		return nil
	})
	return out, probs, err
}

// EachFile calls fn with each receipt of a JSONL trace file in file order,
// one at a time (the file is never held whole), and returns the lines that
// were not JSON objects. An error of fn stops the reading and is returned.
func EachFile(path string, fn func(*receipt.Receipt) error) ([]LineProblem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, exit.Wrap(exit.BadInput, err, "")
	}
	defer f.Close()
	var probs []LineProblem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		v, err := canon.Decode(line)
		if err != nil {
			probs = append(probs, LineProblem{n, err.Error()})
			continue
		}
		obj, ok := v.(*canon.Object)
		if !ok {
			probs = append(probs, LineProblem{n, "not a JSON object"})
			continue
		}
		if err := fn(obj); err != nil {
			return probs, err
		}
	}
	if err := sc.Err(); err != nil {
		return probs, fmt.Errorf("read %s: %w", path, err)
	}
	return probs, nil
}

// TraceInfo describes one stored trace.
type TraceInfo struct {
	TraceID string `json:"trace_id"`
	Path    string `json:"path"`
	Bytes   int64  `json:"bytes"`
	ModTime string `json:"modified"`
}

// List returns the stored traces, newest first.
func (s *Store) List() ([]TraceInfo, error) {
	days, err := os.ReadDir(s.Home)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []TraceInfo
	for _, d := range days {
		if !d.IsDir() || !dayDir().MatchString(d.Name()) {
			continue
		}
		ents, _ := os.ReadDir(filepath.Join(s.Home, d.Name()))
		for _, e := range ents {
			id, ok := strings.CutSuffix(e.Name(), ".jsonl")
			if !ok || e.IsDir() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			out = append(out, TraceInfo{TraceID: id, Path: filepath.Join(s.Home, d.Name(), e.Name()), Bytes: info.Size(), ModTime: info.ModTime().UTC().Format("2006-01-02T15:04:05Z")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ModTime > out[j].ModTime })
	return out, nil
}
