package tools

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/assay-dev/assay/core/fsutil"
)

// Confinement of the files the tools read and write. resolve (roots.go)
// checks a path argument by name; what is then read or written goes
// through an os.Root opened on the allowed root that holds it, so a
// directory swapped for a link between the check and the use cannot lead
// out of the roots, and a pack is refused whole when any of its files
// links out of it.

// openRootFor opens the allowed root holding the resolved path p and
// returns p relative to it.
func (r *roots) openRootFor(p string) (*os.Root, string, error) {
	for _, d := range r.list() {
		if !within(d, p) {
			continue
		}
		rel, err := filepath.Rel(d, p)
		if err != nil {
			break
		}
		root, err := os.OpenRoot(d)
		if err != nil {
			return nil, "", fmt.Errorf("open root %s: %w", d, err)
		}
		return root, rel, nil
	}
	return nil, "", Failf("path %s is outside the allowed roots", p)
}

// PackPath resolves a pack argument (a directory or an audit bundle)
// inside the roots. A directory is refused (exit 3, nothing read) when it
// holds a file that links out of it or that is not a regular file, or
// when it cannot be reached from its root without leaving it.
func (c *Call) PackPath(ctx context.Context, p string) (string, error) {
	abs, err := c.Path(ctx, p)
	if err != nil {
		return "", err
	}
	root, rel, err := c.Server.roots.openRootFor(abs)
	if err != nil {
		return "", err
	}
	defer root.Close()
	st, err := root.Lstat(rel)
	if err != nil {
		if fsutil.IsOutside(err) {
			return "", Failf("path %q leads out of the allowed roots through a link; refused", p)
		}
		return abs, nil // the readers report a missing pack in their words
	}
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			return "", Failf("%s is not a regular file or a directory; refused (nothing read)", abs)
		}
		return abs, nil
	}
	if err := fsutil.CheckPackDir(abs); err != nil {
		return "", err
	}
	return abs, nil
}

// output is a file a tool writes, reached through its allowed root.
type output struct {
	root *os.Root
	rel  string // inside root
	path string // absolute, for messages and results
}

func (o *output) Close() { o.root.Close() }

// Output resolves an output path argument inside the roots, refuses an
// existing path, and creates its parent directories through the root.
// The caller writes with o.WriteNew and closes o.
func (c *Call) Output(ctx context.Context, p string) (*output, error) {
	abs, err := c.Path(ctx, p)
	if err != nil {
		return nil, err
	}
	root, rel, err := c.Server.roots.openRootFor(abs)
	if err != nil {
		return nil, err
	}
	o := &output{root: root, rel: rel, path: abs}
	if _, err := root.Lstat(rel); err == nil {
		o.Close()
		return nil, Failf("%s already exists; choose a new path (never overwritten)", abs)
	} else if fsutil.IsOutside(err) {
		o.Close()
		return nil, Failf("output %q leads out of the allowed roots through a link; refused", p)
	}
	if dir := filepath.Dir(rel); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			o.Close()
			if fsutil.IsOutside(err) {
				return nil, Failf("output %q leads out of the allowed roots through a link; refused", p)
			}
			return nil, fmt.Errorf("create %s: %w", filepath.Dir(abs), fsutil.Reason(err))
		}
	}
	return o, nil
}

// WriteNew writes data to the output atomically (temp file and link inside
// the root); an existing file, or a directory that now leads out of the
// root, is refused and nothing is written.
func (o *output) WriteNew(data []byte) error {
	err := fsutil.WriteNewIn(o.root, o.rel, data, 0o644)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return Failf("%s already exists; choose a new path (never overwritten)", o.path)
	case fsutil.IsOutside(err):
		return Failf("output %s leads out of the allowed roots through a link; refused, nothing written", o.path)
	}
	return fmt.Errorf("write %s: %w", o.path, err)
}

// sibling is another output next to o (same directory), e.g. a report's
// JSON sidecar; it shares o's root.
func (o *output) sibling(name string) *output {
	return &output{root: o.root, rel: filepath.Join(filepath.Dir(o.rel), name), path: filepath.Join(filepath.Dir(o.path), name)}
}

// openDirIn opens the resolved directory p as a root reached from its
// allowed root without leaving it.
func (c *Call) openDirIn(p string) (*os.Root, error) {
	root, rel, err := c.Server.roots.openRootFor(p)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	sub, err := root.OpenRoot(rel)
	if err != nil {
		if fsutil.IsOutside(err) {
			return nil, Failf("path %s leads out of the allowed roots through a link; refused", p)
		}
		return nil, Failf("cannot open %s: %v", p, fsutil.Reason(err))
	}
	return sub, nil
}

// maxGateFile caps a lock file or coverage contract read for verify-pack.
const maxGateFile = 64 << 20

// readFile reads the resolved path p through the allowed root holding it
// (for files verify.VerifyPath reads after the roots check: the lock file and
// the coverage contract), so a link swapped in after the check cannot
// lead the read out of the roots; FIFOs and devices are refused.
func (r *roots) readFile(p string) ([]byte, error) {
	root, rel, err := r.openRootFor(p)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := fsutil.ReadFileIn(root, rel, maxGateFile)
	if fsutil.IsOutside(err) {
		return nil, &os.PathError{Op: "read", Path: p, Err: errors.New("leads out of the allowed roots through a link; refused")}
	}
	return data, err
}
