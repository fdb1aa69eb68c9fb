// Package packs finds proof packs on disk and remembers the baseline pack
// (pack-format.md §9.5): `packs list` scans a directory for proof_pack*
// directories holding a manifest, `packs show` describes one pack, and the
// baseline file .assay/baseline.json {"pack_path"} names the pack that
// `diff --against-previous` compares against. Nothing here verifies a pack;
// it only reads manifests and counts lines.
package packs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
)

// Kernel file names (core/pack's).
const (
	manifestName = pack.FileManifest
	receiptsName = pack.FileReceipts
)

// Prefix is the name prefix of pack directories that list and
// --against-previous look for.
const Prefix = "proof_pack"

// Summary is one row of `packs list`.
type Summary struct {
	Path             string    `json:"path"`
	PackID           string    `json:"pack_id"`
	NReceipts        int64     `json:"n_receipts"`
	ReceiptIntegrity string    `json:"receipt_integrity"`
	ClaimCheck       string    `json:"claim_check"`
	SignerID         string    `json:"signer_id"`
	TimestampStart   string    `json:"timestamp_start"`
	IsBaseline       bool      `json:"is_baseline"`
	ModTime          time.Time `json:"mtime"`
	// Error is set when the manifest could not be read; the row is still
	// listed so a broken pack is not silently hidden.
	Error string `json:"error,omitempty"`
}

// IsPack reports whether dir is a directory holding a pack manifest.
func IsPack(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, manifestName))
	return err == nil && st.Mode().IsRegular()
}

// Open opens the pack directory (or audit bundle) at path, unverified
// (pack.Open). Missing directory or manifest is bad input (3); a manifest
// that is not a JSON object is tampering (2), as everywhere else
// (DECISIONS 6). A pack directory holding a file that links out of it (or
// a FIFO, a device) is refused before anything is read (exit 3). The
// caller closes the pack.
func Open(path string) (*pack.Pack, error) {
	if fsutil.IsDir(path) {
		if err := fsutil.CheckPackDir(path); err != nil {
			return nil, err
		}
	}
	p, err := pack.Open(path)
	if err != nil && exit.Code(err) == exit.Tampered {
		return nil, exit.New(exit.Tampered, "run 'assay verify-pack "+path+"' for details", "%s: %v", path, err)
	}
	return p, err
}

// Check reports whether path opens as a pack (Open's errors).
func Check(path string) error {
	p, err := Open(path)
	p.Close()
	return err
}

func summarize(dir string, baseline string) Summary {
	s := Summary{Path: dir}
	if st, err := os.Stat(dir); err == nil {
		s.ModTime = st.ModTime().UTC()
	}
	if baseline != "" && sameDir(dir, baseline) {
		s.IsBaseline = true
	}
	p, err := Open(dir)
	if err != nil {
		s.Error = err.Error()
		s.NReceipts = -1
		return s
	}
	defer p.Close()
	fill(&s, p.Manifest)
	return s
}

// SummaryOf is the list row for the pack at path (a directory or a
// storage URL) with the parsed manifest d.
func SummaryOf(path string, d *pack.Doc) Summary {
	s := Summary{Path: path}
	fill(&s, d)
	return s
}

func fill(s *Summary, d *pack.Doc) {
	a := d.Attestation
	s.PackID = d.PackID
	s.NReceipts = int64(a.NReceipts)
	s.ReceiptIntegrity = a.ReceiptIntegrity
	s.ClaimCheck = a.ClaimCheck
	s.SignerID = d.SignerID
	s.TimestampStart = a.TimestampStart
}

// List returns the packs under dir as Find finds them (by manifest, at
// any name, up to MaxFindDepth deep), newest first. baseline, when not
// empty, marks the row that is the baseline pack.
func List(dir, baseline string) ([]Summary, error) {
	found, err := Find(dir)
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, f := range found {
		s := summarize(f.Path, baseline)
		s.ModTime = f.ModTime
		out = append(out, s)
	}
	return out, nil
}

// FileRow is one file of a pack as `packs show` lists it.
type FileRow struct {
	Path         string `json:"path"`
	Bytes        int64  `json:"bytes"`
	ManifestHash string `json:"manifest_sha256,omitempty"`
	InManifest   bool   `json:"in_manifest"`
}

