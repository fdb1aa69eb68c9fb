// Package bundle makes and opens audit bundles (pack-format.md §9.4,
// DECISIONS 16): a .tar.gz holding a verified pack plus SIGNER_INFO.json,
// PACK_SUMMARY.md, VERIFY_INSTRUCTIONS.md and VERIFY_RESULT.json, which is
// what an auditor receives. Create refuses a tampered pack (exit 2) and
// writes atomically; Extract unpacks a bundle without ever writing outside
// its destination.
package bundle

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/pack"
	"github.com/assay-dev/assay/core/receipt"
	"github.com/assay-dev/assay/core/verify"
	"github.com/assay-dev/assay/core/version"
	"github.com/assay-dev/assay/internal/lazyre"
)

const manifestName = pack.FileManifest

// Names of the files the bundle adds at its root. Files with these names
// at the pack root are replaced by fresh copies, as the reference does.
// (core/pack names them: the verifier recognises them too.)
const (
	FileSignerInfo   = pack.BundleFileSignerInfo
	FileSummary      = pack.BundleFileSummary
	FileInstructions = pack.BundleFileInstructions
	FileResult       = pack.BundleFileResult
)

// Added reports whether name is one of the files a bundle adds at the pack
// root (not covered by the pack's signature).
func Added(name string) bool { return pack.BundleAdded(name) }

// Result describes a written bundle.
type Result struct {
	Path     string   `json:"path"`
	PackID   string   `json:"pack_id"`
	Verdict  string   `json:"verdict"`
	ExitCode int      `json:"verify_exit_code"`
	Files    []string `json:"files"`
	Bytes    int64    `json:"bytes"`
}

// SignerInfo is SIGNER_INFO.json.
type SignerInfo struct {
	SignerID           string `json:"signer_id"`
	SignerPubkey       string `json:"signer_pubkey"`
	SignerPubkeySHA256 string `json:"signer_pubkey_sha256"`
	SignatureAlg       string `json:"signature_alg"`
}

// DefaultName is audit_bundle_<pack_id>.tar.gz (pack ids are safe file
// names; anything else is replaced).
func DefaultName(packID string) string {
	return "audit_bundle_" + unsafeChars().ReplaceAllString(packID, "_") + ".tar.gz"
}

var unsafeChars = lazyre.New(`[^A-Za-z0-9._-]`)

// Create verifies the pack in dir and writes its audit bundle to out
// ("" for DefaultName in the working directory). A pack that fails
// integrity is refused with exit 2 and nothing is written; an honest
// failure (claims failed) is bundled, since that is evidence too, with
// the verdict verify-pack gives it (HONEST_FAIL, exit 1; DECISIONS 6).
func Create(dir, out string) (*Result, error) {
	return create(dir, out, func(out string, fill func(io.Writer) error) (int64, error) {
		return writeAtomic(out, fill)
	})
}

// CreateIn is Create writing the bundle to the new file name inside root
// (an MCP server's root): the write goes through root, so no link can
// redirect it, and an existing file is never replaced.
func CreateIn(dir string, root *os.Root, name string) (*Result, error) {
	return create(dir, filepath.Join(root.Name(), name), func(out string, fill func(io.Writer) error) (int64, error) {
		n, err := fsutil.WriteStreamIn(root, name, 0o644, true, fill)
		if errors.Is(err, fs.ErrExist) {
			return 0, exit.Bad("choose a new output path", "%s already exists", out)
		}
		if err != nil {
			return 0, exit.Bad("choose a writable output path inside the root", "cannot write %s: %v", out, fsutil.Reason(err))
		}
		return n, nil
	})
}

// NameFor is DefaultName of the pack at dir ("" when it cannot be read).
func NameFor(dir string) string {
	p, err := pack.OpenDir(dir)
	if err != nil {
		return ""
	}
	defer p.Close()
	return DefaultName(p.Manifest.PackID)
}

func create(dir, out string, write func(out string, fill func(io.Writer) error) (int64, error)) (*Result, error) {
	// A pack with a file linking out of it is refused before anything in
	// it is read (or echoed in an error).
	if fsutil.IsDir(dir) {
		if err := fsutil.CheckPackDir(dir); err != nil {
			return nil, err
		}
	}
	// Opened once: the bundle carries the files just verified, and the
	// added files describe them from the same read.
	p, err := pack.OpenDir(dir)
	var vr *verify.Result
	if err != nil {
		vr, err = verify.Unopened(dir, err, verify.Options{})
	} else {
		defer p.Close()
		vr, err = verify.VerifyPack(p, verify.Options{})
	}
	if err != nil {
		return nil, err
	}
	if vr.ExitCode == exit.Tampered {
		msg := "integrity check failed"
		if len(vr.Errors) > 0 {
			e := vr.Errors[0]
			msg = e.Code + " " + e.Field + ": " + e.Message
		}
		return nil, exit.New(exit.Tampered, "run 'assay verify-pack' on it for details; a tampered pack is never bundled", "pack %s failed verification: %s", dir, msg)
	}
	packID := p.Manifest.PackID
	if out == "" {
		out = DefaultName(packID)
	}
	if err := checkOutside(dir, out); err != nil {
		return nil, err
	}
	files, err := packFiles(dir)
	if err != nil {
		return nil, err
	}
	extra, err := extras(p, vr)
	if err != nil {
		return nil, err
	}
	res := &Result{Path: out, PackID: packID, Verdict: vr.Verdict, ExitCode: vr.ExitCode}
	for _, f := range files {
		res.Files = append(res.Files, f)
	}
	for _, n := range []string{FileSignerInfo, FileSummary, FileInstructions, FileResult} {
		res.Files = append(res.Files, n)
	}
	packRoot, err := os.OpenRoot(dir)
	if err != nil {
		return nil, exit.Bad("check the pack's permissions", "cannot read %s: %v", dir, fsutil.Reason(err))
	}
	defer packRoot.Close()
	n, err := write(out, func(w io.Writer) error { return writeTar(w, packRoot, files, extra) })
	if err != nil {
		return nil, err
	}
	res.Bytes = n
	return res, nil
}

