package packs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/assay-dev/assay/core/exit"
)

// The pack finder: packs are recognised by their manifest, never by their
// directory name, so the packs that run, proof-pack, the demos and the MCP
// server leave are all found, whatever -o said. One finder serves
// `verify-pack --latest`, `packs list`, doctor and the flows.

// MaxFindDepth bounds how deep Find looks below its root (root's children
// are depth 1): deep enough for .assay/mcp/packs/<pack> and
// demo/<name>/<pack>, shallow enough to stay quick in a large checkout.
const MaxFindDepth = 4

// skipDirs are never searched: dependency trees and VCS data hold no packs
// of ours and can be huge.
var skipDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, "node_modules": true, "__pycache__": true,
	".venv": true, "venv": true, ".tox": true, ".mypy_cache": true, ".pytest_cache": true,
	"vendor": true, "site-packages": true, "_unsigned": true,
}

// Found is one pack the finder saw.
type Found struct {
	// Path is root joined with the pack's relative path.
	Path string `json:"path"`
	// ModTime is the pack directory's modification time (what packs list
	// and diff --against-previous sort by).
	ModTime time.Time `json:"mtime"`
}

// Find returns the packs under root (root itself included), newest first, ties by path. A pack's own subdirectories are not searched, symbolic
// links are not followed, hidden directories other than .assay are skipped,
// and unreadable directories are passed over. A root that is missing or not
// a directory is bad input.
func Find(root string) ([]Found, error) {
	st, err := os.Stat(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, exit.Bad("check the directory path", "directory not found: %s", root)
		}
		return nil, exit.Bad("give a readable directory", "cannot read %s: %v", root, err)
	}
	if !st.IsDir() {
		return nil, exit.Bad("give the directory that holds the packs", "%s is not a directory", root)
	}
	out := []Found{}
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if manifestIsFile(dir) {
			f := Found{Path: dir}
			if st, err := os.Stat(dir); err == nil {
				f.ModTime = st.ModTime().UTC()
			}
			out = append(out, f)
			return
		}
		if depth >= MaxFindDepth {
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			name := e.Name()
			// ReadDir reports a symlink as a symlink, not a directory.
			if !e.IsDir() || skipDirs[name] || (strings.HasPrefix(name, ".") && name != ".assay") {
				continue
			}
			walk(filepath.Join(dir, name), depth+1)
		}
	}
	walk(root, 0)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].ModTime.Equal(out[j].ModTime) {
			return out[i].ModTime.After(out[j].ModTime)
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// manifestIsFile reports whether dir holds a manifest entry that is not a
// directory. A link is not followed here, but it still marks a pack: the
// readers refuse it with an error, so a pack is never silently hidden.
func manifestIsFile(dir string) bool {
	fi, err := os.Lstat(filepath.Join(dir, manifestName))
	return err == nil && !fi.IsDir()
}

// Latest returns the newest pack under root, or bad input naming how to
// make one when there is none.
func Latest(root string) (string, error) {
	found, err := Find(root)
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		return "", exit.Bad("make one with 'assay run -c receipt_completeness -- python3 app.py' (or 'assay demo-incident -o incident'), or name a directory with --dir", "no proof pack (a directory with pack_manifest.json) under %s", root)
	}
	return found[0].Path, nil
}
