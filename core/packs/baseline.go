package packs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/assay-dev/assay/core/exit"
	"github.com/assay-dev/assay/core/fsutil"
)

// BaselineFile is where the baseline is recorded, relative to the working
// directory, as the reference does.
const BaselineFile = ".assay/baseline.json"

// Baseline is the content of .assay/baseline.json.
type Baseline struct {
	PackPath string `json:"pack_path"`
}

// BaselinePath returns the baseline file under the directory wd.
func BaselinePath(wd string) string { return filepath.Join(wd, filepath.FromSlash(BaselineFile)) }

// SetBaseline records pack as the baseline under wd (atomically). The pack
// must be a directory with a manifest; the stored path is absolute so the
// baseline still resolves from subdirectories.
func SetBaseline(wd, pack string) (*Baseline, error) {
	if err := Check(pack); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(pack)
	if err != nil {
		return nil, exit.Bad("give the pack directory", "cannot resolve %s: %v", pack, err)
	}
	b := &Baseline{PackPath: abs}
	data, _ := json.MarshalIndent(b, "", "  ")
	path := BaselinePath(wd)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, exit.Bad("check that the working directory is writable", "cannot create %s: %v", filepath.Dir(path), err)
	}
	if err := fsutil.WriteFileAtomic(path, append(data, '\n'), 0o644); err != nil {
		return nil, exit.Bad("check that the working directory is writable", "cannot write %s: %v", path, err)
	}
	return b, nil
}

// ErrNoBaseline is returned by GetBaseline when no baseline is set.
var ErrNoBaseline = errors.New("no baseline set")

// GetBaseline reads the baseline under wd. No file gives an exit-3 error
// wrapping ErrNoBaseline; a malformed file is bad input too.
func GetBaseline(wd string) (*Baseline, error) {
	path := BaselinePath(wd)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &exit.Error{Code: exit.BadInput, Msg: "no baseline set (" + BaselineFile + " not found)", Fix: "set one with 'assay baseline set PACK'", Err: ErrNoBaseline}
	}
	if err != nil {
		return nil, exit.Bad("check the file's permissions", "cannot read %s: %v", path, err)
	}
	var b Baseline
	if err := json.Unmarshal(raw, &b); err != nil || strings.TrimSpace(b.PackPath) == "" {
		return nil, exit.Bad("reset it with 'assay baseline set PACK'", "%s is not a baseline file ({\"pack_path\": ...})", path)
	}
	if !filepath.IsAbs(b.PackPath) {
		// The reference may store a path relative to the working directory.
		b.PackPath = filepath.Join(wd, b.PackPath)
	}
	return &b, nil
}

// Previous returns the pack to compare pack against: the baseline under wd
// when one is set and it is not pack itself, else the newest (by mtime)
// proof_pack* sibling of pack. No candidate is bad input (exit 3).
func Previous(wd, pack string) (string, error) {
	if b, err := GetBaseline(wd); err == nil {
		if !sameDir(b.PackPath, pack) {
			if !IsPack(b.PackPath) {
				return "", exit.Bad("reset it with 'assay baseline set PACK'", "baseline %s is not a pack directory", b.PackPath)
			}
			return b.PackPath, nil
		}
	} else if !errors.Is(err, ErrNoBaseline) {
		return "", err
	}
	abs, err := filepath.Abs(pack)
	if err != nil {
		return "", exit.Bad("give the pack directory", "cannot resolve %s: %v", pack, err)
	}
	parent := filepath.Dir(abs)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return "", exit.Bad("check the path", "cannot read %s: %v", parent, err)
	}
	type cand struct {
		path string
		mod  int64
	}
	var cs []cand
	for _, e := range entries {
		p := filepath.Join(parent, e.Name())
		if !strings.HasPrefix(e.Name(), Prefix) || sameDir(p, abs) || !IsPack(p) {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		cs = append(cs, cand{p, st.ModTime().UnixNano()})
	}
	if len(cs) == 0 {
		return "", exit.Bad("set a baseline with 'assay baseline set PACK' or give two packs: 'assay diff A B'", "no baseline and no other proof_pack* directory next to %s", pack)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].mod != cs[j].mod {
			return cs[i].mod > cs[j].mod
		}
		return cs[i].path > cs[j].path
	})
	// "Previous" is the newest sibling not newer than pack itself; when pack
	// is older than all of them, the newest sibling.
	if st, err := os.Stat(abs); err == nil {
		for _, c := range cs {
			if c.mod <= st.ModTime().UnixNano() {
				return c.path, nil
			}
		}
	}
	return cs[0].path, nil
}
