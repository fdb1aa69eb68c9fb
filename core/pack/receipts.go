package pack

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// MaxReceiptLine bounds one line of receipt_pack.jsonl as readers hold it:
// a pack streams in memory bounded by its longest line, never its size.
const MaxReceiptLine = 64 << 20

// Receipts streams the lines of a pack's receipt file, one at a time:
//
//	it, err := p.Receipts()
//	defer it.Close()
//	for it.Next() { use(it.Line()) }
//	if err := it.Err(); err != nil { ... }
//
// Every line is yielded, blank ones too (a Merkle leaf is a line); the
// empty string after a final newline is not a line.
type Receipts struct {
	f    *os.File
	r    *bufio.Reader
	name string
	line []byte
	long []byte
	n    int
	err  error
	// pin, when set (PinnedReceipts), hashes the file as it is read and
	// is checked at its end.
	pin *pinned
}

// Receipts opens the pack's receipt file for streaming. Errors: the file is
// missing or unreadable, or refused (IsRefused: not a regular file).
func (p *Pack) Receipts() (*Receipts, error) {
	f, err := p.OpenFile(FileReceipts)
	if err != nil {
		if IsRefused(err) {
			return nil, err
		}
		return nil, exit.Bad("a proof pack holds "+FileReceipts, "cannot read %s in %s: %v", FileReceipts, p.Dir, fsutil.Reason(err))
	}
	return &Receipts{f: f, r: bufio.NewReaderSize(f, 1<<20), name: FileReceipts}, nil
}

// Next advances to the next line; false at the end or on an error.
func (it *Receipts) Next() bool {
	if it.err != nil || it.r == nil {
		return false
	}
	it.long = it.long[:0]
	for {
		chunk, err := it.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(it.long)+len(chunk) > MaxReceiptLine {
				it.err = exit.Bad("split the receipt, or verify the pack with 'assay verify-pack'", "%s line %d is longer than %d bytes", it.name, it.n+1, MaxReceiptLine)
				return false
			}
			it.long = append(it.long, chunk...)
			continue
		}
		line := chunk
		if len(it.long) > 0 {
			if len(it.long)+len(chunk) > MaxReceiptLine+1 {
				it.err = exit.Bad("split the receipt, or verify the pack with 'assay verify-pack'", "%s line %d is longer than %d bytes", it.name, it.n+1, MaxReceiptLine)
				return false
			}
			it.long = append(it.long, chunk...)
			line = it.long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			it.err = exit.Bad("check the file's permissions", "cannot read %s: %v", it.name, err)
			return false
		}
		if len(line) == 0 { // EOF right after a newline (or an empty file)
			it.r = nil
			it.err = it.atEnd()
			return false
		}
		if errors.Is(err, io.EOF) {
			it.r = nil // this unterminated line is the last
			it.err = it.atEnd()
		}
		it.line = bytes.TrimSuffix(line, []byte{'\n'})
		it.n++
		return true
	}
}

// atEnd checks the pin, when there is one, once the whole file is read.
func (it *Receipts) atEnd() error {
	if it.pin == nil {
		return nil
	}
	return it.pin.check()
}

// Tee writes every byte of the receipt file to w as it is read (to hash
// the very bytes the lines came from). Call it before the first Next.
func (it *Receipts) Tee(w io.Writer) {
	if it.n == 0 && it.f != nil {
		it.r = bufio.NewReaderSize(io.TeeReader(it.f, w), 1<<20)
	}
}

// Line is the current line without its newline; valid until Next.
func (it *Receipts) Line() []byte { return it.line }

// LineNo is the current line's 1-based number.
func (it *Receipts) LineNo() int { return it.n }

// Blank reports whether the current line holds only whitespace.
func (it *Receipts) Blank() bool { return len(bytes.TrimSpace(it.line)) == 0 }

// Object decodes the current line as a JSON object (nil, false when it is
// not one).
func (it *Receipts) Object() (*canon.Object, bool) {
	v, err := canon.Decode(it.line)
	if err != nil {
		return nil, false
	}
	o, ok := v.(*canon.Object)
	return o, ok
}

// Err is the error that stopped Next, if any.
func (it *Receipts) Err() error { return it.err }

// Close closes the receipt file.
func (it *Receipts) Close() error {
	if it.f == nil {
		return nil
	}
	err := it.f.Close()
	it.f = nil
	return err
}
