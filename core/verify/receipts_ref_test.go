// The streaming pass as the lead first wrote it (tree decode and
// canonicalization per receipt), kept verbatim as the reference the fast
// pass is checked against.

package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"io"
	"os"
	"slices"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/merkle"
	"github.com/assay-dev/assay/core/receipt"
)

// refScan is what one streaming pass over receipt_pack.jsonl learns:
// the whole-file hash, the receipts' integrity, the last receipt (for the
// head hash), the Merkle root over the lines, disallowed types and callsite
// ids. Memory stays bounded: the file is read in chunks and duplicate ids
// are found through 64-bit hashes, confirmed exactly on a collision.
type refScan struct {
	missing      bool
	readErr      error
	fileHash     string
	size         int64
	count        int
	parseErrLine int // first line that is not JSON (1-based), 0 if none
	blankLine    int // first whitespace-only line before any parse error
	integrityOK  bool
	last         *receipt.Receipt
	tree         *merkle.Builder
	badTypes     []badType
	callsites    []string
	types        map[string]int
}

const refChunkSize = 1 << 20

var refSeed = maphash.MakeSeed()

func scanReceiptsRef(path string) refScan {
	s := refScan{integrityOK: true, tree: merkle.NewBuilder(), types: map[string]int{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		s.missing = true
		return s
	}
	if err != nil {
		s.readErr = err
		return s
	}
	defer f.Close()
	h := sha256.New()
	var idHashes []uint64
	callsites := map[string]bool{}
	lineNo := 0
	var carry []byte
	buf := make([]byte, refChunkSize)
	handle := func(line []byte) {
		lineNo++
		s.tree.AddLine(line)
		if s.parseErrLine > 0 {
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if s.blankLine == 0 {
				s.blankLine = lineNo
			}
			return
		}
		v, err := canon.Decode(line)
		if err != nil {
			s.parseErrLine = lineNo
			s.integrityOK = false
			s.last = nil
			return
		}
		idx := s.count
		s.count++
		obj, ok := v.(*canon.Object)
		if !ok {
			s.integrityOK = false
			s.last = nil
			return
		}
		s.last = obj
		id, typ, ts := obj.String("receipt_id"), obj.String("type"), obj.String("timestamp")
		if typ == "" {
			typ = obj.String("receipt_type")
		}
		if id == "" || obj.String("type") == "" || ts == "" {
			s.integrityOK = false
		} else if _, ok := receipt.ParseTimestamp(ts); !ok {
			s.integrityOK = false
		}
		if _, err := strictDigest(obj); err != nil {
			s.integrityOK = false
		}
		idHashes = append(idHashes, maphash.String(refSeed, id))
		s.types[typ]++
		if !receipt.TypeAllowed(typ) {
			s.badTypes = append(s.badTypes, badType{idx, id, typ})
		}
		if c := obj.String("callsite_id"); c != "" && !callsites[c] {
			callsites[c] = true
			s.callsites = append(s.callsites, c)
		}
	}
	for {
		n, err := f.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			h.Write(chunk)
			s.size += int64(n)
			for {
				i := bytes.IndexByte(chunk, '\n')
				if i < 0 {
					carry = append(carry, chunk...)
					break
				}
				if len(carry) > 0 {
					carry = append(carry, chunk[:i]...)
					handle(carry)
					carry = carry[:0]
				} else {
					handle(chunk[:i])
				}
				chunk = chunk[i+1:]
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.readErr = err
			return s
		}
	}
	if len(carry) > 0 {
		handle(carry) // a final line without its newline
	}
	s.fileHash = hex.EncodeToString(h.Sum(nil))
	if s.parseErrLine == 0 && hasDuplicateRef(idHashes) && exactDuplicateRef(path) {
		s.integrityOK = false
	}
	return s
}

func hasDuplicateRef(hs []uint64) bool {
	slices.Sort(hs)
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			return true
		}
	}
	return false
}

// exactDuplicate confirms a hash collision by comparing the ids themselves;
// it runs only when two 64-bit id hashes are equal.
func exactDuplicateRef(path string) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	seen := map[string]bool{}
	for _, line := range bytes.Split(raw, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := canon.Decode(line)
		if err != nil {
			continue
		}
		obj, ok := v.(*canon.Object)
		if !ok {
			continue
		}
		id := obj.String("receipt_id")
		if seen[id] {
			return true
		}
		seen[id] = true
	}
	return false
}
