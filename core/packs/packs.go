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
	"strings"
	"time"

	"github.com/assay-dev/assay/core/canon"
	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
)

// Kernel file names (the same as core/pack's; kept here so listing packs
// does not need the builder).
const (
	manifestName = "pack_manifest.json"
	receiptsName = "receipt_pack.jsonl"
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

// ReadManifest decodes dir's pack_manifest.json. Missing directory or
// manifest is bad input (3); a manifest that is not a JSON object is
// tampering (2), as everywhere else (DECISIONS 6).
// A pack holding a file that links out of it (or a FIFO, a device) is
// refused before anything is read (exit 3).
func ReadManifest(dir string) (*canon.Object, error) {
	if fsutil.IsDir(dir) {
		if err := fsutil.CheckPackDir(dir); err != nil {
			return nil, err
		}
	}
	obj, _, err := pack.ReadManifest(dir)
	if err != nil && exit.Code(err) == exit.Tampered {
		return nil, exit.New(exit.Tampered, "run 'assay verify-pack "+dir+"' for details", "%s: %v", dir, err)
	}
	return obj, err
}

// Str returns the string at a dotted path in obj ("attestation.mode"), or "".
func Str(obj *canon.Object, path string) string {
	v := Get(obj, path)
	s, _ := v.(string)
	return s
}

// Int returns the integer at a dotted path in obj, or -1.
func Int(obj *canon.Object, path string) int64 {
	n, ok := Get(obj, path).(canon.Number)
	if !ok || !n.IsInt() {
		return -1
	}
	var v int64
	if _, err := fmt.Sscan(string(n), &v); err != nil {
		return -1
	}
	return v
}

// Get returns the value at a dotted path in obj, or nil.
func Get(obj *canon.Object, path string) any {
	var cur any = obj
	for _, k := range strings.Split(path, ".") {
		o, ok := cur.(*canon.Object)
		if !ok || o == nil {
			return nil
		}
		cur, _ = o.Get(k)
	}
	return cur
}

func summarize(dir string, baseline string) Summary {
	s := Summary{Path: dir}
	if st, err := os.Stat(dir); err == nil {
		s.ModTime = st.ModTime().UTC()
	}
	if baseline != "" && sameDir(dir, baseline) {
		s.IsBaseline = true
	}
	m, err := ReadManifest(dir)
	if err != nil {
		s.Error = err.Error()
		s.NReceipts = -1
		return s
	}
	fill(&s, m)
	return s
}

// SummaryOf is the list row for the pack at path (a directory or a
// storage URL) with the decoded manifest m.
func SummaryOf(path string, m *canon.Object) Summary {
	s := Summary{Path: path}
	fill(&s, m)
	return s
}

func fill(s *Summary, m *canon.Object) {
	s.PackID = Str(m, "pack_id")
	s.NReceipts = Int(m, "attestation.n_receipts")
	s.ReceiptIntegrity = Str(m, "attestation.receipt_integrity")
	s.ClaimCheck = Str(m, "attestation.claim_check")
	s.SignerID = Str(m, "signer_id")
	s.TimestampStart = Str(m, "attestation.timestamp_start")
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
}

// Show describes the pack in dir. It does not verify it.
func Show(dir, baseline string) (*Detail, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	d := &Detail{
		Path:              dir,
		PackID:            Str(m, "pack_id"),
		RunID:             Str(m, "attestation.run_id"),
		PackFormatVersion: Str(m, "attestation.pack_format_version"),
		Mode:              Str(m, "attestation.mode"),
		ReceiptIntegrity:  Str(m, "attestation.receipt_integrity"),
		ClaimCheck:        Str(m, "attestation.claim_check"),
		ClaimSetHash:      Str(m, "claim_set_hash"),
		NReceipts:         Int(m, "attestation.n_receipts"),
		TimestampStart:    Str(m, "attestation.timestamp_start"),
		TimestampEnd:      Str(m, "attestation.timestamp_end"),
		SignerID:          Str(m, "signer_id"),
		SignerFingerprint: Str(m, "signer_pubkey_sha256"),
		VerifierVersion:   Str(m, "attestation.verifier_version"),
		PackRootSHA256:    Str(m, "pack_root_sha256"),
		HeadHash:          Str(m, "attestation.head_hash"),
		Files:             []FileRow{},
		ManifestOnlyFiles: []string{},
		IsBaseline:        baseline != "" && sameDir(dir, baseline),
	}
	if st, err := os.Stat(dir); err == nil {
		d.ModTime = st.ModTime().UTC()
	}
	d.LinesOnDisk, err = countLinesIn(dir, receiptsName)
	if err != nil {
		d.LinesOnDisk = -1
	}
	listed := map[string]string{}
	if files, ok := Get(m, "files").([]any); ok {
		for _, f := range files {
			if fo, ok := f.(*canon.Object); ok {
				listed[fo.String("path")] = fo.String("sha256")
			}
		}
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
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