// checkOutside refuses an output path inside the pack directory, which
// would change the pack it bundles.
func checkOutside(dir, out string) error {
	d, err1 := filepath.Abs(dir)
	o, err2 := filepath.Abs(out)
	if err1 != nil || err2 != nil {
		return exit.Bad("", "cannot resolve %s or %s", dir, out)
	}
	if rel, err := filepath.Rel(d, o); err == nil && !strings.HasPrefix(rel, "..") {
		return exit.Bad("write the bundle outside the pack directory (-o)", "bundle path %s is inside the pack %s", out, dir)
	}
	if fsutil.IsDir(out) {
		return exit.Bad("give a file name with -o, e.g. bundle.tar.gz", "%s is a directory", out)
	}
	return nil
}

// packFiles lists every regular file of the pack (slash paths, sorted),
// except root-level files named like the ones the bundle adds. Anything
// that is not a regular file or directory is refused: a bundle never
// carries links.
func packFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case d.Type().IsRegular():
			if !Added(rel) {
				out = append(out, rel)
			}
			return nil
		default:
			return exit.Bad("remove it from the pack; bundles carry regular files only", "pack file %s is not a regular file (%s)", rel, d.Type())
		}
	})
	if err != nil {
		if exit.Code(err) == exit.BadInput {
			if _, ok := err.(*exit.Error); ok {
				return nil, err
			}
		}
		return nil, exit.Bad("check the pack's permissions", "cannot list %s: %v", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

func extras(p *pack.Pack, vr *verify.Result) (map[string][]byte, error) {
	man := p.Manifest
	si := SignerInfo{
		SignerID:           man.SignerID,
		SignerPubkey:       man.SignerPubkey,
		SignerPubkeySHA256: man.SignerPubkeySHA256,
		SignatureAlg:       man.SignatureAlg,
	}
	sib, err := json.MarshalIndent(si, "", "  ")
	if err != nil {
		return nil, err
	}
	// VERIFY_RESULT.json is {"verified_at_bundle_time": true, ...the
	// verify result}, plus when and with what it was bundled.
	vb, err := json.Marshal(vr)
	if err != nil {
		return nil, fmt.Errorf("encode verify result: %w", err)
	}
	var vm map[string]any
	if err := json.Unmarshal(vb, &vm); err != nil {
		return nil, fmt.Errorf("encode verify result: %w", err)
	}
	vm["verified_at_bundle_time"] = true
	vm["bundled_at"] = receipt.Now()
	vm["bundled_by"] = "assay " + version.Version
	vrb, err := json.MarshalIndent(vm, "", "  ")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		FileSignerInfo:   append(sib, '\n'),
		FileSummary:      []byte(summary(p, vr)),
		FileInstructions: []byte(instructions(man, vr) + anchorInstructions(p.Dir)),
		FileResult:       append(vrb, '\n'),
	}, nil
}

func writeTar(w io.Writer, dir *os.Root, files []string, extra map[string][]byte) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	now := time.Now().UTC().Truncate(time.Second)
	dirs := map[string]bool{}
	for _, rel := range files {
		// Parent directories first, so any tar tool recreates them.
		parts := strings.Split(rel, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: now, Format: tar.FormatPAX}); err != nil {
					return err
				}
			}
		}
		if err := addFile(tw, dir, rel); err != nil {
			return err
		}
	}
	for _, name := range []string{FileSignerInfo, FileSummary, FileInstructions, FileResult} {
		data := extra[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: now, Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// addFile copies the pack file rel, read through the pack's root (no link
// out of it, no FIFO), with the size it had when opened.
func addFile(tw *tar.Writer, dir *os.Root, rel string) error {
	f, st, err := fsutil.OpenIn(dir, filepath.FromSlash(rel))
	if err != nil {
		return exit.Bad("bundles carry the pack's regular files only", "cannot read pack file %s: %v", rel, fsutil.Reason(err))
	}
	defer f.Close()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: st.Size(), ModTime: st.ModTime().UTC().Truncate(time.Second), Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, st.Size()); err != nil {
		return fmt.Errorf("bundle %s: %w", rel, err)
	}
	return nil
}

// writeAtomic streams into a temp file next to path, fsyncs and renames it
// into place, so a reader never sees a half-written bundle.
func writeAtomic(path string, fill func(io.Writer) error) (int64, error) {
	root, name, err := fsutil.OpenParent(path)
	if err != nil {
		return 0, exit.Bad("choose a writable -o path", "cannot write %s: %v", path, err)
	}
	defer root.Close()
	var fillErr error
	n, err := fsutil.WriteStreamIn(root, name, 0o644, false, func(w io.Writer) error {
		fillErr = fill(w)
		return fillErr
	})
	if fillErr != nil {
		return 0, fillErr
	}
	if err != nil {
		return 0, exit.Bad("choose a writable -o path", "cannot write %s: %v", path, err)
	}
	return n, nil
}
