package recorder

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/seal"
	"github.com/assay-dev/assay/core/store"
)

// PackResult is a pack built from a seal.
type PackResult struct {
	*pack.Result
	Seal seal.Summary `json:"seal"`
}

// Altered reports whether the store no longer matched the seal.
func (p *PackResult) Altered() bool { return p.Seal.Status == seal.StatusAltered }

// BuildPack builds the pack of a sealed trace from what was sealed, not
// from the file: it reads the seal in sealDir (checking its certification
// against opt.Signer, its checkpoints and log), compares the trace file at
// tracePath with it, and packs the sealed lines (the originals, whatever
// the file holds now), then the receipts the seal does not reach (a
// recorder killed mid-run: the log past the last checkpoint, then the
// store past the log), counted as unsealed. The seal's Summary goes into
// verify_report.json and the log and checkpoints under _unsigned/seal/.
// The problems are unsealed store lines that are not receipts.
func BuildPack(sealDir, tracePath string, opt pack.Options) (*PackResult, []store.LineProblem, error) {
	if opt.Signer == nil {
		return nil, nil, exit.Bad("load or generate a key first", "no signer given")
	}
	sealed, err := seal.Open(sealDir, opt.Signer.Public())
	if err != nil {
		return nil, nil, exit.Wrap(exit.BadInput, err, "the seal is checked with the active signer, which must be the one that certified it ('assay key list' shows signers)")
	}
	if opt.RunID == "" {
		opt.RunID = sealed.Cert.RunID
	}
	if opt.RunID != sealed.Cert.RunID {
		return nil, nil, exit.Bad("pack the seal's own trace", "the seal in %s records run %s, not %s", sealDir, sealed.Cert.RunID, opt.RunID)
	}
	tmp, err := os.MkdirTemp("", "assay-seal-pack-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)

	covers := sealed.Last.TreeSize
	logPath := filepath.Join(sealDir, seal.FileLog)
	diff, err := compareFiles(logPath, tracePath, sealed.Entries)
	if err != nil {
		return nil, nil, err
	}
	// The trace to pack: sealed lines, then what the seal does not reach.
	combined := filepath.Join(tmp, "trace.jsonl")
	packLog := filepath.Join(tmp, seal.FileLog)
	logRef, unsealed, err := writeCombined(combined, packLog, logPath, tracePath, covers, diff.StoreLines, !sealed.Complete())
	if err != nil {
		return nil, nil, err
	}
	packCps := filepath.Join(tmp, seal.FileCheckpoints)
	cpRef, err := writeCheckpoints(packCps, sealed.Good)
	if err != nil {
		return nil, nil, err
	}
	logRef.Path, cpRef.Path = seal.PackLog, seal.PackCheckpoints

	alts := append(append(append([]seal.Alteration{}, sealed.Alterations...), sealed.Problems...), diff.Alterations...)
	total := len(sealed.Alterations) + len(sealed.Problems) + diff.Total
	if len(alts) > seal.MaxListed {
		alts = alts[:seal.MaxListed]
	}
	sum := seal.Summary{
		Format: seal.Format, Algorithm: seal.Algorithm, Covers: covers, Unsealed: unsealed,
		Complete: sealed.Last.Final, Cert: sealed.Cert, Checkpoint: sealed.Last,
		Log: logRef, Checkpoints: cpRef, Alterations: alts, AlterationsTotal: total,
	}
	switch {
	case total > 0:
		sum.Status = seal.StatusAltered
	case !sum.Complete:
		sum.Status = seal.StatusTruncated
	default:
		sum.Status = seal.StatusIntact
	}
	opt.ReportExtra = append(opt.ReportExtra, pack.ReportMember{Key: seal.ReportKey, Value: sum})
	opt.Unsigned = append(opt.Unsigned,
		pack.UnsignedFile{Name: "seal/" + seal.FileLog, Source: packLog},
		pack.UnsignedFile{Name: "seal/" + seal.FileCheckpoints, Source: packCps})
	res, probs, err := pack.BuildTrace(opt, combined)
	if err != nil {
		return nil, probs, err
	}
	return &PackResult{Result: res, Seal: sum}, probs, nil
}

func compareFiles(logPath, tracePath string, entries uint64) (seal.Diff, error) {
	lf, err := os.Open(logPath)
	if err != nil {
		return seal.Diff{}, fmt.Errorf("read the seal log: %w", err)
	}
	defer lf.Close()
	var sf io.Reader = bytes.NewReader(nil)
	if f, err := os.Open(tracePath); err == nil {
		defer f.Close()
		sf = f
	} else if !errors.Is(err, os.ErrNotExist) {
		return seal.Diff{}, fmt.Errorf("read the trace: %w", err)
	}
	return seal.Compare(lf, sf, entries), nil
}

// writeCombined writes the first covers lines of the seal log to packLog
// and to combined, then the rest of the log and the trace's lines after
// line storeLines to combined only. It returns packLog's reference and how
// many unsealed lines were added.
//
// A closed seal followed the file to its end: store lines it did not seal
// were refused (backdated) or are not receipts, so only the latter are
// passed on (for the builder to report). After a crash every later line
// is passed on, as unsealed.
func writeCombined(combined, packLog, logPath, tracePath string, covers, storeLines uint64, crashed bool) (seal.FileRef, int, error) {
	out, err := os.Create(combined)
	if err != nil {
		return seal.FileRef{}, 0, err
	}
	defer out.Close()
	pl, err := os.Create(packLog)
	if err != nil {
		return seal.FileRef{}, 0, err
	}
	defer pl.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	pw := bufio.NewWriterSize(pl, 1<<20)
	h := sha256.New()
	var size int64
	unsealed := 0
	var n uint64
	err = eachLine(logPath, func(line []byte) {
		n++
		bw.Write(line)
		bw.WriteByte('\n')
		if n <= covers {
			pw.Write(line)
			pw.WriteByte('\n')
			h.Write(line)
			h.Write([]byte{'\n'})
			size += int64(len(line)) + 1
		} else {
			unsealed++
		}
	})
	if err != nil {
		return seal.FileRef{}, 0, err
	}
	var m uint64
	err = eachLine(tracePath, func(line []byte) {
		m++
		if m <= storeLines {
			return
		}
		isReceipt := false
		if v, err := canon.Decode(line); err == nil {
			_, isReceipt = v.(*canon.Object)
		}
		if isReceipt && !crashed {
			return
		}
		bw.Write(line)
		bw.WriteByte('\n')
		// A line that is not a receipt is left out of the pack (and
		// reported); only receipts count as unsealed.
		if isReceipt {
			unsealed++
		}
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return seal.FileRef{}, 0, err
	}
	if err := bw.Flush(); err != nil {
		return seal.FileRef{}, 0, err
	}
	if err := pw.Flush(); err != nil {
		return seal.FileRef{}, 0, err
	}
	return seal.FileRef{SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: size}, unsealed, nil
}

// eachLine calls fn with each non-blank line of path (without newline).
// Blank lines are skipped, as the seal skips them.
func eachLine(path string, fn func([]byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return seal.EachLine(f, fn)
}

func writeCheckpoints(path string, cps []seal.Checkpoint) (seal.FileRef, error) {
	var b bytes.Buffer
	for _, cp := range cps {
		j, _ := json.Marshal(cp)
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return seal.FileRef{}, err
	}
	h := sha256.Sum256(b.Bytes())
	return seal.FileRef{SHA256: hex.EncodeToString(h[:]), Bytes: int64(b.Len())}, nil
}