// Detail is what `packs show` prints: the manifest's main fields, the
// receipt line count on disk and the file table.
type Detail struct {
	Path              string    `json:"path"`
	PackID            string    `json:"pack_id"`
	RunID             string    `json:"run_id"`
	PackFormatVersion string    `json:"pack_format_version"`
	Mode              string    `json:"mode"`
	ReceiptIntegrity  string    `json:"receipt_integrity"`
	ClaimCheck        string    `json:"claim_check"`
	ClaimSetHash      string    `json:"claim_set_hash"`
	NReceipts         int64     `json:"n_receipts"`
	LinesOnDisk       int64     `json:"lines_on_disk"`
	TimestampStart    string    `json:"timestamp_start"`
	TimestampEnd      string    `json:"timestamp_end"`
	SignerID          string    `json:"signer_id"`
	SignerFingerprint string    `json:"signer_pubkey_sha256"`
	VerifierVersion   string    `json:"verifier_version"`
	PackRootSHA256    string    `json:"pack_root_sha256"`
	HeadHash          string    `json:"head_hash"`
	Files             []FileRow `json:"files"`
	ManifestOnlyFiles []string  `json:"missing_files"`
	ModTime           time.Time `json:"mtime"`
	IsBaseline        bool      `json:"is_baseline"`
	// Verified is always false: show reads the manifest without verifying
	// it, and Note says so.
	Verified bool   `json:"verified"`
	Note     string `json:"note"`
}

// UnverifiedNote is what packs show says of every pack it describes.
const UnverifiedNote = "Unverified: read from the manifest as it is; run 'assay verify-pack' to check it."

// ListNote is what packs list says of its rows.
const ListNote = "Unverified: each row is what the pack's manifest says; run 'assay verify-pack PACK' to check one."

// Show describes the pack in dir. It does not verify it: Detail.Verified
// is false and its Note says so.
func Show(dir, baseline string) (*Detail, error) {
	p, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	m, a := p.Manifest, p.Attestation()
	d := &Detail{
		Path:              dir,
		Note:              UnverifiedNote,
		PackID:            m.PackID,
		RunID:             a.RunID,
		PackFormatVersion: a.PackFormatVersion,
		Mode:              a.Mode,
		ReceiptIntegrity:  a.ReceiptIntegrity,
		ClaimCheck:        a.ClaimCheck,
		ClaimSetHash:      m.ClaimSetHash,
		NReceipts:         int64(a.NReceipts),
		TimestampStart:    a.TimestampStart,
		TimestampEnd:      a.TimestampEnd,
		SignerID:          m.SignerID,
		SignerFingerprint: m.SignerPubkeySHA256,
		VerifierVersion:   a.VerifierVersion,
		PackRootSHA256:    m.PackRootSHA256,
		HeadHash:          a.HeadHash,
		Files:             []FileRow{},
		ManifestOnlyFiles: []string{},
		IsBaseline:        baseline != "" && sameDir(dir, baseline),
	}
	if st, err := os.Stat(dir); err == nil {
		d.ModTime = st.ModTime().UTC()
	}
	d.LinesOnDisk, err = countLinesIn(p.Dir, receiptsName)
	if err != nil {
		d.LinesOnDisk = -1
	}
	listed := map[string]string{}
	for _, f := range m.Files {
		listed[f.Path] = f.SHA256
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(p.Dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(p.Dir, path)
		rel = filepath.ToSlash(rel)
		row := FileRow{Path: rel}
		if info, err := e.Info(); err == nil {
			row.Bytes = info.Size()
		}
		if h, ok := listed[rel]; ok {
			row.ManifestHash, row.InManifest = h, true
			seen[rel] = true
		}
		d.Files = append(d.Files, row)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list files of %s: %w", dir, err)
	}
	for p := range listed {
		if !seen[p] {
			d.ManifestOnlyFiles = append(d.ManifestOnlyFiles, p)
		}
	}
	sort.Strings(d.ManifestOnlyFiles)
	return d, nil
}

// CountLines counts the newline-terminated lines of a file (plus a final
// unterminated one), streaming.
func CountLines(path string) (int64, error) {
	return countLinesIn(filepath.Dir(path), filepath.Base(path))
}

// countLinesIn counts the lines of dir/name, read without following a link
// out of dir.
func countLinesIn(dir, name string) (int64, error) {
	f, err := fsutil.OpenConfined(dir, name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}

func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if aa == bb {
		return true
	}
	sa, err1 := os.Stat(aa)
	sb, err2 := os.Stat(bb)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
