package patch

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
	"github.com/assay-dev/assay/core/scan/python"
)

func headerEnd(src []byte) (int, bool) { return python.HeaderEnd(src) }

// Checker compile-checks the written files; a non-nil error rolls back.
type Checker func(p *Plan) error

// Apply writes the plan: each modified file is first copied to
// <file>.assay.bak (kept if one exists, so undo returns to the original
// bytes), every write is atomic, then check runs; if it fails every file is
// put back exactly as it was and created files are removed.
func Apply(p *Plan, check Checker) error {
	var done []Change
	rollback := func() error {
		var errs []error
		for i := len(done) - 1; i >= 0; i-- {
			c := done[i]
			if c.Created {
				if err := os.Remove(c.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
				continue
			}
			if err := fsutil.WriteFileAtomic(c.Path, c.Old, mode(c.Path)); err != nil {
				errs = append(errs, err)
			}
			if c.backupMade {
				os.Remove(c.Path + BackupExt)
			}
		}
		return errors.Join(errs...)
	}
	for i := range p.Changes {
		c := p.Changes[i]
		if !c.Created {
			bak := c.Path + BackupExt
			if !fsutil.Exists(bak) {
				if err := fsutil.WriteFileAtomic(bak, c.Old, mode(c.Path)); err != nil {
					rollback()
					return exit.Bad("check the directory is writable", "cannot write backup %s: %v", bak, err)
				}
				c.backupMade = true
			}
		}
		if err := fsutil.WriteFileAtomic(c.Path, c.New, mode(c.Path)); err != nil {
			rollback()
			return exit.Bad("check the file is writable", "cannot write %s: %v", c.Rel, err)
		}
		done = append(done, c)
	}
	if check != nil {
		if err := check(p); err != nil {
			if rerr := rollback(); rerr != nil {
				return exit.New(exit.HonestFail, "restore from the .assay.bak files", "patched code did not compile (%v) and the rollback failed: %v", err, rerr)
			}
			return exit.New(exit.HonestFail, "nothing was changed; patch the file by hand or pass another --entrypoint", "patched code does not compile, rolled back: %v", err)
		}
	}
	return nil
}

func mode(path string) fs.FileMode {
	if st, err := os.Stat(path); err == nil {
		return st.Mode().Perm()
	}
	return 0o644
}

// CheckPython compiles every written .py file with python3 (no bytecode
// written); without python3 it falls back to our parser.
func CheckPython(p *Plan) error {
	py, err := exec.LookPath("python3")
	for _, c := range p.Changes {
		if !strings.HasSuffix(c.Path, ".py") {
			continue
		}
		if err != nil {
			src, rerr := os.ReadFile(c.Path)
			if rerr != nil {
				return rerr
			}
			if _, perr := python.Parse(src); perr != nil {
				return fmt.Errorf("%s: %v", c.Rel, perr)
			}
			continue
		}
		cmd := exec.Command(py, "-c", "import sys\nwith open(sys.argv[1], 'rb') as f: compile(f.read(), sys.argv[1], 'exec')", c.Path)
		var out bytes.Buffer
		cmd.Stderr, cmd.Stdout = &out, &out
		if err := cmd.Run(); err != nil {
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			return fmt.Errorf("%s: %s", c.Rel, lines[len(lines)-1])
		}
	}
	return nil
}

// Undo restores every <file>.assay.bak under root (or only the
// entrypoint's, when given) byte for byte, deletes the backups, and removes
// the capture shim beside each restored file. It returns the restored
// paths (relative).
func Undo(root, entrypoint string) ([]string, error) {
	baks, err := Backups(root, entrypoint)
	if err != nil {
		return nil, err
	}
	var restored []string
	for _, b := range baks {
		orig := strings.TrimSuffix(b, BackupExt)
		data, err := os.ReadFile(b)
		if err != nil {
			return restored, exit.Bad("check the file's permissions", "cannot read backup %s: %v", b, err)
		}
		if err := fsutil.WriteFileAtomic(orig, data, mode(orig)); err != nil {
			return restored, exit.Bad("check the file is writable", "cannot restore %s: %v", orig, err)
		}
		if err := os.Remove(b); err != nil {
			return restored, fmt.Errorf("remove backup %s: %w", b, err)
		}
		restored = append(restored, relTo(root, orig))
		removeOurs(filepath.Join(filepath.Dir(orig), ShimFile), ShimMarker)
		removeOurs(filepath.Join(filepath.Dir(orig), GoHelperFile), GoHelperMarker)
		removeNodeModules(filepath.Dir(orig))
	}
	return restored, nil
}

// Backups lists the <file>.assay.bak backups Undo would restore (absolute
// or root-joined paths), or an exit-1 error when there are none.
func Backups(root, entrypoint string) ([]string, error) {
	var baks []string
	if entrypoint != "" {
		rel, err := Confine(root, entrypoint)
		if err != nil {
			return nil, err
		}
		b := filepath.Join(root, rel) + BackupExt
		if fsutil.Exists(b) {
			baks = append(baks, b)
		}
	} else {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "__pycache__") {
				return fs.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, BackupExt) {
				baks = append(baks, p)
			}
			return nil
		})
	}
	if len(baks) == 0 {
		return nil, exit.New(exit.HonestFail, "nothing to undo", "no %s backup found under %s", BackupExt, root)
	}
	return baks, nil
}

// removeOurs deletes a generated file only if it carries our marker and no
// restored file still refers to it.
func removeOurs(path, marker string) {
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data, []byte(marker)) {
		return
	}
	os.Remove(path)
}
